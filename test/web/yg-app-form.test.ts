import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import { ownerOf, withPorts } from '../../src/components/app-definition-fields.js';
import { locatePointers } from '../../src/components/json-pointer.js';
import '../../src/components/yg-app-form.js';
import type { YgAppForm } from '../../src/components/yg-app-form.js';
import type { YgKeyValueEditor } from '../../src/components/yg-key-value-editor.js';
import { $, $$, byLabel, text, typeInto } from './harness.js';
import { useTheme } from './theme.js';

/** A definition with fields the form has no inputs for: they must survive every edit. */
const DEFINITION = {
  id: '/prod/web',
  cmd: 'python3 -m http.server $PORT0',
  instances: 1,
  cpus: 0.1,
  mem: 32,
  env: { LEVEL: 'info', DB_PASSWORD: { secret: 'db' } },
  labels: {},
  portDefinitions: [{ port: 0, name: 'http', protocol: 'tcp' }],
  constraints: [['hostname', 'UNIQUE']],
  upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
  fetch: [{ uri: 'https://example.com/site.tgz', extract: true }],
};

const field = (el: YgAppForm, label: string) =>
  $$<MdOutlinedTextField>(el, 'md-outlined-text-field').find((f) => f.label === label) ?? (() => { throw new Error(`no field ${label}`); })();
const editor = (el: YgAppForm, label: string) => $$<YgKeyValueEditor>(el, 'yg-key-value-editor').find((e) => e.label === label)!;
const json = (el: YgAppForm) => JSON.parse($<HTMLTextAreaElement>(el, 'textarea').value) as Record<string, unknown>;

async function form(props: Partial<YgAppForm> = {}): Promise<YgAppForm> {
  const el = await fixture<YgAppForm>(html`<yg-app-form .definition=${DEFINITION} mode=${props.mode ?? 'create'} .errors=${props.errors ?? []} .message=${props.message ?? ''}></yg-app-form>`);
  return el;
}

describe('yg-app-form', () => {
  before(() => useTheme());

  it('shows the definition in the form and as JSON', async () => {
    const el = await form();
    expect(field(el, 'Service ID').value).to.equal('/prod/web');
    expect(field(el, 'CPUs').value).to.equal('0.1');
    expect(field(el, 'Memory').value).to.equal('32');
    expect(field(el, 'Ports').value).to.equal('0');
    expect(json(el)).to.deep.equal(DEFINITION);
    await expect(el).to.be.accessible();
  });

  it('writes what is typed into the form to the JSON, keeping every field the form does not know', async () => {
    const el = await form();
    await typeInto(field(el, 'CPUs'), '0.25');
    await typeInto(field(el, 'Instances'), '3');
    await typeInto(field(el, 'Ports'), '0, 8080');
    await el.updateComplete;
    expect(field(el, 'CPUs').value).to.equal('0.25', 'what was typed stays as typed');
    const doc = json(el);
    expect(doc.cpus).to.equal(0.25);
    expect(doc.instances).to.equal(3);
    expect(doc.portDefinitions).to.deep.equal([{ port: 0, name: 'http', protocol: 'tcp' }, { port: 8080, protocol: 'tcp' }]);
    expect(doc.constraints).to.deep.equal(DEFINITION.constraints);
    expect(doc.upgradeStrategy).to.deep.equal(DEFINITION.upgradeStrategy);
    expect(doc.fetch).to.deep.equal(DEFINITION.fetch);

    const submitted = oneEvent(el, 'yg-app-submit');
    $(el, 'md-filled-button').click();
    const { definition } = (await submitted).detail;
    expect(definition).to.deep.equal({ ...DEFINITION, cpus: 0.25, instances: 3, portDefinitions: doc.portDefinitions });
  });

  it('takes edits of the JSON into the form, and waits while the JSON is broken', async () => {
    const el = await form();
    const area = $<HTMLTextAreaElement>(el, 'textarea');
    await typeInto(area, '{"id": "/other", "mem": 512, "secrets": {"db": {"source": "vault/db"}}');
    await el.updateComplete;
    expect(text($(el, '.problems'))).to.contain('This is not valid JSON');
    expect($<HTMLFieldSetElement>(el, 'fieldset.form').disabled).to.equal(true, 'the form waits');
    expect($<HTMLElement & { disabled: boolean }>(el, 'md-filled-button').disabled).to.equal(true);

    await typeInto(area, '{"id": "/other", "mem": 512, "secrets": {"db": {"source": "vault/db"}}}');
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('.problems')).to.equal(null);
    expect(field(el, 'Service ID').value).to.equal('/other');
    expect(field(el, 'Memory').value).to.equal('512');
    await typeInto(field(el, 'Memory'), '256');
    expect(json(el)).to.deep.equal({ id: '/other', mem: 256, secrets: { db: { source: 'vault/db' } } });
  });

  it('edits environment variables by name and value, leaving secret references alone', async () => {
    const el = await form();
    const env = editor(el, 'Environment variables');
    await env.updateComplete;
    const add = $$(env, 'md-text-button')[0]!;
    add.click();
    await env.updateComplete;
    const fields = $$<MdOutlinedTextField>(env, 'md-outlined-text-field');
    expect(fields).to.have.length(4, 'LEVEL, and the new row');
    await typeInto(fields[2]!, 'PORT_NAME');
    await typeInto(fields[3]!, 'http');
    expect(json(el).env).to.deep.equal({ DB_PASSWORD: { secret: 'db' }, LEVEL: 'info', PORT_NAME: 'http' });
    byLabel(env, 'md-icon-button', 'Remove LEVEL').click();
    await env.updateComplete;
    expect(json(el).env).to.deep.equal({ DB_PASSWORD: { secret: 'db' }, PORT_NAME: 'http' });
    await expect(el).to.be.accessible();
  });

  it('adds a health check from the protocol choice, with the fields that protocol needs', async () => {
    const el = await form();
    const protocol = $<MdOutlinedSelect>(el, 'md-outlined-select');
    protocol.select('HTTP');
    protocol.dispatchEvent(new Event('change', { bubbles: true }));
    await el.updateComplete;
    expect(json(el).healthChecks).to.deep.equal([
      { gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, protocol: 'HTTP', path: '/', portIndex: 0 },
    ]);
    await typeInto(field(el, 'Path'), '/health');
    await typeInto(field(el, 'Interval'), '5');
    const check = (json(el).healthChecks as Array<Record<string, unknown>>)[0]!;
    expect(check.path).to.equal('/health');
    expect(check.intervalSeconds).to.equal(5);

    protocol.select('COMMAND');
    protocol.dispatchEvent(new Event('change', { bubbles: true }));
    await el.updateComplete;
    expect(() => field(el, 'Path')).to.throw();
    await typeInto(field(el, 'Check command'), 'test -f ready');
    const command = (json(el).healthChecks as Array<Record<string, unknown>>)[0]!;
    expect(command.command).to.deep.equal({ value: 'test -f ready' });
    expect(command.path).to.equal(undefined);
    await expect(el).to.be.accessible();
  });

  it("shows the server's errors at their fields, and the others in the JSON with their line", async () => {
    const el = await form({
      message: 'Object is not valid',
      errors: [
        { path: '/cpus', errors: ['must be a number >= 0'] },
        { path: '/env/LEVEL', errors: ['must not be empty'] },
        { path: '/constraints/0', errors: ['unknown operator UNIQUE'] },
      ],
    });
    expect(text($(el, '.banner'))).to.contain('Object is not valid');
    expect(field(el, 'CPUs').error).to.equal(true);
    expect(field(el, 'CPUs').errorText).to.equal('must be a number >= 0');
    const env = editor(el, 'Environment variables');
    expect(env.error).to.equal('must not be empty');
    const problems = $(el, '.problems');
    expect(text(problems)).to.contain('/constraints/0 (line 22): unknown operator UNIQUE');
    expect($$(el, '.gutter .bad').map((d) => d.textContent)).to.deep.equal(['22']);

    // "Show" puts the cursor on the offending part of the JSON.
    $<HTMLButtonElement>(problems, 'button').click();
    const area = $<HTMLTextAreaElement>(el, 'textarea');
    expect(area.value.slice(area.selectionStart, area.selectionEnd).replace(/\s+/g, '')).to.equal('["hostname","UNIQUE"]');

    // An edited field's error is stale: it goes, the others stay.
    await typeInto(field(el, 'CPUs'), '0.5');
    await el.updateComplete;
    expect(field(el, 'CPUs').error).to.equal(false);
    expect(env.error).to.equal('must not be empty');
    await expect(el).to.be.accessible();
  });

  it('maps Marathon error paths to form fields', () => {
    const fields = new Set(['/id', '/cmd', '/cpus', '/env', '/portDefinitions', '/healthChecks/0/protocol', '/healthChecks/0/portIndex']);
    expect(ownerOf('/healthChecks/0/portIndex', fields)).to.equal('/healthChecks/0/portIndex');
    expect(ownerOf('/healthChecks/0/port', fields)).to.equal('/healthChecks/0/portIndex');
    expect(ownerOf('/healthChecks/0', fields)).to.equal('/healthChecks/0/protocol');
    expect(ownerOf('/portDefinitions/1/port', fields)).to.equal('/portDefinitions');
    expect(ownerOf('/args', fields)).to.equal('/cmd');
    expect(ownerOf('/healthChecks/0/path', fields)).to.equal(undefined, 'no path field for this check');
    expect(ownerOf('/constraints/0', fields)).to.equal(undefined);
    expect(withPorts({ ports: [1] }, [2, 3])).to.deep.equal({ ports: [2, 3] }, 'the deprecated form stays the deprecated form');
    const ranges = locatePointers('{\n  "a": [1, {"b": "x"}]\n}');
    expect(ranges.get('/a/1/b')).to.deep.include({ line: 2 });
  });
});
