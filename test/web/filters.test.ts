import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import '../../src/components/yg-filter-chips.js';
import type { YgFilterChips } from '../../src/components/yg-filter-chips.js';
import '../../src/components/yg-task-filters.js';
import type { TaskFilter, YgTaskFilters } from '../../src/components/yg-task-filters.js';
import { NO_TASK_FILTER } from '../../src/components/yg-task-filters.js';
import { $, $$, typeInto } from './harness.js';
import { useTheme } from './theme.js';

describe('yg-filter-chips', () => {
  before(() => useTheme());

  it('shows each option with its count and reports the selection in option order', async () => {
    const el = await fixture<YgFilterChips>(html`<yg-filter-chips
      label="Status"
      .options=${[
        { value: 'Running', label: 'Running', count: 3 },
        { value: 'Waiting', label: 'Waiting', count: 1 },
        { value: 'Delayed', label: 'Delayed', count: 0 },
      ]}
      .selected=${['Delayed']}
    ></yg-filter-chips>`);
    const chips = $$<HTMLElement & { label: string; selected: boolean }>(el, 'md-filter-chip');
    expect(chips.map((c) => c.label)).to.deep.equal(['Running 3', 'Waiting 1', 'Delayed 0']);
    expect(chips.map((c) => c.selected)).to.deep.equal([false, false, true]);

    const changed = oneEvent(el, 'yg-filter-change');
    $(chips[0]!, 'button').click();
    expect((await changed).detail.selected).to.deep.equal(['Running', 'Delayed']);
    await expect(el).to.be.accessible();
  });

  it('turns a chip off with a second click', async () => {
    const el = await fixture<YgFilterChips>(html`<yg-filter-chips .options=${[{ value: 'a', label: 'A' }]} .selected=${['a']}></yg-filter-chips>`);
    const changed = oneEvent(el, 'yg-filter-change');
    $($(el, 'md-filter-chip'), 'button').click();
    expect((await changed).detail.selected).to.deep.equal([]);
  });
});

describe('yg-task-filters', () => {
  before(() => useTheme());

  async function filters(value: TaskFilter = NO_TASK_FILTER) {
    return fixture<YgTaskFilters>(html`<yg-task-filters
      .value=${value}
      .agents=${[{ id: 'a1', hostname: 'node-1' }]}
      .services=${['/prod/web']}
    ></yg-task-filters>`);
  }

  it('reports what is typed into the search, keeping the other filters', async () => {
    const el = await filters({ ...NO_TASK_FILTER, state: 'TASK_RUNNING' });
    const field = $(el, 'md-outlined-text-field');
    const seen: TaskFilter[] = [];
    el.addEventListener('yg-task-filter-change', (e) => seen.push(e.detail));
    await typeInto(field, 'web');
    expect(seen.map((f) => f.q)).to.deep.equal(['w', 'we', 'web']);
    expect(seen[2]!.state).to.equal('TASK_RUNNING');
    await expect(el).to.be.accessible();
  });

  it('offers every state, the agents by hostname and the services, and reports a choice', async () => {
    const el = await filters({ ...NO_TASK_FILTER, agent: 'a1' });
    const [state, agent, service] = $$<MdOutlinedSelect>(el, 'md-outlined-select');
    await state!.updateComplete;
    expect(agent!.value).to.equal('a1');
    expect(state!.querySelectorAll('md-select-option').length).to.equal(15, 'any, not finished, and 13 states');
    expect([...service!.querySelectorAll('md-select-option')].map((o) => o.getAttribute('value'))).to.deep.equal(['', '/prod/web']);

    const changed = oneEvent(el, 'yg-task-filter-change');
    state!.select('TASK_FAILED');
    state!.dispatchEvent(new Event('change', { bubbles: true }));
    const detail = (await changed).detail;
    expect(detail).to.deep.equal({ state: 'TASK_FAILED', agent: 'a1', service: '', q: '' });
    await expect(el).to.be.accessible();
  });
});
