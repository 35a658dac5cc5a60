import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { TaskState } from '../../protocol/types.js';
import '../../src/components/yg-task-table.js';
import type { YgTaskTable } from '../../src/components/yg-task-table.js';
import { mockTask, resources } from '../support/builders.js';
import { useTheme } from './theme.js';

const NOW = 1_700_000_100_000;
const names = new Map([['a1', 'node-1.dc1']]);
const tasks = [
  mockTask({
    id: 'web.7f3c2a',
    name: 'web',
    agentId: 'a1',
    state: 'TASK_RUNNING',
    resources: resources({ cpus: 0.25, mem: 1536 }),
    updatedAt: NOW - 3_000,
  }),
  mockTask({ id: 'batch.1', name: 'batch', agentId: 'a1', state: 'TASK_FAILED', updatedAt: NOW - 5 * 60_000 }),
  mockTask({ id: 'orphan.1', name: 'orphan', agentId: 'gone-agent', state: 'TASK_LOST', updatedAt: NOW - 3 * 3_600_000 }),
];

function rows(el: YgTaskTable): HTMLTableRowElement[] {
  return [...el.shadowRoot!.querySelectorAll<HTMLTableRowElement>('tbody tr.row')];
}

function cellText(row: HTMLTableRowElement, label: string): string {
  return row.querySelector(`td[data-label="${label}"]`)!.textContent!.replace(/\s+/g, ' ').trim();
}

function chipBackground(row: HTMLTableRowElement): string {
  const chip = row.querySelector('yg-state-chip')!;
  return getComputedStyle(chip.shadowRoot!.querySelector('span')!).backgroundColor;
}

async function table(list = tasks): Promise<YgTaskTable> {
  return fixture<YgTaskTable>(html`<yg-task-table .tasks=${list} .agentNames=${names} .now=${NOW}></yg-task-table>`);
}

describe('yg-task-table', () => {
  before(() => useTheme());

  it('shows id, name, state, agent hostname, size and how long ago it changed', async () => {
    const el = await table();
    const [web, batch, orphan] = rows(el);
    expect(web!.querySelector('.title')!.textContent!.trim()).to.equal('web');
    expect(cellText(web!, 'ID')).to.equal('web.7f3c2a');
    expect(cellText(web!, 'State')).to.equal('RUNNING');
    expect(cellText(web!, 'Agent')).to.equal('node-1.dc1');
    expect(cellText(web!, 'CPUs')).to.equal('0.25');
    expect(cellText(web!, 'Memory')).to.equal('1.5 GiB');
    expect(cellText(web!, 'Updated')).to.equal('3 s ago');
    expect(cellText(batch!, 'Updated')).to.equal('5 min ago');
    expect(cellText(orphan!, 'Updated')).to.equal('3 h ago');
    expect(cellText(orphan!, 'Agent')).to.equal('gone-agent', 'an unknown agent shows its id');
    await expect(el).to.be.accessible();
  });

  it('colours state chips from per-state tokens', async () => {
    const el = await table();
    const [running, failed, lost] = rows(el).map(chipBackground);
    expect(new Set([running, failed, lost]).size).to.equal(3, 'running, failed and lost look different');

    // A theme can recolour one state without touching the others.
    el.style.setProperty('--yg-state-task-running-container', 'rgb(1, 2, 3)');
    expect(chipBackground(rows(el)[0]!)).to.equal('rgb(1, 2, 3)');
    expect(chipBackground(rows(el)[1]!)).to.equal(failed);
  });

  it('maps every task state to a labelled chip', async () => {
    const states: TaskState[] = ['TASK_STAGING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_UNREACHABLE'];
    const el = await table(states.map((state, i) => mockTask({ id: `t${i}`, agentId: 'a1', state, updatedAt: NOW })));
    expect(rows(el).map((row) => cellText(row, 'State'))).to.deep.equal([
      'STAGING',
      'KILLING',
      'FINISHED',
      'KILLED',
      'ERROR',
      'UNREACHABLE',
    ]);
    expect(rows(el).map((row) => row.querySelector('yg-state-chip')!.tone)).to.deep.equal([
      'pending',
      'warn',
      'neutral',
      'neutral',
      'error',
      'lost',
    ]);
    await expect(el).to.be.accessible();
  });

  it('keeps the rows of unchanged tasks when one task changes', async () => {
    const el = await table();
    const before = rows(el);
    el.tasks = [tasks[0]!, { ...tasks[1]!, state: 'TASK_RUNNING' }, tasks[2]!];
    await el.updateComplete;
    const after = rows(el);
    expect(after).to.deep.equal(before);
    expect(after.every((row, i) => row === before[i])).to.equal(true);
    expect(cellText(after[1]!, 'State')).to.equal('RUNNING');
  });

  it('reports a click on the agent as yg-agent-select', async () => {
    const el = await table();
    const button = rows(el)[0]!.querySelector<HTMLButtonElement>('td[data-label="Agent"] button')!;
    setTimeout(() => button.click());
    const event = await oneEvent(el, 'yg-agent-select');
    expect(event.detail).to.deep.equal({ agentId: 'a1' });
  });

  it('tells loading from empty', async () => {
    const loading = await fixture<YgTaskTable>(html`<yg-task-table loading></yg-task-table>`);
    expect(loading.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    const empty = await fixture<YgTaskTable>(html`<yg-task-table></yg-task-table>`);
    expect(empty.shadowRoot!.textContent).to.include('No tasks');
    await expect(empty).to.be.accessible();
  });
});
