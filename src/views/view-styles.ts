import { css } from 'lit';

export const viewStyles = css`
  :host {
    display: block;
    font-family: var(--yg-font, sans-serif);
    color: var(--md-sys-color-on-surface, #191c20);
  }
  header {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 8px 12px;
    margin: 4px 0 20px;
  }
  header .grow {
    flex: 1;
  }
  h1 {
    margin: 0;
    font-size: 1.75rem;
    line-height: 2.25rem;
    font-weight: 400;
    overflow-wrap: anywhere;
  }
  h2 {
    margin: 32px 0 12px;
    font-size: 1.125rem;
    line-height: 1.5rem;
    font-weight: 500;
  }
  .card h2 {
    margin-top: 0;
  }
  .count {
    color: var(--md-sys-color-on-surface-variant, #43474e);
    font-size: 0.875rem;
  }
  a {
    color: var(--md-sys-color-primary, #36618e);
  }
  a:focus-visible {
    outline: 2px solid var(--md-sys-color-primary, #36618e);
    outline-offset: 2px;
    border-radius: 2px;
  }
  .card {
    padding: 16px;
    border-radius: var(--yg-radius, 12px);
    background: var(--yg-card-container, #f2f3fa);
    border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
    min-width: 0;
  }
  .crumbs {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 4px;
    margin: 0 0 8px;
    font-size: 0.875rem;
  }
  .crumbs a {
    text-decoration: none;
    font-weight: 500;
  }
  .crumbs a:hover {
    text-decoration: underline;
  }
  .crumbs .sep {
    color: var(--md-sys-color-on-surface-variant, #43474e);
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 8px;
  }
  .actions svg,
  md-filled-button svg,
  md-outlined-button svg,
  md-text-button svg,
  md-filled-tonal-button svg {
    width: 18px;
    height: 18px;
  }
  .state-page {
    padding: 48px 16px;
    text-align: center;
    color: var(--md-sys-color-on-surface-variant, #43474e);
  }
  .state-page strong {
    display: block;
    margin-bottom: 8px;
    font-size: 1.125rem;
    font-weight: 500;
    color: var(--md-sys-color-on-surface, #191c20);
  }
  .state-page md-linear-progress {
    max-width: 24rem;
    margin: 0 auto 16px;
  }
  .alert {
    margin: 0 0 16px;
    padding: 12px 16px;
    border-radius: 12px;
    background: var(--md-sys-color-error-container, #ffdad6);
    color: var(--md-sys-color-on-error-container, #410002);
    font-size: 0.875rem;
  }
  .notice {
    margin: 0 0 16px;
    padding: 12px 16px;
    border-radius: 12px;
    background: var(--yg-tone-warn-container, #ffe08b);
    color: var(--yg-tone-warn-on-container, #3a2c00);
    font-size: 0.875rem;
  }
  .notice strong,
  .alert strong {
    font-weight: 500;
  }
  dl.fields {
    display: grid;
    grid-template-columns: minmax(8rem, max-content) minmax(0, 1fr);
    gap: 8px 24px;
    margin: 0;
    font-size: 0.875rem;
    line-height: 1.25rem;
  }
  dl.fields dt {
    color: var(--md-sys-color-on-surface-variant, #43474e);
  }
  dl.fields dd {
    margin: 0;
    min-width: 0;
    overflow-wrap: anywhere;
  }
  .mono {
    font-family: var(--yg-font-mono, monospace);
    font-size: 0.8125rem;
  }
  .muted {
    color: var(--md-sys-color-on-surface-variant, #43474e);
  }
  pre.code {
    margin: 0;
    padding: 12px 16px;
    border-radius: var(--yg-radius, 12px);
    border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
    background: var(--yg-log-container, #f2f3fa);
    font: 0.8125rem/1.4 var(--yg-font-mono, monospace);
    overflow: auto;
    max-height: 70vh;
  }
  pre.code:focus-visible {
    outline: 2px solid var(--md-sys-color-primary, #36618e);
  }
  /* Tabs sit at the start over a full-width divider (md-tabs spreads its tabs over its width). */
  .tabbar {
    margin-bottom: 16px;
    border-bottom: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
  }
  .tabbar md-tabs {
    max-width: 32rem;
    --md-primary-tab-container-color: transparent;
  }
  .tabbar md-tabs::part(divider) {
    display: none;
  }
  @media (max-width: 599px) {
    dl.fields {
      grid-template-columns: minmax(0, 1fr);
      gap: 2px;
    }
    dl.fields dd {
      margin-bottom: 8px;
    }
    h1 {
      font-size: 1.5rem;
      line-height: 2rem;
    }
  }
`;
