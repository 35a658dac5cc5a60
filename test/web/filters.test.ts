import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { MdOutlinedSelect } from '@material/web/select/outlined-select.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import '../../src/components/yg-filter-chips.js';
import type { YgFilterChips } from '../../src/components/yg-filter-chips.js';
import '../../src/components/yg-task-filters.js';
import type { TaskFilter, YgTaskFilters } from '../../src/components/yg-task-filters.js';
import { MAX_SELECT_OPTIONS, NO_TASK_FILTER } from '../../src/components/yg-task-filters.js';
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

  it('takes a typed hostname or service id when there are too many to list', async () => {
    const agents = Array.from({ length: MAX_SELECT_OPTIONS + 1 }, (_, i) => ({ id: `agent-${i}`, hostname: `node-${i}.dc1` }));
    const services = Array.from({ length: MAX_SELECT_OPTIONS + 1 }, (_, i) => `/prod/app-${i}`);
    const el = await fixture<YgTaskFilters>(html`<yg-task-filters .value=${{ ...NO_TASK_FILTER, agent: 'agent-7' }} .agents=${agents} .services=${services}></yg-task-filters>`);
    expect($$(el, 'md-select-option').length).to.equal(15, 'only the states are listed');
    const agent = $<MdOutlinedTextField>(el, 'md-outlined-text-field[name="agent"]');
    const service = $<MdOutlinedTextField>(el, 'md-outlined-text-field[name="service"]');
    expect(agent.value).to.equal('node-7.dc1', 'the chosen agent by its hostname');
    const seen: TaskFilter[] = [];
    el.addEventListener('yg-task-filter-change', (e) => seen.push(e.detail));

    agent.value = 'NODE-12.dc1';
    agent.dispatchEvent(new Event('change', { bubbles: true }));
    service.value = '/prod/app-3';
    service.dispatchEvent(new Event('change', { bubbles: true }));
    expect(seen.map((f) => [f.agent, f.service])).to.deep.equal([['agent-12', ''], ['agent-7', '/prod/app-3']]);

    service.value = '/prod/nope';
    service.dispatchEvent(new Event('change', { bubbles: true }));
    await el.updateComplete;
    expect(seen).to.have.length(2, 'an unknown name changes no filter');
    expect(service.error).to.equal(true);
    expect(service.errorText).to.equal('No service /prod/nope');
    await expect(el).to.be.accessible();

    service.value = '';
    service.dispatchEvent(new Event('change', { bubbles: true }));
    await el.updateComplete;
    expect(service.error).to.equal(false, 'empty: any service, and no error');
  });
});
