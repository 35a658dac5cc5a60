import { html } from 'lit';
import { formatAgo, formatDateTime } from './format.js';

/** "3 min ago", with the absolute time in the title and a machine-readable datetime. */
export function timeAgo(at: number | undefined, now: number) {
  if (at === undefined || !Number.isFinite(at)) return html`<span class="muted">—</span>`;
  return html`<time datetime=${new Date(at).toISOString()} title=${formatDateTime(at)}>${formatAgo(at, now)}</time>`;
}
