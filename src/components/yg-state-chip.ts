import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { styleMap } from 'lit/directives/style-map.js';
import type { Tone } from './states.js';

/**
 * A non-interactive status label. Colour comes from tokens: `--yg-state-<token>-*` when the
 * theme defines one for this exact state, else the tone's `--yg-tone-<tone>-*`. The text
 * always says the state, so colour is never the only cue.
 */
@customElement('yg-state-chip')
export class YgStateChip extends LitElement {
  static override styles = css`
    :host {
      display: inline-flex;
      vertical-align: middle;
    }
    span {
      display: inline-flex;
      align-items: center;
      gap: 6px;
      box-sizing: border-box;
      height: 24px;
      padding: 0 10px;
      border-radius: 8px;
      background: var(--_container);
      color: var(--_on-container);
      font: 500 0.75rem/1rem var(--yg-font, inherit);
      letter-spacing: 0.04em;
      white-space: nowrap;
    }
    span::before {
      content: '';
      width: 6px;
      height: 6px;
      border-radius: 50%;
      background: currentColor;
    }
  `;

  @property({ reflect: true }) tone: Tone = 'neutral';
  @property({ reflect: true }) token = '';

  override render() {
    const container = `var(--yg-tone-${this.tone}-container, #e0e2e8)`;
    const onContainer = `var(--yg-tone-${this.tone}-on-container, #191c20)`;
    const vars = {
      '--_container': this.token ? `var(--yg-state-${this.token}-container, ${container})` : container,
      '--_on-container': this.token ? `var(--yg-state-${this.token}-on-container, ${onContainer})` : onContainer,
    };
    return html`<span part="chip" style=${styleMap(vars)}><slot></slot></span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-state-chip': YgStateChip;
  }
}
