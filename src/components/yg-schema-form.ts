import { LitElement, css, html, nothing } from 'lit';
import type { PropertyValues, TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '@material/web/select/outlined-select.js';
import '@material/web/select/select-option.js';
import '@material/web/switch/switch.js';
import '@material/web/textfield/outlined-text-field.js';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import type { MdSwitch } from '@material/web/switch/switch.js';
import type { ErrorDetail } from '../../protocol/types.js';
import type { JsonSchema } from '../data/catalog.js';
import { read, stringEntries, write } from './app-definition-fields.js';
import type { Doc } from './app-definition-fields.js';
import './yg-key-value-editor.js';
import type { Entry } from './yg-key-value-editor.js';

export type Options = Doc;

export interface OptionsChangeDetail {
  value: Options;
}

type Kind = 'object' | 'map' | 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'other';

const isRecord = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

const escapeKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** What kind of field a schema node is: `type` (the first that is not "null"), else guessed from its keywords. */
export function kindOf(schema: JsonSchema): Kind {
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null') : schema.type ? [schema.type] : [];
  const type = types[0] ?? (schema.properties ? 'object' : schema.enum ? typeof schema.enum[0] : schema.items ? 'array' : undefined);
  switch (type) {
    case 'object': {
      if (schema.properties && Object.keys(schema.properties).length) return 'object';
      const extra = schema.additionalProperties;
      return extra === undefined || extra === true || (isRecord(extra) && kindOf(extra) === 'string') ? 'map' : 'other';
    }
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return type;
    case 'array': {
      const item = schema.items ? kindOf(schema.items) : 'string';
      return item === 'string' || item === 'number' || item === 'integer' ? 'list' : 'other';
    }
    default:
      return 'other';
  }
}

/**
 * The options a package starts from: every default in the schema, nested objects included
 * (Cosmos fills the same defaults on the server). Objects without any default are left out.
 */
export function defaultsOf(schema: JsonSchema | undefined): Options {
  const value = defaultValue(schema ?? {});
  return isRecord(value) ? value : {};
}

function defaultValue(schema: JsonSchema): unknown {
  if (kindOf(schema) === 'object') {
    const out: Doc = isRecord(schema.default) ? structuredClone(schema.default) : {};
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (out[key] !== undefined) continue;
      const d = defaultValue(child);
      if (d !== undefined && !(isRecord(d) && Object.keys(d).length === 0 && kindOf(child) === 'object')) out[key] = d;
    }
    return out;
  }
  return schema.default === undefined ? undefined : structuredClone(schema.default);
}

/** Client-side checks of the keywords the form knows; the master checks again (422). */
export function validateOptions(schema: JsonSchema | undefined, value: unknown): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const add = (path: string, error: string) => out.push({ path, errors: [error] });
  const walk = (node: JsonSchema, v: unknown, path: string) => {
    const kind = kindOf(node);
    if (v === undefined || v === null) return;
    if (kind === 'object') {
      if (!isRecord(v)) return add(path, 'Must be an object');
      for (const key of node.required ?? []) {
        const child = v[key];
        if (child === undefined || child === null || (child === '' && kindOf(node.properties?.[key] ?? {}) === 'string')) add(`${path}/${escapeKey(key)}`, 'Required');
      }
      for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, v[key], `${path}/${escapeKey(key)}`);
      return;
    }
    if (node.enum && !node.enum.some((e) => Object.is(e, v))) return add(path, `One of ${node.enum.map((e) => JSON.stringify(e)).join(', ')}`);
    if (kind === 'string') {
      if (typeof v !== 'string') return add(path, 'Must be text');
      if (node.minLength !== undefined && v.length < node.minLength) return add(path, `At least ${node.minLength} characters`);
      if (node.maxLength !== undefined && v.length > node.maxLength) return add(path, `At most ${node.maxLength} characters`);
      if (node.pattern && v !== '' && !safeTest(node.pattern, v)) return add(path, `Must match ${node.pattern}`);
      return;
    }
    if (kind === 'number' || kind === 'integer') {
      if (typeof v !== 'number' || !Number.isFinite(v)) return add(path, 'Must be a number');
      if (kind === 'integer' && !Number.isInteger(v)) return add(path, 'Must be a whole number');
      const range = rangeText(node, v);
      if (range) add(path, range);
      return;
    }
    if (kind === 'boolean' && typeof v !== 'boolean') return add(path, 'Must be true or false');
    if (kind === 'list') {
      if (!Array.isArray(v)) return add(path, 'Must be a list');
      const item = node.items ?? {};
      v.forEach((x, i) => walk(item, x, `${path}/${i}`));
    }
  };
  walk(schema ?? {}, value, '');
  return out;
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true; // a pattern this browser cannot read is left to the master
  }
}

function rangeText(node: JsonSchema, v: number): string {
  const exMin = typeof node.exclusiveMinimum === 'number' ? node.exclusiveMinimum : node.exclusiveMinimum === true ? node.minimum : undefined;
  const exMax = typeof node.exclusiveMaximum === 'number' ? node.exclusiveMaximum : node.exclusiveMaximum === true ? node.maximum : undefined;
  if (exMin !== undefined && v <= exMin) return `Must be more than ${exMin}`;
  if (exMax !== undefined && v >= exMax) return `Must be less than ${exMax}`;
  if (node.minimum !== undefined && exMin === undefined && v < node.minimum) return `At least ${node.minimum}`;
  if (node.maximum !== undefined && exMax === undefined && v > node.maximum) return `At most ${node.maximum}`;
  return '';
}

/** Every pointer the form shows a field or a section for. */
export function formPointers(schema: JsonSchema | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: JsonSchema, path: string) => {
    if (path) out.add(path);
    if (kindOf(node) === 'object') for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}/${escapeKey(key)}`);
  };
  walk(schema ?? {}, '');
  return out;
}

/**
 * Errors by the field or section that shows them: the pointer itself, or the nearest one above
 * it (an error about `/service/ports/0` shows at the ports field). The rest (the root, pointers
 * outside the options) are for the caller to show.
 */
export function placeOptionErrors(errors: readonly ErrorDetail[], pointers: ReadonlySet<string>): { byPointer: Map<string, string[]>; rest: ErrorDetail[] } {
  const byPointer = new Map<string, string[]>();
  const rest: ErrorDetail[] = [];
  for (const error of errors) {
    let p = error.path === '/' ? '' : error.path;
    while (p && !pointers.has(p)) p = p.slice(0, p.lastIndexOf('/'));
    if (p) byPointer.set(p, [...(byPointer.get(p) ?? []), ...error.errors]);
    else rest.push(error);
  }
  return { byPointer, rest };
}

/** "service_name" → "service name"; a schema's title wins. */
const labelOf = (key: string, schema: JsonSchema) => schema.title ?? key;

/**
 * A form generated from a package's options schema (JSON Schema): nested objects as sections,
 * text, number, whole-number, yes/no and choice fields with their limits, descriptions as
 * supporting text, required fields marked. Controlled: `value` in, `yg-options-change` with the
 * whole new value out. `errors` (the master's, by JSON pointer) show at their field until it is
 * edited; the form's own checks show once a field was edited or after `reportValidity()`.
 */
@customElement('yg-schema-form')
export class YgSchemaForm extends LitElement {
  static override styles = css`
    :host {
      display: block;
      font-family: var(--yg-font, sans-serif);
      color: var(--md-sys-color-on-surface, #191c20);
    }
    .fields {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(min(100%, 15rem), 1fr));
      gap: 16px;
      align-items: start;
    }
    .wide,
    section {
      grid-column: 1 / -1;
    }
    section {
      min-width: 0;
      padding: 16px;
      border-radius: var(--yg-radius, 12px);
      border: 1px solid var(--md-sys-color-outline-variant, #c3c7cf);
    }
    section section {
      padding: 12px 0 0 16px;
      border: 0;
      border-inline-start: 2px solid var(--md-sys-color-outline-variant, #c3c7cf);
      border-radius: 0;
    }
    .heading {
      margin: 0 0 4px;
      font-size: 1rem;
      line-height: 1.5rem;
      font-weight: 500;
      overflow-wrap: anywhere;
    }
    section section .heading {
      font-size: 0.875rem;
    }
    .description {
      margin: 0 0 16px;
      font-size: 0.875rem;
      line-height: 1.25rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
    md-outlined-text-field,
    md-outlined-select {
      width: 100%;
      min-width: 0;
    }
    .switch {
      font-size: 0.875rem;
    }
    .switch label {
      display: flex;
      align-items: center;
      gap: 16px;
      cursor: pointer;
      overflow-wrap: anywhere;
    }
    md-switch {
      flex: none;
    }
    .switch .description,
    .switch .error {
      margin: 4px 0 0 68px;
    }
    .switch .description,
    .other .description {
      font-size: 0.75rem;
      line-height: 1rem;
    }
    .other .description {
      margin: 4px 0 0;
    }
    .error {
      margin: 8px 0 0;
      font-size: 0.75rem;
      line-height: 1rem;
      color: var(--md-sys-color-error, #ba1a1a);
    }
    section > .error {
      margin: 0 0 12px;
      font-size: 0.875rem;
    }
    .other {
      font-size: 0.875rem;
    }
    .other code {
      display: block;
      margin-top: 4px;
      font-family: var(--yg-font-mono, monospace);
      font-size: 0.8125rem;
      overflow-wrap: anywhere;
    }
    @media (max-width: 599px) {
      section {
        padding: 12px;
      }
    }
    .none {
      margin: 0;
      font-size: 0.875rem;
      color: var(--md-sys-color-on-surface-variant, #43474e);
    }
  `;

  @property({ attribute: false }) schema: JsonSchema = {};
  @property({ attribute: false }) value: Options = {};
  /** The master's validation details (JSON pointers into the options). */
  @property({ attribute: false }) errors: readonly ErrorDetail[] = [];
  @property({ type: Boolean }) disabled = false;

  /** Text typed into number and list fields that is not (yet) a value, by pointer. */
  @state() private drafts: ReadonlyMap<string, { text: string; invalid: string }> = new Map();
  /** Fields edited since `errors` came: their server errors are stale, their own checks show. */
  @state() private edited: ReadonlySet<string> = new Set();
  @state() private checkAll = false;
  #emitted: Options | undefined;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('errors')) this.edited = new Set();
    // A value that did not come from this form (the JSON view, a reset) replaces what was typed.
    if (changed.has('value') && this.value !== this.#emitted && this.drafts.size) this.drafts = new Map();
    if (changed.has('schema')) {
      this.checkAll = false;
      this.drafts = new Map();
    }
  }

  /** The form's own problems (required, limits, patterns, unreadable numbers), by pointer. */
  get problems(): ErrorDetail[] {
    const drafts = [...this.drafts.entries()].filter(([, d]) => d.invalid).map(([path, d]) => ({ path, errors: [d.invalid] }));
    const drafted = new Set(drafts.map((d) => d.path));
    return [...drafts, ...validateOptions(this.schema, this.value).filter((e) => !drafted.has(e.path))];
  }

  /** Shows every problem and focuses the first field that has one. True when there is none. */
  async reportValidity(): Promise<boolean> {
    this.checkAll = true;
    const first = this.problems[0];
    if (!first) return true;
    await this.updateComplete;
    this.#focus(first.path);
    return false;
  }

  /** Focuses the field (or section) a pointer belongs to. */
  focusPointer(pointer: string): void {
    this.#focus(pointer);
  }

  #focus(pointer: string) {
    const pointers = formPointers(this.schema);
    let p = pointer;
    while (p && !pointers.has(p)) p = p.slice(0, p.lastIndexOf('/'));
    const el = this.renderRoot.querySelector<HTMLElement>(`[data-pointer="${CSS.escape(p)}"]`);
    el?.focus();
    el?.scrollIntoView?.({ block: 'center' });
  }

  override render() {
    const properties = Object.entries(this.schema.properties ?? {});
    if (properties.length === 0) return html`<p class="none">This package has no options: it installs as it is.</p>`;
    const pointers = formPointers(this.schema);
    const server = placeOptionErrors(
      this.errors.filter((e) => ![...this.edited].some((p) => e.path === p || e.path.startsWith(`${p}/`))),
      pointers,
    ).byPointer;
    const own = new Map<string, string>();
    for (const problem of this.problems) {
      if (!this.checkAll && !this.edited.has(problem.path) && !this.drafts.has(problem.path)) continue;
      if (!own.has(problem.path)) own.set(problem.path, problem.errors.join('; '));
    }
    const errorAt = (pointer: string) => own.get(pointer) ?? server.get(pointer)?.join('; ') ?? '';
    return html`<div class="fields">${this.#properties(this.schema, '', errorAt, 3)}</div>`;
  }

  #properties(schema: JsonSchema, path: string, errorAt: (p: string) => string, level: number): TemplateResult[] {
    const required = new Set(schema.required ?? []);
    return Object.entries(schema.properties ?? {}).map(([key, child]) =>
      this.#field(key, child, `${path}/${escapeKey(key)}`, required.has(key), errorAt, level),
    );
  }

  #field(key: string, schema: JsonSchema, pointer: string, required: boolean, errorAt: (p: string) => string, level: number): TemplateResult {
    const label = labelOf(key, schema);
    const error = errorAt(pointer);
    const description = schema.description ?? '';
    const value = read(this.value, pointer);
    const kind = kindOf(schema);
    const id = `f${pointer.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
    switch (kind) {
      case 'object':
        return html`<section aria-labelledby=${`${id}-h`} data-pointer=${pointer} tabindex="-1">
          <div class="heading" role="heading" aria-level=${Math.min(level, 6)} id=${`${id}-h`}>${label}</div>
          ${description ? html`<p class="description">${description}</p>` : nothing}
          ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}
          <div class="fields">${this.#properties(schema, pointer, errorAt, level + 1)}</div>
        </section>`;
      case 'boolean':
        return html`<div class="switch wide">
          <label>
            <md-switch
              data-pointer=${pointer}
              .selected=${value === true}
              ?disabled=${this.disabled}
              @change=${(e: Event) => this.#edit(pointer, (e.target as MdSwitch).selected)}
            ></md-switch>
            <span>${label}${required ? ' *' : ''}</span>
          </label>
          ${description ? html`<p class="description">${description}</p>` : nothing}
          ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}
        </div>`;
      case 'string':
      case 'number':
      case 'integer':
        if (schema.enum?.length) return this.#select(label, schema, pointer, value, required, error, description);
        return kind === 'string'
          ? this.#text(label, schema, pointer, value, required, error, description)
          : this.#number(label, schema, pointer, value, required, error, description, kind === 'integer');
      case 'list':
        return this.#list(label, schema, pointer, value, required, error, description);
      case 'map':
        return html`<div class="wide" data-pointer=${pointer} tabindex="-1">
          <yg-key-value-editor
            label=${label}
            addLabel="Add entry"
            .entries=${stringEntries(value) as Entry[]}
            .error=${error}
            ?disabled=${this.disabled}
            @yg-entries-change=${(e: CustomEvent<{ entries: Entry[] }>) => this.#edit(pointer, Object.fromEntries(e.detail.entries))}
          ></yg-key-value-editor>
          ${description ? html`<p class="description">${description}</p>` : nothing}
        </div>`;
      default:
        return html`<div class="other wide" data-pointer=${pointer} tabindex="-1">
          <strong>${label}</strong>${required ? ' *' : ''} — edit this one in the JSON view.
          ${description ? html`<p class="description">${description}</p>` : nothing}
          <code>${value === undefined ? 'not set' : JSON.stringify(value)}</code>
          ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}
        </div>`;
    }
  }

  #text(label: string, schema: JsonSchema, pointer: string, value: unknown, required: boolean, error: string, description: string) {
    const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
    const long = text.length > 60 || text.includes('\n') || (schema.maxLength ?? 0) > 200;
    const secret = schema.format === 'password' || /password|secret|token/i.test(pointer.split('/').pop() ?? '');
    return html`<md-outlined-text-field
      class=${long ? 'wide' : ''}
      label=${label}
      type=${long ? 'textarea' : secret ? 'password' : 'text'}
      rows="3"
      spellcheck="false"
      autocapitalize="off"
      autocomplete="off"
      .value=${text}
      ?required=${required}
      minlength=${schema.minLength ?? nothing}
      maxlength=${schema.maxLength ?? nothing}
      pattern=${schema.pattern ?? nothing}
      supporting-text=${description}
      ?error=${!!error}
      error-text=${error}
      ?disabled=${this.disabled}
      data-pointer=${pointer}
      @input=${(e: Event) => this.#edit(pointer, (e.target as MdOutlinedTextField).value)}
    ></md-outlined-text-field>`;
  }

  #number(label: string, schema: JsonSchema, pointer: string, value: unknown, required: boolean, error: string, description: string, integer: boolean) {
    const draft = this.drafts.get(pointer);
    return html`<md-outlined-text-field
      label=${label}
      type="number"
      inputmode=${integer ? 'numeric' : 'decimal'}
      min=${schema.minimum ?? (typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : nothing)}
      max=${schema.maximum ?? (typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : nothing)}
      step=${integer ? '1' : 'any'}
      .value=${draft?.text ?? (typeof value === 'number' ? String(value) : value === undefined ? '' : String(value))}
      ?required=${required}
      supporting-text=${description}
      ?error=${!!error}
      error-text=${error}
      ?disabled=${this.disabled}
      data-pointer=${pointer}
      @input=${(e: Event) => this.#onNumber(pointer, (e.target as MdOutlinedTextField).value, integer)}
    ></md-outlined-text-field>`;
  }

  #select(label: string, schema: JsonSchema, pointer: string, value: unknown, required: boolean, error: string, description: string) {
    const choices = schema.enum ?? [];
    const index = choices.findIndex((c) => Object.is(c, value));
    return html`<md-outlined-select
      label=${label}
      ?required=${required}
      supporting-text=${description}
      ?error=${!!error}
      error-text=${error}
      ?disabled=${this.disabled}
      data-pointer=${pointer}
      @change=${(e: Event) => {
        const i = Number((e.target as MdOutlinedSelect).value);
        this.#edit(pointer, Number.isInteger(i) && i >= 0 ? choices[i] : undefined);
      }}
    >
      ${required ? nothing : html`<md-select-option value="-1" ?selected=${index < 0}><div slot="headline">Not set</div></md-select-option>`}
      ${choices.map(
        (c, i) => html`<md-select-option value=${String(i)} ?selected=${i === index}><div slot="headline">${typeof c === 'string' ? c : JSON.stringify(c)}</div></md-select-option>`,
      )}
    </md-outlined-select>`;
  }

  #list(label: string, schema: JsonSchema, pointer: string, value: unknown, required: boolean, error: string, description: string) {
    const draft = this.drafts.get(pointer);
    const text = draft?.text ?? (Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n') : '');
    const numeric = schema.items ? kindOf(schema.items) : 'string';
    return html`<md-outlined-text-field
      class="wide"
      label=${label}
      type="textarea"
      rows="3"
      spellcheck="false"
      autocapitalize="off"
      .value=${text}
      ?required=${required}
      supporting-text=${[description, 'One per line.'].filter(Boolean).join(' ')}
      ?error=${!!error}
      error-text=${error}
      ?disabled=${this.disabled}
      data-pointer=${pointer}
      @input=${(e: Event) => this.#onList(pointer, (e.target as MdOutlinedTextField).value, numeric)}
    ></md-outlined-text-field>`;
  }

  #onNumber(pointer: string, text: string, integer: boolean) {
    const trimmed = text.trim();
    const n = Number(trimmed);
    const ok = trimmed === '' || (Number.isFinite(n) && (!integer || Number.isInteger(n)));
    this.#draft(pointer, text, ok ? '' : integer ? 'Enter a whole number' : 'Enter a number');
    if (ok) this.#edit(pointer, trimmed === '' ? undefined : n);
    else this.#markEdited(pointer);
  }

  #onList(pointer: string, text: string, item: Kind) {
    const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
    const numeric = item === 'number' || item === 'integer';
    const values = numeric ? lines.map(Number) : lines;
    const ok = !numeric || values.every((n) => Number.isFinite(n as number) && (item !== 'integer' || Number.isInteger(n)));
    this.#draft(pointer, text, ok ? '' : item === 'integer' ? 'Whole numbers, one per line' : 'Numbers, one per line');
    if (ok) this.#edit(pointer, values);
    else this.#markEdited(pointer);
  }

  #draft(pointer: string, text: string, invalid: string) {
    const drafts = new Map(this.drafts);
    drafts.set(pointer, { text, invalid });
    this.drafts = drafts;
  }

  #markEdited(pointer: string) {
    if (!this.edited.has(pointer)) this.edited = new Set([...this.edited, pointer]);
  }

  #edit(pointer: string, value: unknown) {
    this.#markEdited(pointer);
    const next = write(this.value, pointer, value);
    this.#emitted = next;
    this.value = next;
    this.dispatchEvent(new CustomEvent<OptionsChangeDetail>('yg-options-change', { detail: { value: next }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-schema-form': YgSchemaForm;
  }
  interface GlobalEventHandlersEventMap {
    'yg-options-change': CustomEvent<OptionsChangeDetail>;
  }
}
