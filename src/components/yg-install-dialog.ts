import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues, TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import '@material/web/button/filled-button.js';
import '@material/web/button/text-button.js';
import '@material/web/dialog/dialog.js';
import '@material/web/progress/circular-progress.js';
import '@material/web/progress/linear-progress.js';
import '@material/web/tabs/primary-tab.js';
import '@material/web/tabs/tabs.js';
import type { MdTabs } from '@material/web/tabs/tabs.js';
import type { DeploymentView, ErrorDetail, JobView, ServiceView } from '../../protocol/types.js';
import { jobHref, serviceProxyHref } from '../data/catalog.js';
import type { InstallResult, PackageDefinition, RenderResult } from '../data/catalog.js';
import { serviceHref } from '../state/activity.js';
import { dialogStyles } from './dialog-styles.js';
import { locatePointers, nearestRange } from './json-pointer.js';
import { defaultsOf, formPointers, placeOptionErrors, validateOptions } from './yg-schema-form.js';
import type { Options, OptionsChangeDetail, YgSchemaForm } from './yg-schema-form.js';
import './yg-schema-form.js';

export interface InstallDetail {
  options: Options;
}

const TABS = ['form', 'json', 'preview'] as const;
type Tab = (typeof TABS)[number];

type StepState = 'done' | 'current' | 'next';
interface Step {
  label: string;
  detail: string;
  state: StepState;
}

/** Notes as the package wrote them, line breaks kept and web addresses made links (opened in a new tab). */
export function notesText(text: string): Array<string | TemplateResult> {
  return text
    .split(/(https?:\/\/[^\s)>\]]+)/g)
    .map((part, i) => (i % 2 === 1 ? html`<a href=${part} target="_blank" rel="noopener noreferrer">${part}</a>` : part));
}

/** Progress of an installed service, from the live store. */
export function serviceSteps(service: ServiceView | undefined, deployments: readonly DeploymentView[], started: boolean): { steps: Step[]; complete: boolean } {
  const deploying = deployments.some((d) => d.status === 'running');
  const begun = started || !!service;
  const target = service?.instances ?? 0;
  const running = service?.tasksRunning ?? 0;
  const runningDone = !!service && running >= target;
  const healthyCount = service?.healthChecked ? service.tasksHealthy : running;
  const healthyDone = runningDone && healthyCount >= target && !deploying;
  const state = (done: boolean, previous: boolean): StepState => (done ? 'done' : previous ? 'current' : 'next');
  return {
    steps: [
      { label: 'Deployment started', detail: service ? '' : 'waiting for the service to appear', state: state(!!service && begun, true) },
      { label: 'Instances running', detail: service ? `${running} of ${target}` : '', state: state(runningDone, !!service) },
      {
        label: 'Healthy',
        detail: !service ? '' : service.healthChecked ? `${service.tasksHealthy} of ${target}` : 'no health checks: running counts',
        state: state(healthyDone, runningDone),
      },
    ],
    complete: healthyDone,
  };
}

/**
 * Installs a package: a form generated from its options schema and the same options as JSON,
 * kept in sync, an optional preview of the definition it renders, the master's validation errors
 * at their fields; then the progress until the service is healthy (from the live store) and the
 * post-install notes. Controlled: the page sets `open`, `pkg`, `busy`, `errors`, `result` and the
 * live `service`/`deployments`/`job`. Out: `yg-install`, `yg-preview` (both with the options),
 * `yg-dialog-close`.
 */
@customElement('yg-install-dialog')
export class YgInstallDialog extends LitElement {
  static override styles = [
    dialogStyles,
    css`
      md-dialog {
        max-width: min(52rem, calc(100vw - 24px));
        width: 100%;
        max-height: calc(100dvh - 24px);
      }
      .notice {
        padding: 12px 16px;
        border-radius: 12px;
        background: var(--md-sys-color-secondary-container, #d7e3f7);
        color: var(--md-sys-color-on-secondary-container, #101c2b);
        white-space: pre-line;
        overflow-wrap: anywhere;
      }
      .notice.warn {
        background: var(--yg-tone-warn-container, #ffe08b);
        color: var(--yg-tone-warn-on-container, #3a2c00);
      }
      .notice a,
      .notes a {
        color: inherit;
      }
      .error ul {
        margin: 8px 0 0;
        padding-inline-start: 20px;
      }
      .error button {
        all: unset;
        cursor: pointer;
        text-decoration: underline;
        font-family: var(--yg-font-mono, monospace);
        font-size: 0.8125rem;
        border-radius: 2px;
      }
      .error button:focus-visible {
        outline: 2px solid currentColor;
      }
      md-tabs {
        --md-primary-tab-container-color: transparent;
      }
      [role='tabpanel'] {
        min-width: 0;
      }
      label.json {
        display: block;
        margin-bottom: 8px;
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      textarea,
      pre {
        box-sizing: border-box;
        width: 100%;
        margin: 0;
        padding: 8px 12px;
        border: 1px solid var(--md-sys-color-outline, #73777f);
        border-radius: 4px;
        background: var(--yg-log-container, #f2f3fa);
        color: inherit;
        font: 0.8125rem/1.25rem var(--yg-font-mono, monospace);
        white-space: pre;
        overflow: auto;
      }
      textarea {
        height: min(50vh, 24rem);
        resize: vertical;
      }
      pre {
        max-height: min(50vh, 24rem);
      }
      pre + pre {
        margin-top: 12px;
      }
      textarea:focus-visible,
      pre:focus-visible {
        outline: 2px solid var(--md-sys-color-primary, #36618e);
        outline-offset: -1px;
      }
      textarea[aria-invalid='true'] {
        border-color: var(--md-sys-color-error, #ba1a1a);
      }
      .muted {
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      ol.steps {
        margin: 0;
        padding: 0;
        list-style: none;
        display: grid;
        gap: 8px;
      }
      ol.steps li {
        display: grid;
        grid-template-columns: 1.5rem minmax(0, 1fr);
        gap: 8px;
        align-items: baseline;
      }
      ol.steps .mark {
        align-self: center;
        display: grid;
        place-items: center;
        font-weight: 700;
      }
      ol.steps md-circular-progress {
        --md-circular-progress-size: 20px;
      }
      ol.steps li.done .mark {
        color: var(--yg-tone-ok-dot, #2e7d32);
      }
      ol.steps li.current {
        font-weight: 500;
      }
      ol.steps li.next {
        color: var(--md-sys-color-on-surface-variant, #43474e);
      }
      .progress:focus {
        outline: none;
      }
      .links {
        display: flex;
        flex-wrap: wrap;
        gap: 8px 16px;
      }
      .links a {
        color: var(--md-sys-color-primary, #36618e);
      }
      h3 {
        margin: 0;
        font-size: 0.875rem;
        font-weight: 500;
      }
      .notes {
        white-space: pre-line;
        overflow-wrap: anywhere;
      }
      /* A note in slot "unavailable" takes a line of its own above the buttons. */
      [slot='actions'] {
        flex-wrap: wrap;
        align-items: center;
      }
    `,
  ];

  @property({ type: Boolean }) open = false;
  @property({ attribute: false }) pkg?: PackageDefinition;
  @property({ type: Boolean }) busy = false;
  /** Commands cannot reach the master now: Install is disabled; the page's reason goes in slot `unavailable`. */
  @property({ type: Boolean }) unavailable = false;
  /** The master's validation details from the last install. */
  @property({ attribute: false }) errors: readonly ErrorDetail[] = [];
  /** The message that came with them, or any other failure. */
  @property() message = '';
  /** The rendered definition for the options last sent with `yg-preview`. */
  @property({ attribute: false }) preview?: RenderResult;
  @property() previewError = '';
  @property({ type: Boolean }) previewBusy = false;
  /** Set once the install succeeded: the dialog shows its progress from here on. */
  @property({ attribute: false }) result?: InstallResult;
  /** The installed service as the live store has it (undefined until it appears). */
  @property({ attribute: false }) service?: ServiceView;
  /** Deployments of the installed service. */
  @property({ attribute: false }) deployments: readonly DeploymentView[] = [];
  /** The installed job as the live store has it. */
  @property({ attribute: false }) job?: JobView;

  @state() private tab: Tab = 'form';
  @state() private options: Options = {};
  @state() private text = '{}';
  @state() private parseError = '';

  @query('yg-schema-form') private form?: YgSchemaForm;
  @query('textarea') private textarea?: HTMLTextAreaElement;
  @query('.progress') private progress?: HTMLElement;

  /** The options as they stand. */
  get value(): Options {
    return this.options;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const opened = changed.has('open') && this.open && !this.result;
    if ((changed.has('pkg') && this.pkg !== changed.get('pkg')) || opened) {
      this.#reset();
    }
    if (changed.has('errors') && this.errors.length) {
      // Errors at fields are best seen in the form.
      const placed = placeOptionErrors(this.errors, formPointers(this.pkg?.config)).byPointer;
      if (placed.size) this.tab = 'form';
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('result') && this.result && !changed.get('result')) this.progress?.focus();
  }

  #reset() {
    this.options = defaultsOf(this.pkg?.config);
    this.text = JSON.stringify(this.options, null, 2);
    this.parseError = '';
    this.tab = 'form';
  }

  override render() {
    const pkg = this.pkg;
    const heading = !pkg ? 'Install' : this.result ? `${this.#complete() ? 'Installed' : 'Installing'} ${pkg.name}` : `Install ${pkg.name} ${pkg.version}`;
    return html`<md-dialog .open=${this.open} @close=${this.#onClose} @cancel=${this.#closed}>
      <div slot="headline">${heading}</div>
      ${this.result ? this.#progressContent(this.result) : this.#configureContent()}
      <div slot="actions">
        ${this.result
          ? this.#doneActions(this.result)
          : html`<slot name="unavailable"></slot>
              <md-text-button type="button" @click=${this.#closed}>Cancel</md-text-button>
              <md-filled-button form="install-form" type="submit" ?disabled=${this.busy || this.unavailable || !pkg}>Install</md-filled-button>`}
      </div>
    </md-dialog>`;
  }

  #configureContent() {
    const pkg = this.pkg;
    if (!pkg) return html`<div slot="content"></div>`;
    const pointers = formPointers(pkg.config);
    const template = this.errors.filter((e) => /^\/(marathonJson|metronomeJson)(\/|$)/.test(e.path));
    const { byPointer, rest } = placeOptionErrors(
      this.errors.filter((e) => !template.includes(e)),
      pointers,
    );
    const ranges = rest.length ? locatePointers(this.text) : undefined;
    return html`<form slot="content" id="install-form" novalidate @submit=${this.#submit}>
      ${pkg.preInstallNotes ? html`<div class="notice" role="note" aria-label="Before installing">${notesText(pkg.preInstallNotes)}</div>` : nothing}
      ${this.message
        ? html`<div class="error" role="alert">
            ${this.message}${byPointer.size ? html` — see the marked ${byPointer.size === 1 ? 'field' : 'fields'}.` : nothing}
            ${template.length
              ? html`<ul aria-label="Problems in the rendered definition">
                  ${template.map((e) => html`<li><code>${e.path}</code>: ${e.errors.join('; ')}</li>`)}
                </ul>`
              : nothing}
            ${rest.length
              ? html`<ul aria-label="Problems in the options">
                  ${rest.map((e) => {
                    const range = ranges ? nearestRange(ranges, e.path) : undefined;
                    return html`<li>
                      <button type="button" @click=${() => this.#showInJson(e.path)}>${e.path || '/'}</button>${range ? ` (line ${range.line})` : ''}:
                      ${e.errors.join('; ')}
                    </li>`;
                  })}
                </ul>`
              : nothing}
          </div>`
        : nothing}
      <md-tabs aria-label="Options" .activeTabIndex=${TABS.indexOf(this.tab)} @change=${this.#onTab}>
        <md-primary-tab id="tab-form" aria-controls="panel-form">Form</md-primary-tab>
        <md-primary-tab id="tab-json" aria-controls="panel-json">JSON</md-primary-tab>
        <md-primary-tab id="tab-preview" aria-controls="panel-preview">Definition</md-primary-tab>
      </md-tabs>
      <div id="panel-form" role="tabpanel" aria-labelledby="tab-form" ?hidden=${this.tab !== 'form'}>
        ${this.parseError
          ? html`<p class="error" role="alert">The JSON is not valid: the form waits until it is.</p>`
          : html`<yg-schema-form
              .schema=${pkg.config ?? {}}
              .value=${this.options}
              .errors=${this.errors}
              @yg-options-change=${this.#onForm}
            ></yg-schema-form>`}
      </div>
      <div id="panel-json" role="tabpanel" aria-labelledby="tab-json" ?hidden=${this.tab !== 'json'}>
        <label class="json" for="json">The options as JSON. Fields left out take the package's defaults.</label>
        <textarea
          id="json"
          spellcheck="false"
          autocapitalize="off"
          autocomplete="off"
          wrap="off"
          aria-invalid=${this.parseError || rest.length ? 'true' : 'false'}
          aria-describedby="json-error"
          .value=${this.text}
          @input=${(e: Event) => this.#onJson((e.target as HTMLTextAreaElement).value)}
        ></textarea>
        <div id="json-error">${this.parseError ? html`<p class="error" role="alert">This is not valid JSON: ${this.parseError}</p>` : nothing}</div>
      </div>
      <div id="panel-preview" role="tabpanel" aria-labelledby="tab-preview" ?hidden=${this.tab !== 'preview'}>${this.#preview()}</div>
    </form>`;
  }

  #preview() {
    if (this.tab !== 'preview') return nothing;
    if (this.previewBusy) return html`<md-linear-progress indeterminate aria-label="Rendering the definition"></md-linear-progress>`;
    if (this.previewError) return html`<p class="error" role="alert">The definition could not be rendered: ${this.previewError}</p>`;
    // A service package may come with a job too: both are shown.
    const parts = [
      ['app', this.preview?.marathonJson],
      ['job', this.preview?.metronomeJson],
    ].filter((p): p is [string, Record<string, unknown>] => !!p[1]);
    if (parts.length === 0) return html`<p class="muted">Nothing rendered yet.</p>`;
    return html`<p class="muted">What these options create, exactly as it will be installed.</p>
      ${parts.map(([kind, definition]) => html`<pre tabindex="0" aria-label=${`Rendered ${kind} definition`}>${JSON.stringify(definition, null, 2)}</pre>`)}`;
  }

  #complete(): boolean {
    const result = this.result;
    if (!result) return false;
    return result.kind === 'job' ? true : serviceSteps(this.service, this.deployments, true).complete;
  }

  #progressContent(result: InstallResult) {
    const notes = result.postInstallNotes ?? this.pkg?.postInstallNotes;
    if (result.kind === 'job') {
      return html`<div slot="content" class="progress" tabindex="-1">
        <p role="status">Job <strong>${result.appId}</strong> was created${this.job ? '' : ' (waiting for it to appear)'}. It runs on its schedule, or when you run it.</p>
        ${notes ? html`<h3>Notes</h3><div class="notes">${notesText(notes)}</div>` : nothing}
        <div class="links"><a href=${jobHref(result.appId)}>Open the job ${result.appId}</a></div>
      </div>`;
    }
    const { steps, complete } = serviceSteps(this.service, this.deployments, true);
    const s = this.service;
    const done = steps.filter((x) => x.state === 'done').length;
    const current = steps.find((x) => x.state === 'current');
    const trouble = s && (s.waiting || s.status === 'Waiting' || s.status === 'Delayed' || s.lastTaskFailure);
    return html`<div slot="content" class="progress" tabindex="-1">
      <md-linear-progress
        aria-label=${complete ? 'Installed' : `Step ${done + 1} of ${steps.length}`}
        ?indeterminate=${!complete && !s}
        .value=${complete ? 1 : (done + 0.5) / steps.length}
      ></md-linear-progress>
      <ol class="steps" aria-label="Progress">
        ${steps.map(
          (step) => html`<li class=${step.state} aria-current=${step.state === 'current' ? 'step' : 'false'}>
            <span class="mark" aria-hidden="true"
              >${step.state === 'done' ? '✓' : step.state === 'current' ? html`<md-circular-progress indeterminate></md-circular-progress>` : '○'}</span
            >
            <span>${step.label}${step.detail ? html` <span class="muted">— ${step.detail}</span>` : nothing}</span>
          </li>`,
        )}
      </ol>
      <p role="status">
        ${complete
          ? html`<strong>${result.appId}</strong> is running${s?.healthChecked ? ' and healthy' : ''}.`
          : html`${current ? `${current.label}…` : 'Waiting…'} You can close this dialog: the installation goes on.`}
      </p>
      ${trouble
        ? html`<div class="notice warn">
            ${s.waiting ? html`<div>${s.waiting}</div>` : s.status === 'Delayed' ? html`<div>Launches are delayed after failures.</div>` : nothing}
            ${s.lastTaskFailure ? html`<div>Last failure: ${s.lastTaskFailure.message || s.lastTaskFailure.state}</div>` : nothing}
          </div>`
        : nothing}
      ${complete && notes ? html`<h3>Notes</h3><div class="notes">${notesText(notes)}</div>` : nothing}
      ${complete
        ? html`<div class="links">
            <a href=${serviceProxyHref(result.appId)} target="_blank" rel="noopener">Open its web interface at ${serviceProxyHref(result.appId)}</a>
          </div>`
        : nothing}
    </div>`;
  }

  #doneActions(result: InstallResult) {
    return html`<md-text-button type="button" @click=${this.#closed}>Close</md-text-button>
      <md-filled-button href=${result.kind === 'job' ? jobHref(result.appId) : serviceHref(result.appId)}>
        ${result.kind === 'job' ? 'Go to the job' : 'Go to the service'}
      </md-filled-button>`;
  }

  #onTab(event: Event) {
    const tab = TABS[(event.target as MdTabs).activeTabIndex] ?? 'form';
    if (tab === this.tab) return;
    this.tab = tab;
    if (tab === 'preview' && !this.parseError) {
      this.dispatchEvent(new CustomEvent<InstallDetail>('yg-preview', { detail: { options: structuredClone(this.options) }, bubbles: true, composed: true }));
    }
  }

  #onForm(event: CustomEvent<OptionsChangeDetail>) {
    this.options = event.detail.value;
    this.text = JSON.stringify(this.options, null, 2);
  }

  #onJson(text: string) {
    this.text = text;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        this.parseError = 'the options must be a JSON object ({ … })';
        return;
      }
      this.options = parsed as Options;
      this.parseError = '';
    } catch (error) {
      this.parseError = error instanceof Error ? error.message : String(error);
    }
  }

  async #showInJson(pointer: string) {
    this.tab = 'json';
    await this.updateComplete;
    const area = this.textarea;
    const range = nearestRange(locatePointers(this.text), pointer);
    if (!area) return;
    area.focus();
    if (range) area.setSelectionRange(range.start, range.end);
  }

  async #submit(event: SubmitEvent) {
    event.preventDefault();
    if (this.busy || this.unavailable || !this.pkg) return;
    if (this.parseError) {
      this.tab = 'json';
      await this.updateComplete;
      this.textarea?.focus();
      return;
    }
    const drafts = this.form?.problems.length ?? 0;
    if (drafts || validateOptions(this.pkg.config, this.options).length) {
      this.tab = 'form';
      await this.updateComplete;
      if (this.form && !(await this.form.reportValidity())) return;
    }
    this.dispatchEvent(new CustomEvent<InstallDetail>('yg-install', { detail: { options: structuredClone(this.options) }, bubbles: true, composed: true }));
  }

  #onClose(event: Event) {
    if (event.target !== event.currentTarget) return;
    if (this.open) this.#closed();
  }

  #closed = () => {
    this.dispatchEvent(new CustomEvent('yg-dialog-close', { bubbles: true, composed: true }));
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-install-dialog': YgInstallDialog;
  }
  interface GlobalEventHandlersEventMap {
    'yg-install': CustomEvent<InstallDetail>;
    'yg-preview': CustomEvent<InstallDetail>;
  }
}
