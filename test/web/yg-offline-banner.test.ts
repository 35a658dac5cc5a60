import { expect, fixture, html } from '@open-wc/testing';
import '../../src/components/yg-offline-banner.js';
import type { YgOfflineBanner } from '../../src/components/yg-offline-banner.js';
import { formatAsOf } from '../../src/components/yg-offline-banner.js';
import { $, text } from './harness.js';
import { useTheme } from './theme.js';

describe('yg-offline-banner', () => {
  before(() => useTheme());

  it('shows nothing while the page is live, but keeps its live region', async () => {
    const el = await fixture<YgOfflineBanner>(html`<yg-offline-banner></yg-offline-banner>`);
    expect(el.shadowRoot!.querySelector('[role="status"]')).to.exist;
    expect(el.shadowRoot!.querySelector('.banner')).to.not.exist;
    expect(el.getBoundingClientRect().height).to.equal(0);
    await expect(el).to.be.accessible();
  });

  it('says since when the cluster shown is old, and that commands wait', async () => {
    const now = new Date(2026, 2, 12, 15, 0, 0).getTime();
    const asOf = new Date(2026, 2, 12, 14, 3, 12).getTime();
    const el = await fixture<YgOfflineBanner>(html`<yg-offline-banner .asOf=${asOf} .now=${now}></yg-offline-banner>`);
    const said = text($(el, '.banner p'));
    expect(said).to.contain(`Offline — showing the cluster as of ${formatAsOf(asOf, now)}.`);
    expect(formatAsOf(asOf, now, 'en-GB')).to.equal('14:03:12');
    expect(said).to.contain('Commands are off until the master answers again');
    await expect(el).to.be.accessible();
  });

  it('names the day when the state is from another day', () => {
    const now = new Date(2026, 2, 14, 9, 0).getTime();
    const asOf = new Date(2026, 2, 12, 14, 3, 12).getTime();
    const said = formatAsOf(asOf, now, 'en-GB');
    expect(said).to.contain('12');
    expect(said).to.contain('Mar');
    expect(said).to.contain('14:03');
  });

  it('asks for a retry from its button', async () => {
    const el = await fixture<YgOfflineBanner>(html`<yg-offline-banner .asOf=${Date.now() - 60_000}></yg-offline-banner>`);
    let retries = 0;
    el.addEventListener('yg-retry', () => retries++);
    $(el, 'md-text-button').click();
    expect(retries).to.equal(1);
  });
});
