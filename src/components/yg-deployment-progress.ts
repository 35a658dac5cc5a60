import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import '@material/web/button/outlined-button.js';
import '@material/web/progress/linear-progress.js';
import type { DeploymentActionName, DeploymentView } from '../../protocol/types.js';
import { ClockController } from './clock-controller.js';
import { icons } from './icons.js';
import { deploymentStatusChip } from './states.js';
import { timeAgo } from './time.js';
import './yg-state-chip.js';

const ACTION_TEXT: Record<DeploymentActionName, string> = {
  StartApplication: 'Start',
  ScaleApplication: 'Scale',
  RestartApplication: 'Restart',
  StopApplication: 'Stop',
};

export interface DeploymentCancelDetail {
  id: string;
}

/** One deployment's plan: its steps, which one runs, and Cancel. Out: `yg-deployment-cancel`. */
@customElement('yg-deployment-progress')
export class YgDeploymentProgress extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .card {
      padding: 16px;
      border-radius: var(--yg-radius, 12px);
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      background: var(--yg-card-container, transparent);
    }
    .head {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px 12px;
      margin-bottom: 12px;
    }
    .title {
      font-weight: 500;
    }
    .meta {
      flex: 1;
      font-size: 0.8125rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .id {
      font-family: var(--yg-font-mono, monospace);
    }
    md-linear-progress {
      width: 100%;
      margin-bottom: 12px;
    }
    ol {
      margin: 0;
      padding: 0;
      list-style: none;
      display: grid;
      gap: 4px;
      font-size: 0.875rem;
    }
    li {
      display: flex;
      gap: 8px;
      align-items: baseline;
    }
    .step {
      min-width: 4.5rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      font-variant-numeric: tabular-nums;
    }
    li.current {
      font-weight: 500;
    }
    li.done {
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .message {
      margin: 12px 0 0;
      font-size: 0.875rem;
    }
    svg {
      width: 18px;
      height: 18px;
    }
  `;

  @property({ attribute: false }) deployment?: DeploymentView;
  @property({ type: Boolean }) busy = false;
  /** Read-only tokens may not cancel. */
  @property({ type: Boolean }) cancellable = true;
  @property({ type: Number }) now?: number;

  readonly #clock = new ClockController(this, 1000);

  override render() {
    const d = this.deployment;
    if (!d) return nothing;
    const chip = deploymentStatusChip(d.status);
    const total = d.steps.length;
    const done = d.status === 'success' ? total : Math.max(0, d.currentStep - 1);
    const now = this.now ?? this.#clock.now;
    return html`<section class="card" aria-label=${`Deployment ${d.id}`}>
      <div class="head">
        <span class="title">Deployment</span>
        <yg-state-chip tone=${chip.tone} token=${chip.token}>${chip.label}</yg-state-chip>
        <span class="meta"><span class="id" title=${d.id}>${d.id.slice(0, 8)}</span> · started ${timeAgo(d.startedAt, now)}</span>
        ${d.status === 'running' && this.cancellable
          ? html`<md-outlined-button ?disabled=${this.busy} @click=${this.#cancel}>
              Cancel deployment
              <span slot="icon">${icons.cancel}</span>
            </md-outlined-button>`
          : nothing}
      </div>
      <md-linear-progress
        aria-label=${`Step ${Math.min(d.currentStep, total)} of ${total}`}
        .value=${total ? (done + (d.status === 'running' ? 0.5 : 0)) / total : 0}
      ></md-linear-progress>
      <ol aria-label="Steps">
        ${d.steps.map((actions, i) => {
          const n = i + 1;
          const state = n < d.currentStep || d.status === 'success' ? 'done' : n === d.currentStep ? 'current' : 'next';
          return html`<li class=${state} aria-current=${state === 'current' ? 'step' : 'false'}>
            <span class="step">Step ${n} of ${total}</span>
            <span>${actions.map((a) => `${ACTION_TEXT[a.action] ?? a.action} ${a.app}`).join(', ')}${state === 'done' ? ' ✓' : ''}</span>
          </li>`;
        })}
      </ol>
      ${d.message ? html`<p class="message">${d.message}</p>` : nothing}
    </section>`;
  }

  #cancel() {
    const id = this.deployment?.id;
    if (!id) return;
    this.dispatchEvent(new CustomEvent<DeploymentCancelDetail>('yg-deployment-cancel', { detail: { id }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-deployment-progress': YgDeploymentProgress;
  }
  interface GlobalEventHandlersEventMap {
    'yg-deployment-cancel': CustomEvent<DeploymentCancelDetail>;
  }
}
