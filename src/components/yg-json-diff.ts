import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { memoize } from '../state/memo.js';
import { diffLines, stableJson } from './line-diff.js';
import type { DiffLine } from './line-diff.js';

/** Unchanged lines kept around each change; longer unchanged runs fold. */
const CONTEXT = 3;

/**
 * Two JSON documents as a unified line diff. Added and removed lines carry a sign as well as a
 * colour, and are announced as such.
 */
@customElement('yg-json-diff')
export class YgJsonDiff extends LitElement {
  static override styles = css`
    :host {
      display: block;
      min-width: 0;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .summary {
      margin: 0 0 8px;
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .diff {
      margin: 0;
      padding: 8px 0;
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      border-radius: var(--yg-radius, 12px);
      background: var(--yg-log-container, #f2f3fa);
      font: 0.8125rem/1.4 var(--yg-font-mono, monospace);
      overflow-x: auto;
    }
    .line {
      display: grid;
      grid-template-columns: 3rem 3rem 1.5rem max-content;
      white-space: pre;
    }
    .n {
      text-align: end;
      padding-inline-end: 8px;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      user-select: none;
    }
    .sign {
      text-align: center;
      user-select: none;
    }
    .added {
      background: var(--yg-diff-added-container, #d3f2d3);
      color: var(--yg-diff-added-on-container, #0b3914);
    }
    .removed {
      background: var(--yg-diff-removed-container, #ffe0dc);
      color: var(--yg-diff-removed-on-container, #410002);
    }
    .added .n,
    .removed .n {
      color: inherit;
    }
    .fold {
      padding: 2px 0 2px 7.5rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      font-family: var(--yg-font, sans-serif);
      font-size: 0.75rem;
    }
    .visually-hidden {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
    }
  `;

  @property({ attribute: false }) oldValue: unknown;
  @property({ attribute: false }) newValue: unknown;
  @property() beforeLabel = 'before';
  @property() afterLabel = 'after';

  readonly #diff = memoize((a: unknown, b: unknown) => diffLines(stableJson(a), stableJson(b)));

  override render() {
    const lines = this.#diff(this.oldValue, this.newValue);
    const added = lines.filter((l) => l.op === 'added').length;
    const removed = lines.filter((l) => l.op === 'removed').length;
    if (added === 0 && removed === 0) {
      return html`<p class="summary">${this.beforeLabel} and ${this.afterLabel} are the same.</p>`;
    }
    return html`<p class="summary">
        From ${this.beforeLabel} to ${this.afterLabel}: ${added} ${added === 1 ? 'line' : 'lines'} added,
        ${removed} removed.
      </p>
      <div class="diff" role="region" aria-label=${`Changes from ${this.beforeLabel} to ${this.afterLabel}`} tabindex="0">
        ${fold(lines).map((item) =>
          'skipped' in item
            ? html`<div class="fold">⋯ ${item.skipped} unchanged ${item.skipped === 1 ? 'line' : 'lines'}</div>`
            : html`<div class="line ${item.op}">
                <span class="n">${item.oldLine ?? ''}</span><span class="n">${item.newLine ?? ''}</span
                ><span class="sign" aria-hidden="true">${item.op === 'added' ? '+' : item.op === 'removed' ? '−' : ' '}</span
                ><span
                  >${item.op === 'same' ? nothing : html`<span class="visually-hidden">${item.op}: </span>`}${item.text}</span
                >
              </div>`,
        )}
      </div>`;
  }
}

function fold(lines: DiffLine[]): Array<DiffLine | { skipped: number }> {
  const keep = lines.map(() => false);
  lines.forEach((line, i) => {
    if (line.op === 'same') return;
    for (let k = Math.max(0, i - CONTEXT); k <= Math.min(lines.length - 1, i + CONTEXT); k++) keep[k] = true;
  });
  const out: Array<DiffLine | { skipped: number }> = [];
  let skipped = 0;
  lines.forEach((line, i) => {
    if (keep[i]) {
      if (skipped) out.push({ skipped });
      skipped = 0;
      out.push(line);
    } else skipped++;
  });
  if (skipped) out.push({ skipped });
  return out;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-json-diff': YgJsonDiff;
  }
}
