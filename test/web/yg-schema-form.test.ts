import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { MdSwitch } from '@material/web/switch/switch.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import '../../src/components/yg-schema-form.js';
import { defaultsOf, kindOf, placeOptionErrors, formPointers, validateOptions } from '../../src/components/yg-schema-form.js';
import type { Options, YgSchemaForm } from '../../src/components/yg-schema-form.js';
import type { JsonSchema } from '../../src/data/catalog.js';
import { $, $$, settle, text, typeInto } from './harness.js';
import { useTheme } from './theme.js';

const SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    service: {
      type: 'object',
      description: 'How the service runs.',
      properties: {
        name: { type: 'string', default: 'hello', description: 'The Marathon app id.', pattern: '^[a-z][a-z0-9-]*$' },
        cpus: { type: 'number', default: 0.1, minimum: 0.01, maximum: 4, description: 'CPUs per instance.' },
        instances: { type: 'integer', default: 1, minimum: 0 },
        log_level: { type: 'string', enum: ['debug', 'info', 'warn'], default: 'info' },
        public: { type: 'boolean', default: false, description: 'Reachable through /service/<name>/.' },
      },
      required: ['name', 'instances'],
    },
    web: {
      type: 'object',
      properties: {
        greeting: { type: 'string', title: 'Greeting', default: 'Hello' },
        ports: { type: 'array', items: { type: 'integer' } },
        env: { type: 'object', additionalProperties: { type: 'string' } },
        sidecars: { type: 'array', items: { type: 'object', properties: { image: { type: 'string' } } } },
      },
    },
  },
};

const DEFAULTS = { service: { name: 'hello', cpus: 0.1, instances: 1, log_level: 'info', public: false }, web: { greeting: 'Hello' } };

async function form(value: Options = structuredClone(DEFAULTS)) {
  const el = await fixture<YgSchemaForm>(html`<yg-schema-form .schema=${SCHEMA} .value=${value}></yg-schema-form>`);
  const changes: Options[] = [];
  el.addEventListener('yg-options-change', (e) => {
    changes.push(e.detail.value);
    el.value = e.detail.value;
  });
  await settle(el);
  return { el, changes };
}

const field = (el: YgSchemaForm, label: string) => {
  const found = $$<MdOutlinedTextField>(el, 'md-outlined-text-field').find((f) => f.label === label);
  if (!found) throw new Error(`no field ${label}`);
  return found;
};

describe('schema helpers', () => {
  it('fills every default, nested ones too, and leaves out objects without any', () => {
    expect(defaultsOf(SCHEMA)).to.deep.equal(DEFAULTS);
    expect(defaultsOf(undefined)).to.deep.equal({});
    expect(defaultsOf({ type: 'object', properties: { a: { type: 'object', default: { x: 1 }, properties: { y: { type: 'integer', default: 2 } } } } })).to.deep.equal({ a: { x: 1, y: 2 } });
  });

  it('tells field kinds from type and keywords', () => {
    expect(['object', 'string', 'integer', 'boolean'].map((type) => kindOf({ type, ...(type === 'object' ? { properties: { a: {} } } : {}) }))).to.deep.equal([
      'object',
      'string',
      'integer',
      'boolean',
    ]);
    expect(kindOf({ type: ['null', 'number'] })).to.equal('number');
    expect(kindOf({ enum: ['a', 'b'] })).to.equal('string');
    expect(kindOf({ type: 'object' })).to.equal('map');
    expect(kindOf({ type: 'array', items: { type: 'string' } })).to.equal('list');
    expect(kindOf({ type: 'array', items: { type: 'object' } })).to.equal('other');
  });

  it('checks required, limits, patterns, whole numbers and choices', () => {
    const bad = { service: { name: '9lives', cpus: 8, instances: 1.5, log_level: 'loud' }, web: { ports: [80, 'x'] } };
    expect(validateOptions(SCHEMA, bad)).to.deep.equal([
      { path: '/service/name', errors: ['Must match ^[a-z][a-z0-9-]*$'] },
      { path: '/service/cpus', errors: ['At most 4'] },
      { path: '/service/instances', errors: ['Must be a whole number'] },
      { path: '/service/log_level', errors: ['One of "debug", "info", "warn"'] },
      { path: '/web/ports/1', errors: ['Must be a number'] },
    ]);
    expect(validateOptions(SCHEMA, { service: { name: '' } })).to.deep.equal([
      { path: '/service/name', errors: ['Required'] },
      { path: '/service/instances', errors: ['Required'] },
    ]);
    expect(validateOptions(SCHEMA, DEFAULTS)).to.deep.equal([]);
  });

  it('places errors at the nearest field or section and returns the rest', () => {
    const { byPointer, rest } = placeOptionErrors(
      [
        { path: '/service/cpus', errors: ['too many'] },
        { path: '/web/ports/0', errors: ['taken'] },
        { path: '/service', errors: ['missing name'] },
        { path: '/', errors: ['no'] },
        { path: '/unknown', errors: ['what'] },
      ],
      formPointers(SCHEMA),
    );
    expect([...byPointer]).to.deep.equal([
      ['/service/cpus', ['too many']],
      ['/web/ports', ['taken']],
      ['/service', ['missing name']],
    ]);
    expect(rest.map((e) => e.path)).to.deep.equal(['/', '/unknown']);
  });
});

describe('yg-schema-form', () => {
  before(() => useTheme());

  it('draws sections, fields with their limits and descriptions, and marks required fields', async () => {
    const { el } = await form();
    expect($$(el, '[role="heading"]').map((h) => text(h))).to.deep.equal(['service', 'web']);
    expect(text($(el, 'section .description'))).to.equal('How the service runs.');
    const cpus = field(el, 'cpus');
    expect([cpus.type, cpus.min, cpus.max, cpus.step, cpus.value, cpus.supportingText]).to.deep.equal(['number', '0.01', '4', 'any', '0.1', 'CPUs per instance.']);
    const instances = field(el, 'instances');
    expect([instances.step, instances.required]).to.deep.equal(['1', true]);
    expect([field(el, 'name').required, field(el, 'name').pattern]).to.deep.equal([true, '^[a-z][a-z0-9-]*$']);
    expect(field(el, 'Greeting').value).to.equal('Hello');
    expect($<MdOutlinedSelect>(el, 'md-outlined-select').label).to.equal('log_level');
    expect($<MdSwitch>(el, 'md-switch').selected).to.equal(false);
    expect(text($(el, '.other'))).to.contain('sidecars');
    await expect(el).to.be.accessible();
  });

  it('reports what is typed as typed values: text, numbers, whole numbers, lists', async () => {
    const { el, changes } = await form();
    await typeInto(field(el, 'name'), 'greeter');
    await typeInto(field(el, 'cpus'), '0.5');
    await typeInto(field(el, 'instances'), '3');
    await typeInto(field(el, 'ports'), '8080\n8081');
    const last = changes[changes.length - 1]!;
    expect(last).to.deep.equal({
      service: { name: 'greeter', cpus: 0.5, instances: 3, log_level: 'info', public: false },
      web: { greeting: 'Hello', ports: [8080, 8081] },
    });
  });

  it('switches booleans and picks choices, or none for an optional one', async () => {
    const { el, changes } = await form();
    const toggle = $<MdSwitch>(el, 'md-switch');
    toggle.focus();
    await settle(el);
    const changed = oneEvent(el, 'yg-options-change');
    toggle.click();
    await changed;
    expect((changes.at(-1)!.service as Options).public).to.equal(true);

    const select = $<MdOutlinedSelect>(el, 'md-outlined-select');
    select.selectIndex(1);
    select.dispatchEvent(new Event('change', { bubbles: true }));
    expect((changes.at(-1)!.service as Options).log_level).to.equal('debug');
    select.selectIndex(0);
    select.dispatchEvent(new Event('change', { bubbles: true }));
    expect(Object.keys(changes.at(-1)!.service as Options)).not.to.include('log_level');
  });

  it('keeps unreadable numbers on screen and says what is wrong at the field', async () => {
    const { el, changes } = await form();
    await typeInto(field(el, 'instances'), '2.5');
    await settle(el);
    expect(field(el, 'instances').value).to.equal('2.5');
    expect(field(el, 'instances').errorText).to.equal('Enter a whole number');
    expect((changes.at(-1)!.service as Options).instances).to.equal(2, 'the last whole number typed ("2.") is the value');
    await typeInto(field(el, 'cpus'), '9');
    await settle(el);
    expect(field(el, 'cpus').errorText).to.equal('At most 4');
    expect(el.problems.map((p) => p.path)).to.deep.equal(['/service/instances', '/service/cpus']);
    await expect(el).to.be.accessible();
  });

  it('shows every problem on reportValidity and focuses the first field', async () => {
    const { el } = await form({ service: { name: '', cpus: 0.1, log_level: 'info' } });
    expect(field(el, 'name').error).to.equal(false, 'not before the user touched it or submitted');
    expect(await el.reportValidity()).to.equal(false);
    await settle(el);
    expect(field(el, 'name').errorText).to.equal('Required');
    expect(field(el, 'instances').errorText).to.equal('Required');
    await waitUntil(() => el.shadowRoot!.activeElement === field(el, 'name'), 'the first bad field has the focus');
  });

  it("puts the master's errors at their fields until the field is edited", async () => {
    const { el } = await form();
    el.errors = [
      { path: '/service/name', errors: ['an app /hello already exists'] },
      { path: '/web/env/A', errors: ['not allowed'] },
    ];
    await settle(el);
    expect(field(el, 'name').errorText).to.equal('an app /hello already exists');
    expect(text($(el, 'yg-key-value-editor'))).to.contain('not allowed');
    await typeInto(field(el, 'name'), 'hello-2');
    await settle(el);
    expect(field(el, 'name').error).to.equal(false);
    await expect(el).to.be.accessible();
  });

  it('says so when a package has no options', async () => {
    const el = await fixture<YgSchemaForm>(html`<yg-schema-form .schema=${{ type: 'object' }}></yg-schema-form>`);
    expect(text($(el, '.none'))).to.contain('no options');
    await expect(el).to.be.accessible();
  });
});
