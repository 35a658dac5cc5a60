import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import type { TaskState, TaskSummary } from '../../protocol/types.js';
import '../../src/components/yg-task-list.js';
import type { YgTaskList } from '../../src/components/yg-task-list.js';
import { YgTaskRow } from '../../src/components/yg-task-row.js';
import { mockTaskSummary, resources } from '../support/builders.js';
import { $, $$, press, text } from './harness.js';
import { useTheme } from './theme.js';

const NOW = 1_700_000_100_000;
const names = new Map([['a1', 'node-1.dc1']]);

function many(n: number): TaskSummary[] {
  return Array.from({ length: n }, (_, i) =>
    mockTaskSummary({
      id: `task-${String(i).padStart(5, '0')}`,
      name: `worker-${i}`,
      agentId: 'a1',
      labels: i % 2 ? { YAGURA_APP_ID: '/prod/web' } : {},
      resources: resources({ cpus: 0.25, mem: 1536 }),
      updatedAt: NOW - 3_000,
    }),
  );
}

const rows = (el: YgTaskList) => $$<YgTaskRow>(el, 'yg-task-row');
const row = (el: YgTaskList, id: string) => rows(el).find((r) => r.task?.id === id);
const cell = (r: YgTaskRow, cls: string) => text($(r, `.${cls}`));

async function list(tasks: readonly TaskSummary[], width = 1000): Promise<YgTaskList> {
  const el = await fixture<YgTaskList>(
    html`<yg-task-list style=${`width:${width}px`} .tasks=${tasks} .agentNames=${names} .now=${NOW}></yg-task-list>`,
  );
  await waitUntil(() => rows(el).length > 0 || tasks.length === 0, 'rows render');
  await Promise.all(rows(el).map((r) => r.updateComplete));
  return el;
}

describe('yg-task-list', () => {
  before(() => useTheme());
  afterEach(() => window.scrollTo(0, 0));

  it('shows name, ID, state, service, agent, resources with units and a relative time with the absolute one', async () => {
    const el = await list(many(3));
    const second = row(el, 'task-00001')!;
    expect(cell(second, 'c-name')).to.equal('worker-1');
    expect($<HTMLAnchorElement>(second, '.c-name a').getAttribute('href')).to.equal('/tasks/task-00001');
    expect(cell(second, 'c-id')).to.equal('task-00001');
    expect(cell(second, 'c-state')).to.equal('RUNNING');
    expect(cell(second, 'c-service')).to.equal('/prod/web');
    expect($<HTMLAnchorElement>(second, '.c-service a').getAttribute('href')).to.equal(`/services/${encodeURIComponent('/prod/web')}`);
    expect(cell(second, 'c-agent')).to.equal('node-1.dc1');
    expect(cell(second, 'c-mem')).to.equal('1.5 GiB');
    const time = $(second, 'time');
    expect(time.textContent).to.equal('3 s ago');
    expect(time.getAttribute('title')).to.match(/2023/);
    expect(cell(row(el, 'task-00000')!, 'c-service')).to.equal('—');
    await expect(el).to.be.accessible();
  });

  it('renders only the rows near the window for 10,000 tasks, and the rows further on after scrolling', async () => {
    const tasks = many(10_000);
    const el = await list(tasks);
    const table = $(el, '[role="table"]');
    expect(table.getAttribute('aria-rowcount')).to.equal('10001');
    expect(rows(el).length).to.be.within(1, 60, 'a window of rows, not ten thousand');

    const body = $(el, '.body');
    const target = 5000;
    window.scrollTo(0, body.getBoundingClientRect().top + window.scrollY + target * el.rowHeight);
    // Scroll events come with a rendered frame; a page in the background may not get one soon.
    window.dispatchEvent(new Event('scroll'));
    await waitUntil(() => row(el, `task-0${target}`), 'the row in the middle renders once scrolled to');
    const shown = row(el, `task-0${target}`)!;
    expect(shown.getAttribute('aria-rowindex')).to.equal(String(target + 2));
    expect(rows(el).length).to.be.below(80);
    expect(row(el, 'task-00001') === undefined, 'rows far above the window are gone').to.equal(true);
    expect(row(el, 'task-00000') !== undefined, 'the row keyboard focus rests on stays').to.equal(true);
  });

  it('re-renders only the row of the task that changed', async () => {
    const tasks = many(40);
    const el = await list(tasks);
    const rendered: string[] = [];
    const original = YgTaskRow.prototype.render;
    YgTaskRow.prototype.render = function (this: YgTaskRow) {
      rendered.push(this.task!.id);
      return original.call(this);
    };
    try {
      const before = rows(el);
      const changed = { ...tasks[3]!, state: 'TASK_FAILED' as TaskState };
      el.tasks = tasks.map((t, i) => (i === 3 ? changed : t));
      await el.updateComplete;
      await Promise.all(rows(el).map((r) => r.updateComplete));
      expect(rendered).to.deep.equal(['task-00003'], 'one row rendered');
      const after = rows(el);
      expect(after.length === before.length && after.every((r, i) => r === before[i]), 'every row element kept').to.equal(true);
      expect(cell(row(el, 'task-00003')!, 'c-state')).to.equal('FAILED');
    } finally {
      YgTaskRow.prototype.render = original;
    }
  });

  it('re-renders only the changed row when the change moves it to the top, keeping the tab stop with its task', async () => {
    const tasks = many(40);
    const el = await list(tasks);
    expect(row(el, 'task-00000')!.active, 'the first row holds the tab stop').to.equal(true);
    const rendered: string[] = [];
    const original = YgTaskRow.prototype.render;
    YgTaskRow.prototype.render = function (this: YgTaskRow) {
      rendered.push(this.task!.id);
      return original.call(this);
    };
    try {
      // as the tasks view sorts: the latest change first
      const changed = { ...tasks[5]!, state: 'TASK_FAILED' as TaskState, updatedAt: NOW };
      el.tasks = [changed, ...tasks.filter((_, i) => i !== 5)];
      await el.updateComplete;
      await Promise.all(rows(el).map((r) => r.updateComplete));
      expect(rendered).to.deep.equal(['task-00005'], 'only the moved row rendered');
      expect(row(el, 'task-00000')!.active, 'the tab stop stayed with its task').to.equal(true);
      expect(row(el, 'task-00005')!.active).to.equal(false);
      expect(rows(el).filter((r) => r.active).length).to.equal(1);
    } finally {
      YgTaskRow.prototype.render = original;
    }
  });

  it('moves between rows with the arrow keys, Home and End, keeping one row in the tab order', async () => {
    const el = await list(many(500));
    const links = () => rows(el).map((r) => $<HTMLAnchorElement>(r, 'a.name'));
    expect(links().filter((a) => a.tabIndex === 0).map((a) => a.textContent)).to.deep.equal(['worker-0']);

    $<HTMLAnchorElement>(row(el, 'task-00000')!, 'a.name').focus();
    await press('ArrowDown');
    await waitUntil(() => row(el, 'task-00001')?.shadowRoot?.activeElement, 'focus moved down');
    await press('End');
    await waitUntil(() => row(el, 'task-00499')?.shadowRoot?.activeElement, 'End reaches the last row, rendered on demand');
    expect(links().filter((a) => a.tabIndex === 0).map((a) => a.textContent)).to.deep.equal(['worker-499']);
    await press('Home');
    await waitUntil(() => row(el, 'task-00000')?.shadowRoot?.activeElement, 'Home goes back to the first');
  });

  it('lays rows out as three-line cards when narrow, without overflowing 360 px', async () => {
    const el = await list(many(3), 360);
    await waitUntil(() => rows(el)[0]?.hasAttribute('narrow'), 'rows turn narrow');
    expect(el.scrollWidth).to.be.at.most(360);
    expect(getComputedStyle(rows(el)[0]!).gridTemplateAreas).to.contain('agent');
    await expect(el).to.be.accessible();
  });

  it('tells loading from empty, with the empty text the page chose', async () => {
    const loading = await fixture<YgTaskList>(html`<yg-task-list loading></yg-task-list>`);
    expect(loading.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    await expect(loading).to.be.accessible();
    const empty = await fixture<YgTaskList>(html`<yg-task-list emptyTitle="No tasks match" emptyText="Clear the filters."></yg-task-list>`);
    expect($(empty, '.message strong').textContent).to.equal('No tasks match');
    expect($(empty, '.message').textContent).to.contain('Clear the filters.');
    await expect(empty).to.be.accessible();
  });
});
