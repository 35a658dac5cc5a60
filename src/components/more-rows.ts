import { html, nothing } from 'lit';
import '@material/web/button/text-button.js';

/**
 * Rows a long table renders at first, and adds each time "Show more" is chosen. A table of
 * 10,000 nodes would take seconds to render and lay out, and lay out again on every change of
 * the cluster; nobody reads 10,000 rows down a page.
 */
export const ROWS_PER_PAGE = 100;

/** The last row of a table that shows `shown` of `total`: how many, and a button for `step` more. */
export function moreRows(shown: number, total: number, noun: string, columns: number, step: number, onMore: () => void) {
  if (shown >= total) return nothing;
  return html`<tr class="more">
    <td colspan=${columns}>
      <span class="muted" role="status">Showing ${shown.toLocaleString('en')} of ${total.toLocaleString('en')} ${noun}.</span>
      <md-text-button @click=${onMore}>Show ${Math.min(step, total - shown).toLocaleString('en')} more</md-text-button>
    </td>
  </tr>`;
}
