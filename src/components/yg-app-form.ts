import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import '@material/web/button/filled-button.js';
import '@material/web/button/text-button.js';
import '@material/web/select/outlined-select.js';
import '@material/web/select/select-option.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import type { ErrorDetail } from '../../protocol/types.js';
import {
  HEALTH_PROTOCOLS,
  healthCheck,
  parsePorts,
  placeErrors,
  portsText,
  read,
  stringEntries,
  withHealthProtocol,
  withPorts,
  withStringEntries,
  write,
} from './app-definition-fields.js';
import type { Doc } from './app-definition-fields.js';
import { locatePointers, nearestRange } from './json-pointer.js';
import './yg-key-value-editor.js';
import type { Entry } from './yg-key-value-editor.js';

export interface AppSubmitDetail {
  definition: Doc;
}

interface NumberField {
  pointer: string;
  label: string;
  integer?: boolean;
  suffix?: string;
  min?: number;
}

const RESOURCES: NumberField[] = [
  { pointer: '/instances', label: 'Instances', integer: true, min: 0 },
  { pointer: '/cpus', label: 'CPUs', min: 0 },
  { pointer: '/mem', label: 'Memory', suffix: 'MiB', min: 0 },
  { pointer: '/disk', label: 'Disk', suffix: 'MiB', min: 0 },
];

const CHECK_TIMINGS: NumberField[] = [
  { pointer: '/healthChecks/0/gracePeriodSeconds', label: 'Grace period', integer: true, suffix: 's', min: 0 },
  { pointer: '/healthChecks/0/intervalSeconds', label: 'Interval', integer: true, suffix: 's', min: 1 },
  { pointer: '/healthChecks/0/timeoutSeconds', label: 'Timeout', integer: true, suffix: 's', min: 1 },
  { pointer: '/healthChecks/0/maxConsecutiveFailures', label: 'Failures before kill', integer: true, min: 0 },
];

/**
 * A service definition as a form and as JSON, side by side and in sync both ways. The form
 * writes only its own fields: whatever else the JSON holds (constraints, fetch, upgrade
 * strategy…) survives every edit. Server errors (`errors`, Marathon's details) show at their
 * field, or in the JSON view with the line they point at.
 * Out: `yg-app-submit` with the definition, `yg-app-cancel`.
 */
@customElement('yg-app-form')
export class YgAppForm extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .panes {
      display: grid;
      grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
      gap: 24px;
      align-items: start;
    }
    @media (max-width: 1099px) {
      .panes {
        grid-template-columns: minmax(0, 1fr);
      }
    }
    section {
      min-width: 0;
    }
    h2 {
      margin: 0 0 12px;
      font-size: 1rem;
      font-weight: 500;
    }
    h3 {
      margin: 24px 0 12px;
      font-size: 0.875rem;
      font-weight: 500;
    }
    .fields {
      display: grid;
      gap: 16px;
    }
    .fields.spaced {
      margin-top: 24px;
      gap: 24px;
    }
    .grid4 {
      display: grid;
      grid-template-columns: repeat(4, minmax(0, 1fr));
      gap: 12px;
    }
    .grid2 {
      display: grid;
      grid-template-columns: repeat(2, minmax(0, 1fr));
      gap: 12px;
    }
    @media (max-width: 599px) {
      .editor {
        --yg-json-height: min(60vh, 24rem);
      }
      .grid4 {
        grid-template-columns: repeat(2, minmax(0, 1fr));
      }
      .grid2 {
        grid-template-columns: minmax(0, 1fr);
      }
    }
    md-outlined-text-field,
    md-outlined-select {
      width: 100%;
      min-width: 0;
    }
    fieldset.form {
      margin: 0;
      padding: 0;
      border: 0;
      min-width: 0;
    }
    .json-label {
      display: block;
      margin-bottom: 8px;
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .editor {
      display: grid;
      grid-template-columns: auto minmax(0, 1fr);
      border: 1px solid var(--md-sys-color-outline, #73777f);
      border-radius: 4px;
      background: var(--yg-log-container, #f2f3fa);
      overflow: hidden;
    }
    .editor:focus-within {
      outline: 2px solid var(--md-sys-color-primary, #36618e);
      outline-offset: -1px;
    }
    .editor.invalid {
      border-color: var(--md-sys-color-error, #ba1a1a);
    }
    .gutter,
    textarea {
      font: 0.8125rem/1.25rem var(--yg-font-mono, monospace);
      padding: 8px 0;
      height: var(--yg-json-height, min(70vh, 44rem));
      box-sizing: border-box;
    }
    .gutter {
      overflow: hidden;
      min-width: 2.5rem;
      text-align: end;
      color: var(--md-sys-color-on-surface-variant, #43474e);
      border-inline-end: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
      user-select: none;
    }
    .gutter div {
      padding: 0 8px;
    }
    .gutter .bad {
      background: var(--md-sys-color-error-container, #ffdad6);
      color: var(--md-sys-color-on-error-container, #410002);
      font-weight: 700;
    }
    textarea {
      width: 100%;
      margin: 0;
      border: 0;
      padding-inline: 12px;
      resize: none;
      outline: none;
      white-space: pre;
      overflow: auto;
      background: transparent;
      color: inherit;
    }
    .problems {
      margin: 12px 0 0;
      padding: 12px 16px;
      border-radius: 12px;
      background: var(--md-sys-color-error-container, #ffdad6);
      color: var(--md-sys-color-on-error-container, #410002);
      font-size: 0.875rem;
    }
    .problems ul {
      margin: 8px 0 0;
      padding-inline-start: 20px;
    }
    .problems button {
      all: unset;
      cursor: pointer;
      text-decoration: underline;
      font-family: var(--yg-font-mono, monospace);
      font-size: 0.8125rem;
      border-radius: 2px;
    }
    .problems button:focus-visible {
      outline: 2px solid currentColor;
    }
    .hint {
      margin: 8px 0 0;
      font-size: 0.75rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    .banner {
      margin: 0 0 16px;
      padding: 12px 16px;
      border-radius: 12px;
      background: var(--md-sys-color-error-container, #ffdad6);
      color: var(--md-sys-color-on-error-container, #410002);
      font-size: 0.875rem;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      justify-content: flex-end;
      gap: 8px;
      margin-top: 24px;
    }
  `;

  /** The definition to start from; a new object resets the editor. */
  @property({ attribute: false }) definition: Doc = {};
  /** Marathon's validation details from the last submit. */
  @property({ attribute: false }) errors: readonly ErrorDetail[] = [];
  /** The message that came with them, or any other failure. */
  @property() message = '';
  @property() mode: 'create' | 'edit' = 'create';
  @property({ type: Boolean }) busy = false;
  /** Commands cannot reach the master now: submitting is disabled; the page's reason goes in slot `unavailable`. */
  @property({ type: Boolean }) unavailable = false;

  @state() private doc: Doc = {};
  @state() private text = '{}';
  @state() private parseError = '';
  /** What the user typed into a field that is not (yet) a valid value, by pointer. */
  @state() private drafts: ReadonlyMap<string, string> = new Map();
  /** Fields edited since the errors came: their errors are stale. */
  @state() private edited: ReadonlySet<string> = new Set();

  @query('textarea') private textarea?: HTMLTextAreaElement;
  @query('.gutter') private gutter?: HTMLElement;

  /** The definition as it stands, form and JSON together. */
  get value(): Doc {
    return this.doc;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('definition')) {
      this.doc = structuredClone(this.definition);
      this.text = JSON.stringify(this.doc, null, 2);
      this.parseError = '';
      this.drafts = new Map();
    }
    if (changed.has('errors')) this.edited = new Set();
  }

  override render() {
    const fields = this.#fields();
    const live = this.errors.filter((e) => !this.edited.has(ownerKey(e.path)));
    const { byField, rest } = placeErrors(live, fields);
    const at = (pointer: string) => byField.get(pointer)?.join('; ') ?? '';
    // Busy only disables the buttons: greying every field for the second a save takes flickers.
    const disabled = !!this.parseError;
    const check = healthCheck(this.doc);
    const protocol = check ? String(check.protocol ?? (check.command ? 'COMMAND' : 'HTTP')) : 'NONE';
    const ranges = rest.length ? locatePointers(this.text) : undefined;
    const badLines = new Set(rest.map((e) => (ranges ? nearestRange(ranges, e.path)?.line : undefined)).filter((l): l is number => l !== undefined));
    const lines = this.text.split('\n').length;

    return html`<form novalidate @submit=${this.#submit}>
      ${this.message
        ? html`<div class="banner" role="alert">
            ${this.message}${byField.size ? html` — see the marked ${byField.size === 1 ? 'field' : 'fields'}.` : nothing}
          </div>`
        : nothing}
      <div class="panes">
        <section aria-labelledby="form-title">
          <h2 id="form-title">Form</h2>
          <fieldset class="form" ?disabled=${disabled}>
            <div class="fields">
              ${this.#text('/id', 'Service ID', at('/id'), {
                supporting: 'A path such as /prod/web: groups are the folders.',
                readonly: this.mode === 'edit',
              })}
              ${this.#text('/cmd', 'Command', at('/cmd'), { textarea: true, supporting: 'Run with sh -c. $PORT0 holds the first port.' })}
              <div class="grid4">${RESOURCES.map((f) => this.#number(f, at(f.pointer), disabled))}</div>
              <md-outlined-text-field
                label="Ports"
                .value=${this.drafts.get('/portDefinitions') ?? portsText(this.doc)}
                supporting-text="Host ports, comma-separated; 0 picks a free one."
                ?error=${!!at('/portDefinitions') || this.#invalid('/portDefinitions')}
                error-text=${at('/portDefinitions') || (this.#invalid('/portDefinitions') ? 'Numbers from 0 to 65535, separated by commas' : '')}
                ?disabled=${disabled}
                @input=${(e: Event) => this.#onPorts((e.target as MdOutlinedTextField).value)}
              ></md-outlined-text-field>
            </div>
            <div class="fields spaced">
              <yg-key-value-editor
                label="Environment variables"
                addLabel="Add variable"
                .entries=${stringEntries(this.doc.env) as Entry[]}
                .error=${at('/env')}
                ?disabled=${disabled}
                @yg-entries-change=${(e: CustomEvent<{ entries: Entry[] }>) => this.#edit('/env', withStringEntries(this.doc.env, e.detail.entries))}
              ></yg-key-value-editor>
              <yg-key-value-editor
                label="Labels"
                addLabel="Add label"
                .entries=${stringEntries(this.doc.labels) as Entry[]}
                .error=${at('/labels')}
                ?disabled=${disabled}
                @yg-entries-change=${(e: CustomEvent<{ entries: Entry[] }>) => this.#edit('/labels', withStringEntries(this.doc.labels, e.detail.entries))}
              ></yg-key-value-editor>
            </div>
            <h3>Health check</h3>
            <div class="fields">
              <md-outlined-select
                label="Protocol"
                .value=${protocol}
                ?error=${!!at('/healthChecks/0/protocol')}
                error-text=${at('/healthChecks/0/protocol')}
                ?disabled=${disabled}
                @change=${(e: Event) => this.#onProtocol((e.target as MdOutlinedSelect).value)}
              >
                <md-select-option value="NONE" ?selected=${protocol === 'NONE'}><div slot="headline">None</div></md-select-option>
                ${HEALTH_PROTOCOLS.map(
                  (p) => html`<md-select-option value=${p} ?selected=${protocol === p}><div slot="headline">${p}</div></md-select-option>`,
                )}
              </md-outlined-select>
              ${protocol === 'NONE'
                ? nothing
                : html`${protocol.includes('HTTP') ? this.#text('/healthChecks/0/path', 'Path', at('/healthChecks/0/path')) : nothing}
                    ${protocol === 'COMMAND' ? this.#text('/healthChecks/0/command/value', 'Check command', at('/healthChecks/0/command/value')) : nothing}
                    ${protocol !== 'COMMAND'
                      ? this.#number({ pointer: '/healthChecks/0/portIndex', label: 'Port index', integer: true, min: 0 }, at('/healthChecks/0/portIndex'), disabled, 'Which of the ports above: 0 is the first.')
                      : nothing}
                    <div class="grid2">${CHECK_TIMINGS.map((f) => this.#number(f, at(f.pointer), disabled))}</div>`}
            </div>
          </fieldset>
        </section>
        <section aria-labelledby="json-title">
          <h2 id="json-title">JSON</h2>
          <label class="json-label" for="json">The whole definition. Fields the form does not show are kept as they are.</label>
          <div class="editor ${this.parseError || rest.length ? 'invalid' : ''}">
            <div class="gutter" aria-hidden="true">
              ${Array.from({ length: lines }, (_, i) => html`<div class=${badLines.has(i + 1) ? 'bad' : ''}>${i + 1}</div>`)}
            </div>
            <textarea
              id="json"
              spellcheck="false"
              autocapitalize="off"
              autocomplete="off"
              wrap="off"
              aria-invalid=${this.parseError || rest.length ? 'true' : 'false'}
              aria-describedby="json-problems"
              .value=${this.text}
              @input=${(e: Event) => this.#onJson((e.target as HTMLTextAreaElement).value)}
              @scroll=${this.#syncGutter}
            ></textarea>
          </div>
          <div id="json-problems">
            ${this.parseError
              ? html`<div class="problems" role="alert">This is not valid JSON: ${this.parseError}. The form waits until it is.</div>`
              : nothing}
            ${rest.length
              ? html`<div class="problems" role="alert">
                  ${rest.length === 1 ? 'One problem' : `${rest.length} problems`} outside the form's fields:
                  <ul>
                    ${rest.map((e) => {
                      const range = ranges ? nearestRange(ranges, e.path) : undefined;
                      return html`<li>
                        <button type="button" @click=${() => this.#select(e.path)}>${e.path}</button>${range ? ` (line ${range.line})` : ''}:
                        ${e.errors.join('; ')}
                      </li>`;
                    })}
                  </ul>
                </div>`
              : nothing}
          </div>
        </section>
      </div>
      <div class="actions">
        <slot name="unavailable"></slot>
        <md-text-button type="button" @click=${() => this.dispatchEvent(new CustomEvent('yg-app-cancel', { bubbles: true, composed: true }))}>
          Cancel
        </md-text-button>
        <md-filled-button type="submit" ?disabled=${this.busy || this.unavailable || !!this.parseError}>
          ${this.mode === 'create' ? 'Create service' : 'Save and deploy'}
        </md-filled-button>
      </div>
    </form>`;
  }

  /** Moves the cursor to where a pointer sits in the JSON and selects it. */
  #select(pointer: string) {
    const area = this.textarea;
    const range = nearestRange(locatePointers(this.text), pointer);
    if (!area || !range) return;
    area.focus();
    area.setSelectionRange(range.start, range.end);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (range.line - 3) * lineHeight);
    this.#syncGutter();
  }

  #syncGutter() {
    if (this.gutter && this.textarea) this.gutter.scrollTop = this.textarea.scrollTop;
  }

  /** Fields the form shows right now: errors for others go to the JSON view. */
  #fields(): Set<string> {
    const set = new Set(['/id', '/cmd', '/instances', '/cpus', '/mem', '/disk', '/env', '/labels', '/portDefinitions', '/healthChecks/0/protocol']);
    const check = healthCheck(this.doc);
    if (check) {
      const protocol = String(check.protocol ?? 'HTTP');
      if (protocol.includes('HTTP')) set.add('/healthChecks/0/path');
      if (protocol === 'COMMAND') set.add('/healthChecks/0/command/value');
      else set.add('/healthChecks/0/portIndex');
      for (const f of CHECK_TIMINGS) set.add(f.pointer);
    }
    return set;
  }

  #text(pointer: string, label: string, error: string, options: { textarea?: boolean; supporting?: string; readonly?: boolean } = {}) {
    const value = read(this.doc, pointer);
    return html`<md-outlined-text-field
      label=${label}
      type=${options.textarea ? 'textarea' : 'text'}
      rows="2"
      spellcheck="false"
      autocapitalize="off"
      .value=${typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value)}
      supporting-text=${options.supporting ?? ''}
      ?readOnly=${options.readonly ?? false}
      ?error=${!!error}
      error-text=${error}
      data-pointer=${pointer}
      @input=${(e: Event) => {
        const text = (e.target as MdOutlinedTextField).value;
        this.#edit(pointer, text === '' && pointer !== '/id' ? undefined : text);
      }}
    ></md-outlined-text-field>`;
  }

  #number(field: NumberField, error: string, disabled: boolean, supporting = '') {
    const value = read(this.doc, field.pointer);
    const draft = this.drafts.get(field.pointer);
    const invalid = this.#invalid(field.pointer);
    return html`<md-outlined-text-field
      label=${field.label}
      type="number"
      inputmode=${field.integer ? 'numeric' : 'decimal'}
      min=${field.min ?? ''}
      step=${field.integer ? '1' : 'any'}
      suffix-text=${field.suffix ?? ''}
      supporting-text=${supporting}
      .value=${draft ?? (value === undefined ? '' : String(value))}
      ?error=${!!error || invalid}
      error-text=${error || (invalid ? (field.integer ? 'Enter a whole number' : 'Enter a number') : '')}
      ?disabled=${disabled}
      data-pointer=${field.pointer}
      @input=${(e: Event) => this.#onNumber(field, (e.target as MdOutlinedTextField).value)}
    ></md-outlined-text-field>`;
  }

  #invalid(pointer: string): boolean {
    return this.drafts.get(`${pointer}#invalid`) !== undefined;
  }

  #onNumber(field: NumberField, text: string) {
    const drafts = new Map(this.drafts);
    // Keep exactly what was typed ("0.10", "1e3") on screen; the JSON gets the number.
    drafts.set(field.pointer, text);
    const trimmed = text.trim();
    const n = Number(trimmed);
    const ok = trimmed === '' || (Number.isFinite(n) && (!field.integer || Number.isInteger(n)));
    if (ok) drafts.delete(`${field.pointer}#invalid`);
    else drafts.set(`${field.pointer}#invalid`, text);
    this.drafts = drafts;
    if (ok) this.#edit(field.pointer, trimmed === '' ? undefined : n, true);
  }

  #onPorts(text: string) {
    const drafts = new Map(this.drafts);
    drafts.set('/portDefinitions', text);
    const ports = parsePorts(text);
    if (ports) drafts.delete('/portDefinitions#invalid');
    else drafts.set('/portDefinitions#invalid', text);
    this.drafts = drafts;
    if (ports) this.#replace('/portDefinitions', withPorts(this.doc, ports));
  }

  #onProtocol(protocol: string) {
    this.#replace('/healthChecks/0/protocol', withHealthProtocol(this.doc, protocol));
  }

  #edit(pointer: string, value: unknown, keepDrafts = false) {
    this.#replace(pointer, write(this.doc, pointer, value), keepDrafts);
  }

  #replace(pointer: string, doc: Doc, keepDrafts = true) {
    this.doc = doc;
    this.text = JSON.stringify(doc, null, 2);
    if (!keepDrafts && this.drafts.has(pointer)) {
      const drafts = new Map(this.drafts);
      drafts.delete(pointer);
      this.drafts = drafts;
    }
    this.edited = new Set([...this.edited, ownerKey(pointer)]);
  }

  #onJson(text: string) {
    this.text = text;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        this.parseError = 'the definition must be a JSON object ({ … })';
        return;
      }
      this.doc = parsed as Doc;
      this.parseError = '';
      // The JSON is the truth now: what was typed into fields is shown from it again.
      this.drafts = new Map();
    } catch (error) {
      this.parseError = error instanceof Error ? error.message.replace(/^JSON\.parse: /, '') : String(error);
    }
  }

  #submit(event: SubmitEvent) {
    event.preventDefault();
    if (this.busy || this.unavailable) return;
    if (this.parseError) {
      this.textarea?.focus();
      return;
    }
    const invalid = [...this.drafts.keys()].find((k) => k.endsWith('#invalid'));
    if (invalid) {
      this.renderRoot.querySelector<HTMLElement>(`[data-pointer="${invalid.slice(0, -'#invalid'.length)}"]`)?.focus();
      return;
    }
    this.dispatchEvent(new CustomEvent<AppSubmitDetail>('yg-app-submit', { detail: { definition: structuredClone(this.doc) }, bubbles: true, composed: true }));
  }
}

/** Which form field an edit or error belongs to, for deciding which errors went stale. */
function ownerKey(pointer: string): string {
  const parts = pointer.split('/');
  return parts[1] === 'healthChecks' ? parts.slice(0, 4).join('/') : `/${parts[1] ?? ''}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-app-form': YgAppForm;
  }
  interface GlobalEventHandlersEventMap {
    'yg-app-submit': CustomEvent<AppSubmitDetail>;
    'yg-app-cancel': CustomEvent<void>;
  }
}
