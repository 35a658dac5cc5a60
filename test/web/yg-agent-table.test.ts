import { expect, fixture, html } from '@open-wc/testing';
import '../../src/components/yg-agent-table.js';
import type { YgAgentTable } from '../../src/components/yg-agent-table.js';
import { ROWS_PER_PAGE } from '../../src/components/more-rows.js';
import { FIRST_ROWS } from '../../src/components/yg-agent-table.js';
import { mockAgent, resources } from '../support/builders.js';
import { useTheme } from './theme.js';

const agents = [
  mockAgent({
    id: 'a1',
    hostname: 'node-1.dc1',
    resources: resources({ cpus: 4, mem: 8192, disk: 40960 }),
    allocated: resources({ cpus: 1.5, mem: 2048, disk: 0 }),
    attributes: { region: 'eu', zone: 'eu-1a' },
  }),
  mockAgent({ id: 'a2', hostname: 'node-2.dc1', state: 'UNREACHABLE' }),
];

function rows(el: YgAgentTable): HTMLTableRowElement[] {
  return [...el.shadowRoot!.querySelectorAll<HTMLTableRowElement>('tbody tr.row')];
}

function cellText(row: HTMLTableRowElement, label: string): string {
  return row.querySelector(`td[data-label="${label}"]`)!.textContent!.replace(/\s+/g, ' ').trim();
}

describe('yg-agent-table', () => {
  before(() => useTheme());

  it('shows each agent with hostname, state, usage of total, attributes and task count', async () => {
    const el = await fixture<YgAgentTable>(
      html`<yg-agent-table .agents=${agents} .taskCounts=${new Map([['a1', 3]])}></yg-agent-table>`,
    );
    const [first, second] = rows(el);
    expect(first!.querySelector('.title')!.textContent!.trim()).to.equal('node-1.dc1');
    expect(cellText(first!, 'State')).to.equal('ACTIVE');
    expect(cellText(first!, 'CPUs')).to.equal('1.5 / 4');
    expect(cellText(first!, 'Memory')).to.equal('2 GiB / 8 GiB');
    expect(cellText(first!, 'Disk')).to.equal('0 MiB / 40 GiB');
    const attributes = [...first!.querySelectorAll('.attributes li')].map((li) => li.textContent!.trim());
    expect(attributes).to.deep.equal(['region: eu', 'zone: eu-1a']);
    expect(cellText(second!, 'Attributes')).to.equal('—');
    expect(cellText(first!, 'Tasks')).to.equal('3');
    expect(cellText(second!, 'State')).to.equal('UNREACHABLE');
    expect(cellText(second!, 'Tasks')).to.equal('0');
    expect(second!.querySelector('yg-state-chip')!.tone).to.equal('lost');
    await expect(el).to.be.accessible();
  });

  it('re-renders by key: an unchanged agent keeps its row when others change or move', async () => {
    const el = await fixture<YgAgentTable>(html`<yg-agent-table .agents=${agents}></yg-agent-table>`);
    const [row1, row2] = rows(el);
    el.agents = [{ ...agents[1]!, state: 'ACTIVE' }, agents[0]!];
    await el.updateComplete;
    const after = rows(el);
    expect(after[1]).to.equal(row1, 'node-1 row moved, not rebuilt');
    expect(after[0]).to.equal(row2);
    expect(cellText(after[0]!, 'State')).to.equal('ACTIVE');
  });

  it('links each hostname to its node page', async () => {
    const el = await fixture<YgAgentTable>(html`<yg-agent-table .agents=${agents}></yg-agent-table>`);
    expect(rows(el).map((row) => row.querySelector('a')!.getAttribute('href'))).to.deep.equal(['/nodes/a1', '/nodes/a2']);
  });

  it('tells loading from empty', async () => {
    const loading = await fixture<YgAgentTable>(html`<yg-agent-table loading></yg-agent-table>`);
    expect(loading.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    expect(loading.shadowRoot!.textContent).to.include('Waiting for the master');
    await expect(loading).to.be.accessible();

    const empty = await fixture<YgAgentTable>(html`<yg-agent-table></yg-agent-table>`);
    expect(empty.shadowRoot!.querySelector('md-linear-progress')).to.not.exist;
    expect(empty.shadowRoot!.textContent).to.include('No agents yet');
    await expect(empty).to.be.accessible();
  });

  it('stacks rows as labelled cards when narrow', async () => {
    const el = await fixture<YgAgentTable>(
      html`<yg-agent-table style="width: 360px" .agents=${agents}></yg-agent-table>`,
    );
    const row = rows(el)[0]!;
    const cell = row.querySelector('td[data-label="CPUs"]')!;
    expect(getComputedStyle(row).display).to.equal('block');
    expect(getComputedStyle(cell, '::before').content).to.equal('"CPUs"');
    expect(el.scrollWidth).to.be.at.most(360, 'no horizontal overflow at 360 px');

    // getComputedStyle lays out what container queries need; no frame has to pass (and in a
    // background tab none would).
    el.style.width = '1000px';
    expect(getComputedStyle(row).display).to.equal('table-row');
  });

  it('renders a screenful first and the rest of the page in a task of its own', async () => {
    const many = Array.from({ length: 60 }, (_, i) => mockAgent({ id: `n${i}`, hostname: `node-${String(i).padStart(2, '0')}` }));
    const el = await fixture<YgAgentTable>(html`<yg-agent-table .agents=${many}></yg-agent-table>`);
    expect(rows(el)).to.have.length(FIRST_ROWS);
    await new Promise((r) => setTimeout(r));
    await el.updateComplete;
    expect(rows(el).map((r) => r.dataset.agent)).to.deep.equal(many.map((a) => a.id));
  });

  it('renders a long list a page at a time, with how many are shown and a button for more', async () => {
    expect(ROWS_PER_PAGE).to.equal(100, 'the default page');
    const many = Array.from({ length: 12 }, (_, i) => mockAgent({ id: `n${i}`, hostname: `node-${String(i).padStart(2, '0')}` }));
    const el = await fixture<YgAgentTable>(html`<yg-agent-table .agents=${many} .pageSize=${5}></yg-agent-table>`);
    expect(rows(el)).to.have.length(5);
    const more = el.shadowRoot!.querySelector('tr.more')!;
    expect(more.textContent!.replace(/\s+/g, ' ')).to.contain('Showing 5 of 12 nodes.');
    await expect(el).to.be.accessible();
    more.querySelector<HTMLElement>('md-text-button')!.click();
    await el.updateComplete;
    expect(rows(el)).to.have.length(10);
    expect(el.shadowRoot!.querySelector('tr.more md-text-button')!.textContent!.trim()).to.equal('Show 2 more');
    el.shadowRoot!.querySelector<HTMLElement>('tr.more md-text-button')!.click();
    await el.updateComplete;
    expect(rows(el).map((r) => r.dataset.agent)).to.deep.equal(many.map((a) => a.id));
    expect(el.shadowRoot!.querySelector('tr.more')).to.equal(null);
  });
});
