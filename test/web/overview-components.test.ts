import { expect, fixture, html } from '@open-wc/testing';
import '../../src/components/yg-activity-feed.js';
import type { YgActivityFeed } from '../../src/components/yg-activity-feed.js';
import '../../src/components/yg-breakdown.js';
import type { YgBreakdown } from '../../src/components/yg-breakdown.js';
import '../../src/components/yg-resource-bar.js';
import type { YgResourceBar } from '../../src/components/yg-resource-bar.js';
import '../../src/components/yg-sparkline.js';
import type { YgSparkline } from '../../src/components/yg-sparkline.js';
import { ceiling } from '../../src/components/yg-sparkline.js';
import { $, $$, text } from './harness.js';
import { useTheme } from './theme.js';

const NOW = 1_700_000_100_000;

describe('yg-resource-bar', () => {
  before(() => useTheme());

  it('says allocated of total with units and the share, as text and as a meter', async () => {
    const el = await fixture<YgResourceBar>(html`<yg-resource-bar label="Memory" unit="mib" .used=${3072} .total=${8192}></yg-resource-bar>`);
    expect(text($(el, '.value'))).to.equal('3 GiB of 8 GiB');
    expect(text($(el, '.pct'))).to.equal('38 %');
    const meter = $(el, '[role="meter"]');
    expect(meter.getAttribute('aria-valuenow')).to.equal('38');
    expect(meter.getAttribute('aria-valuetext')).to.equal('3 GiB of 8 GiB, 38 %');
    expect($(el, '.fill').style.width).to.equal('37.5%');
    await expect(el).to.be.accessible();
  });

  it('counts CPUs in words and shows a dash when there is no capacity', async () => {
    const el = await fixture<YgResourceBar>(html`<yg-resource-bar label="CPU" .used=${0.5} .total=${1}></yg-resource-bar>`);
    expect(text($(el, '.value'))).to.equal('0.5 of 1 CPU');
    el.total = 0;
    el.used = 0;
    await el.updateComplete;
    expect(text($(el, '.pct'))).to.equal('–');
    await expect(el).to.be.accessible();
  });
});

describe('yg-sparkline', () => {
  before(() => useTheme());

  it('draws one line per series, scaled to a readable ceiling, and names what it shows', async () => {
    const el = await fixture<YgSparkline>(html`<yg-sparkline
      label="Allocation"
      .series=${[
        { label: 'CPU', values: [2, 4, 8], color: 'red' },
        { label: 'Memory', values: [1, 1, 3], color: 'blue' },
      ]}
    ></yg-sparkline>`);
    const lines = $$<SVGPolylineElement>(el, 'polyline');
    expect(lines).to.have.length(2);
    // 8 % is the highest: the scale tops out at 10 %, so the newest CPU point sits at 80 % height.
    expect(text($(el, '.axis.top'))).to.equal('10 %');
    const last = lines[0]!.getAttribute('points')!.split(' ').pop()!;
    expect(last).to.equal('100.00,8.00');
    expect($(el, 'svg').getAttribute('aria-label')).to.equal(
      'Allocation: CPU 8 % now, between 2 % and 8 %; Memory 3 % now, between 1 % and 3 %',
    );
    await expect(el).to.be.accessible();
  });

  it('waits for two samples before drawing', async () => {
    const el = await fixture<YgSparkline>(html`<yg-sparkline .series=${[{ label: 'CPU', values: [5], color: 'red' }]}></yg-sparkline>`);
    expect(text($(el, '[role="status"]'))).to.equal('Collecting samples…');
    expect(ceiling(0)).to.equal(5);
    expect(ceiling(51)).to.equal(100);
    await expect(el).to.be.accessible();
  });
});

describe('yg-breakdown', () => {
  before(() => useTheme());

  it('lists the non-zero states with counts and links, and the total', async () => {
    const el = await fixture<YgBreakdown>(html`<yg-breakdown
      noun="services"
      .items=${[
        { label: 'Running', count: 3, tone: 'ok', token: 'service-running', href: '/services?status=Running' },
        { label: 'Suspended', count: 0, tone: 'neutral', token: 'service-suspended' },
        { label: 'Waiting', count: 1, tone: 'warn', token: 'service-waiting', href: '/services?status=Waiting' },
      ]}
    ></yg-breakdown>`);
    expect(text($(el, '.total'))).to.equal('4 services');
    const links = $$<HTMLAnchorElement>(el, 'li a');
    expect(links.map((a) => text(a))).to.deep.equal(['Running 3', 'Waiting 1']);
    expect(links[1]!.getAttribute('href')).to.equal('/services?status=Waiting');
    expect($$(el, '.stack span')).to.have.length(2);
    await expect(el).to.be.accessible();
  });

  it('says when there is nothing yet, and when it is still loading', async () => {
    const el = await fixture<YgBreakdown>(html`<yg-breakdown noun="agents" .items=${[{ label: 'active', count: 0, tone: 'ok', token: 'x' }]}></yg-breakdown>`);
    expect(text($(el, '.none'))).to.equal('No agents yet.');
    el.loading = true;
    await el.updateComplete;
    expect(text($(el, '.none'))).to.equal('Waiting for the master…');
    expect(text($(el, '.total strong'))).to.equal('–');
    await expect(el).to.be.accessible();
  });
});

describe('yg-activity-feed', () => {
  before(() => useTheme());

  it('lists items newest first with links and times, in a polite live log', async () => {
    const el = await fixture<YgActivityFeed>(html`<yg-activity-feed
      .now=${NOW}
      .items=${[
        { key: '2:0', at: NOW - 2000, kind: 'agent', tone: 'lost', text: 'Agent node-2 became unreachable', href: '/nodes/a2' },
        { key: '1:0', at: NOW - 120_000, kind: 'deployment', tone: 'ok', text: 'Deployment finished: /prod/web' },
      ]}
    ></yg-activity-feed>`);
    const log = $(el, '[role="log"]');
    expect(log.getAttribute('aria-live')).to.equal('polite');
    const items = $$(el, 'li');
    expect(items.map((li) => text(li))).to.deep.equal(['Agent node-2 became unreachable 2 s ago', 'Deployment finished: /prod/web 2 min ago']);
    expect($(items[0]!, 'a').getAttribute('href')).to.equal('/nodes/a2');
    expect($(items[1]!, 'time').getAttribute('title')).to.match(/2023/);
    await expect(el).to.be.accessible();
  });

  it('explains an empty feed', async () => {
    const el = await fixture<YgActivityFeed>(html`<yg-activity-feed></yg-activity-feed>`);
    expect(text($(el, '.empty'))).to.contain('Nothing has changed since this page opened');
    await expect(el).to.be.accessible();
  });
});
