import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import '../../src/components/yg-job-graph.js';
import type { YgJobGraph } from '../../src/components/yg-job-graph.js';
import { layoutJobGraph } from '../../src/components/yg-job-graph.js';
import { $, $$, press, text } from './harness.js';
import { mockJob, NOW } from './mock-jobs.js';
import { useTheme } from './theme.js';

// extract → (clean, audit) → load → report; plus an unrelated job.
const jobs = [
  mockJob({ id: 'etl.extract', lastRunStatus: 'SUCCESS', lastSuccessAt: NOW - 5 * 60_000 }),
  mockJob({ id: 'etl.clean', dependencies: ['etl.extract'], lastRunStatus: 'FAILED', lastFailureAt: NOW - 60_000 }),
  mockJob({ id: 'etl.audit', dependencies: ['etl.extract'], status: 'running', activeRuns: 1 }),
  mockJob({ id: 'etl.load', dependencies: ['etl.clean', 'etl.audit'] }),
  mockJob({ id: 'etl.report', dependencies: ['etl.load'] }),
  mockJob({ id: 'tools.cleanup' }),
];

describe('yg-job-graph', () => {
  before(() => useTheme());

  it('lays jobs out in layers by their longest path from a job without parents', () => {
    const layout = layoutJobGraph(jobs);
    expect(layout.layers).to.deep.equal([['etl.extract'], ['etl.audit', 'etl.clean'], ['etl.load'], ['etl.report']]);
    expect(layout.edges.map((e) => `${e.from}>${e.to}`).sort()).to.deep.equal([
      'etl.audit>etl.load',
      'etl.clean>etl.load',
      'etl.extract>etl.audit',
      'etl.extract>etl.clean',
      'etl.load>etl.report',
    ]);
    expect(layout.unconnected).to.equal(1, 'tools.cleanup has no edge');
    const x = (id: string) => layout.nodes.get(id)!.x;
    expect(x('etl.extract') < x('etl.clean') && x('etl.clean') < x('etl.load') && x('etl.load') < x('etl.report')).to.equal(true);
  });

  it('draws parents above children when it is too narrow for them side by side', async () => {
    const down = layoutJobGraph(jobs, undefined, 'vertical');
    const y = (id: string) => down.nodes.get(id)!.y;
    expect(y('etl.extract') < y('etl.clean') && y('etl.clean') < y('etl.load') && y('etl.load') < y('etl.report')).to.equal(true);
    expect(y('etl.clean')).to.equal(y('etl.audit'), 'one layer, one row');
    expect(down.width).to.be.below(layoutJobGraph(jobs).width);

    // the element itself, not a wrapping div: open-wc waits a frame for a plain element, and a
    // test page in a background tab gets no frames
    const el = await fixture<YgJobGraph>(html`<yg-job-graph style="display:block; width: 320px" .jobs=${jobs} .now=${NOW}></yg-job-graph>`);
    await waitUntil(() => el.shadowRoot!.querySelectorAll('a.node tspan').length === 12, 'name, outcome and when; two lines for running and never run');
    const svgEl = $<SVGSVGElement & HTMLElement>(el, 'svg');
    expect(Number(svgEl.getAttribute('width'))).to.be.at.most(320);
    const clean = $$(el, 'svg a.node').find((n) => n.getAttribute('href') === '/jobs/etl.clean')!;
    expect($$(clean, 'tspan').map((t) => t.textContent)).to.deep.equal(['etl.clean', 'failed', '1 min ago']);
    await expect(el).to.be.accessible();
  });

  it('orders a layer by its parents, so edges do not cross', () => {
    // By name, b.child would sit above z.child; their parents are in the other order.
    const layout = layoutJobGraph([
      mockJob({ id: 'a.parent' }),
      mockJob({ id: 'y.parent' }),
      mockJob({ id: 'z.child', dependencies: ['a.parent'] }),
      mockJob({ id: 'b.child', dependencies: ['y.parent'] }),
    ]);
    expect(layout.layers).to.deep.equal([
      ['a.parent', 'y.parent'],
      ['z.child', 'b.child'],
    ]);
  });

  it('around a job, draws only its ancestors and descendants', () => {
    const layout = layoutJobGraph(jobs, 'etl.clean');
    expect(layout.layers.flat().sort()).to.deep.equal(['etl.clean', 'etl.extract', 'etl.load', 'etl.report']);
    expect(layoutJobGraph(jobs, 'tools.cleanup').nodes.size).to.equal(0);
  });

  it('draws nodes as links coloured and labelled by their last outcome, and a list for screen readers', async () => {
    const el = await fixture<YgJobGraph>(html`<yg-job-graph .jobs=${jobs} .now=${NOW}></yg-job-graph>`);
    const nodes = $$<SVGAElement>(el, 'svg a.node');
    expect(nodes.map((n) => n.getAttribute('href'))).to.have.members([
      '/jobs/etl.extract',
      '/jobs/etl.clean',
      '/jobs/etl.audit',
      '/jobs/etl.load',
      '/jobs/etl.report',
    ]);
    const node = (id: string) => nodes.find((n) => n.getAttribute('href') === `/jobs/${id}`)!;
    expect(node('etl.clean').classList.contains('error')).to.equal(true);
    expect(node('etl.extract').classList.contains('ok')).to.equal(true);
    expect(node('etl.audit').classList.contains('pending')).to.equal(true);
    expect(node('etl.load').classList.contains('neutral')).to.equal(true);
    expect(node('etl.clean').getAttribute('aria-label')).to.equal('etl.clean: failed 1 min ago, runs after etl.extract');
    expect($$(el, 'svg path.edge')).to.have.length(5);

    const items = $$(el, 'ol li').map((li) => text(li));
    expect(items[0]).to.equal('etl.extract: succeeded 5 min ago. Runs first. Then etl.audit and etl.clean run.');
    expect(items).to.include('etl.load: never run. Runs after etl.audit and etl.clean. Then etl.report runs.');
    expect(text($(el, '.note'))).to.contain('1 job neither depends on another');
    await expect(el).to.be.accessible();
  });

  it('opens a job from the keyboard; a page that routes itself cancels the load', async () => {
    const el = await fixture<YgJobGraph>(html`<yg-job-graph .jobs=${jobs} .now=${NOW} around="etl.load"></yg-job-graph>`);
    const opened: string[] = [];
    el.addEventListener('yg-job-open', (e) => {
      opened.push(e.detail.id);
      e.preventDefault();
    });
    const mine = $<SVGAElement>(el, 'svg a.node.focus');
    expect(mine.getAttribute('aria-current')).to.equal('page');
    expect(mine.getAttribute('aria-label')).to.contain('etl.load (this job)');
    const parent = $$<SVGAElement>(el, 'svg a.node').find((n) => n.getAttribute('href') === '/jobs/etl.clean')!;
    parent.focus();
    expect(el.shadowRoot!.activeElement).to.equal(parent);
    const click = oneEvent(parent, 'click');
    await press('Enter');
    const event = (await click) as unknown as MouseEvent;
    expect(opened).to.deep.equal(['etl.clean']);
    expect(event.defaultPrevented).to.equal(true, 'the page routed, the link did not load');
    expect($$(el, 'svg path.edge.near')).to.have.length(3, 'edges of this job stand out');
    await expect(el).to.be.accessible();
  });

  it('says when no job depends on another', async () => {
    const el = await fixture<YgJobGraph>(html`<yg-job-graph .jobs=${[mockJob({ id: 'a' })]}></yg-job-graph>`);
    expect(text($(el, '.empty'))).to.contain('No dependencies');
    expect(el.shadowRoot!.querySelector('svg')).to.equal(null);
    await expect(el).to.be.accessible();
  });
});
