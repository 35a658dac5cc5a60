import { css } from 'lit';

export const dialogStyles = css`
  md-dialog {
    max-width: min(32rem, calc(100vw - 32px));
    --md-dialog-headline-font: var(--yg-font, sans-serif);
    --md-dialog-supporting-text-font: var(--yg-font, sans-serif);
  }
  [slot='content'] {
    display: grid;
    gap: 16px;
    font-size: 0.875rem;
    line-height: 1.25rem;
  }
  p {
    margin: 0;
  }
  .error {
    padding: 12px 16px;
    border-radius: 12px;
    background: var(--md-sys-color-error-container, #ffdad6);
    color: var(--md-sys-color-on-error-container, #410002);
  }
  md-filled-button.danger {
    --md-filled-button-container-color: var(--md-sys-color-error, #ba1a1a);
    --md-filled-button-label-text-color: var(--md-sys-color-on-error, #ffffff);
    --md-filled-button-hover-label-text-color: var(--md-sys-color-on-error, #ffffff);
    --md-filled-button-focus-label-text-color: var(--md-sys-color-on-error, #ffffff);
    --md-filled-button-pressed-label-text-color: var(--md-sys-color-on-error, #ffffff);
  }
`;
