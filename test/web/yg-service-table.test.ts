import { expect, fixture, html } from '@open-wc/testing';
import '../../src/components/yg-service-table.js';
import type { YgServiceTable } from '../../src/components/yg-service-table.js';
import { serviceTree } from '../../src/components/yg-service-table.js';
import { ROWS_PER_PAGE } from '../../src/components/more-rows.js';
import { $, $$, text } from './harness.js';
import { mockService } from './mock-services.js';
import { useTheme } from './theme.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

const services = [
  mockService({ id: '/prod/web', healthChecked: true, tasksHealthy: 1, tasksUnhealthy: 1 }),
  mockService({ id: '/prod/db/primary', instances: 1, tasksRunning: 0, status: 'Waiting', waiting: 'no agent can take it' }),
  mockService({ id: '/tools', instances: 0, tasksRunning: 0, status: 'Suspended' }),
];

const rowOf = (el: YgServiceTable, name: string) => $$<HTMLTableRowElement>(el, 'tbody tr.row').find((r) => text($(r, 'td.title')).startsWith(name))!;
const cell = (row: HTMLTableRowElement, label: string) => text($(row, `td[data-label="${label}"]`));

describe('yg-service-table', () => {
  before(() => useTheme());

  it('builds the group tree from path ids: groups first, then apps, by name', () => {
    expect(serviceTree(services).map((r) => `${'  '.repeat(r.depth)}${r.kind}:${r.name}`)).to.deep.equal([
      'group:prod',
      '  group:db',
      '    app:primary',
      '  app:web',
      'app:tools',
    ]);
  });

  it('shows status, health of running, instances running/target, resources with units and version age', async () => {
    const el = await fixture<YgServiceTable>(html`<yg-service-table .services=${services} .now=${NOW}></yg-service-table>`);
    const web = rowOf(el, 'web');
    expect($<HTMLAnchorElement>(web, 'a').getAttribute('href')).to.equal(`/services/${encodeURIComponent('/prod/web')}`);
    expect(cell(web, 'Status')).to.equal('Running');
    expect(cell(web, 'Health')).to.equal('1 healthy · 1 unhealthy');
    expect(cell(web, 'Instances')).to.equal('2 / 2');
    expect(cell(web, 'CPUs')).to.equal('0.5');
    expect(cell(web, 'Memory')).to.equal('256 MiB');
    expect(cell(web, 'Version')).to.equal('5 min ago');
    const primary = rowOf(el, 'primary');
    expect(cell(primary, 'Status')).to.equal('Waiting');
    expect($(primary, 'yg-state-chip').getAttribute('title')).to.equal('no agent can take it');
    expect(cell(primary, 'Health')).to.equal('No checks');
    expect(cell(rowOf(el, 'prod'), 'Instances')).to.equal('2 / 3', 'a group sums its services');
    await expect(el).to.be.accessible();
  });

  it('folds and unfolds a group with its toggle', async () => {
    const el = await fixture<YgServiceTable>(html`<yg-service-table .services=${services} .now=${NOW}></yg-service-table>`);
    const toggle = $<HTMLButtonElement>(rowOf(el, 'prod'), 'button.toggle');
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    toggle.click();
    await el.updateComplete;
    expect($$(el, 'tbody tr.row').map((r) => text($(r, 'td.title')).split(' ')[0])).to.deep.equal(['prod', 'tools']);
    expect($<HTMLButtonElement>(rowOf(el, 'prod'), 'button.toggle').getAttribute('aria-expanded')).to.equal('false');
    $<HTMLButtonElement>(rowOf(el, 'prod'), 'button.toggle').click();
    await el.updateComplete;
    expect($$(el, 'tbody tr.row')).to.have.length(5);
    await expect(el).to.be.accessible();
  });

  it('tells loading from empty', async () => {
    const loading = await fixture<YgServiceTable>(html`<yg-service-table loading></yg-service-table>`);
    expect(loading.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    await expect(loading).to.be.accessible();
    const empty = await fixture<YgServiceTable>(html`<yg-service-table></yg-service-table>`);
    expect(text($(empty, '.message'))).to.contain('No services yet');
    await expect(empty).to.be.accessible();
  });

  it('renders a long list a page at a time', async () => {
    const many = Array.from({ length: 8 }, (_, i) => mockService({ id: `/s${i}` }));
    const el = await fixture<YgServiceTable>(html`<yg-service-table .services=${many} .now=${NOW} .pageSize=${5}></yg-service-table>`);
    expect($$(el, 'tbody tr.row')).to.have.length(5);
    expect(text($(el, 'tr.more'))).to.contain('Showing 5 of 8 rows.');
    $(el, 'tr.more md-text-button').click();
    await el.updateComplete;
    expect($$(el, 'tbody tr.row')).to.have.length(8);
    expect(ROWS_PER_PAGE).to.equal(100);
    await expect(el).to.be.accessible();
  });
});
