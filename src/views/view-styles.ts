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
    align-items: baseline;
    gap: 4px 12px;
    margin: 4px 0 20px;
  }
  h1 {
    margin: 0;
    font-size: 1.75rem;
    line-height: 2.25rem;
    font-weight: 400;
  }
  h2 {
    margin: 32px 0 12px;
    font-size: 1.125rem;
    line-height: 1.5rem;
    font-weight: 500;
  }
  .count {
    color: var(--md-sys-color-on-surface-variant, #43474e);
    font-size: 0.875rem;
  }
  a {
    color: var(--md-sys-color-primary, #36618e);
  }
`;
