import { css } from 'lit';

/**
 * Shared by the data tables. Below 640 px of their own width (a container query, so a table in
 * a narrow column stacks too) rows become cards: one cell per line, labelled from data-label.
 */
export const tableStyles = css`
  :host {
    display: block;
    container-type: inline-size;
    color: var(--md-sys-color-on-surface, #191c20);
    font-family: var(--yg-font, sans-serif);
  }
  .frame {
    border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
    border-radius: var(--yg-radius, 12px);
    background: var(--yg-card-container, transparent);
    overflow-x: auto;
  }
  table {
    width: 100%;
    border-collapse: collapse;
    font-size: 0.875rem;
    line-height: 1.25rem;
  }
  th {
    text-align: start;
    font-size: 0.75rem;
    font-weight: 500;
    letter-spacing: 0.04em;
    color: var(--md-sys-color-on-surface-variant, #43474e);
    padding: 12px 16px;
    white-space: nowrap;
    border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
  }
  td {
    padding: 10px 16px;
    border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
    vertical-align: middle;
  }
  tbody tr:last-child td {
    border-bottom: 0;
  }
  tbody tr.row:hover {
    background: var(--yg-table-row-hover, rgba(0, 0, 0, 0.04));
  }
  .num {
    text-align: end;
    font-variant-numeric: tabular-nums;
    white-space: nowrap;
  }
  .muted {
    color: var(--md-sys-color-on-surface-variant, #43474e);
  }
  /* more-rows.ts: the last row of a long table */
  tr.more td {
    padding-block: 4px;
    text-align: center;
  }
  tr.more .muted {
    margin-inline-end: 8px;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  .mono {
    font-family: var(--yg-font-mono, monospace);
    font-size: 0.8125rem;
  }
  .link {
    font-weight: 500;
    color: var(--md-sys-color-primary, #36618e);
    text-decoration: none;
    border-radius: 4px;
  }
  /* Hostnames break at hyphens, which makes them hard to read; the table scrolls instead. */
  td.title,
  td .link {
    white-space: nowrap;
  }
  .link:hover {
    text-decoration: underline;
  }
  .link:focus-visible {
    outline: 2px solid var(--md-sys-color-primary, #36618e);
    outline-offset: 2px;
  }
  .message {
    padding: 32px 16px;
    text-align: center;
    color: var(--md-sys-color-on-surface-variant, #43474e);
  }
  .message strong {
    display: block;
    color: var(--md-sys-color-on-surface, #191c20);
    font-weight: 500;
    margin-bottom: 4px;
  }
  md-linear-progress {
    width: 100%;
    --md-linear-progress-active-indicator-color: var(--md-sys-color-primary, #36618e);
  }
  .usage {
    display: inline-grid;
    gap: 4px;
    min-width: 6.5rem;
  }
  .bar {
    justify-self: stretch;
    height: 4px;
    border-radius: 2px;
    background: var(--md-sys-color-surface-container-highest, #e0e2e8);
    overflow: hidden;
  }
  .bar > span {
    display: block;
    height: 100%;
    background: var(--md-sys-color-primary, #36618e);
  }

  @container (max-width: 639px) {
    thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip-path: inset(50%);
      white-space: nowrap;
    }
    table,
    tbody,
    tr,
    td {
      display: block;
    }
    tr.row {
      padding: 12px 16px;
      border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
    }
    tbody tr.row:last-child {
      border-bottom: 0;
    }
    tr.row td {
      display: flex;
      justify-content: space-between;
      align-items: center;
      gap: 16px;
      padding: 4px 0;
      border: 0;
      text-align: end;
    }
    tr.row td[data-label]::before {
      content: attr(data-label);
      flex: none;
      text-align: start;
      font-size: 0.75rem;
      font-weight: 500;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    tr.row td.title {
      font-size: 1rem;
      padding-bottom: 8px;
    }
    td.title,
    td .link {
      white-space: normal;
      overflow-wrap: anywhere;
    }
    .usage {
      justify-items: end;
    }
  }
`;
