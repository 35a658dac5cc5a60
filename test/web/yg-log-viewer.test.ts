import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import type { MdSwitch } from '@material/web/switch/switch.js';
import '../../src/components/yg-log-viewer.js';
import type { YgLogViewer } from '../../src/components/yg-log-viewer.js';
import { $, $$, byLabel, press, text, typeInto } from './harness.js';
import { useTheme } from './theme.js';

const LOG = Array.from({ length: 200 }, (_, i) => `line ${i}: ${i % 50 === 7 ? 'ERROR upstream refused' : 'ok'}`).join('\n');

async function viewer(props: Partial<YgLogViewer> = {}) {
  return fixture<YgLogViewer>(html`<yg-log-viewer
    style="--yg-log-height: 200px"
    .text=${props.text ?? LOG}
    status=${props.status ?? 'live'}
    ?follow=${props.follow ?? true}
  ></yg-log-viewer>`);
}

describe('yg-log-viewer', () => {
  before(() => useTheme());

  it('shows the output, following the end as it grows', async () => {
    const el = await viewer();
    const log = $(el, '.log');
    expect(log.textContent).to.contain('line 199: ok');
    expect(log.scrollTop + log.clientHeight).to.be.closeTo(log.scrollHeight, 2);
    el.text = `${LOG}\nline 200: new`;
    await el.updateComplete;
    expect(log.scrollTop + log.clientHeight).to.be.closeTo(log.scrollHeight, 2, 'still at the end');
    expect(text($(el, '.status'))).to.equal('Live');
    await expect(el).to.be.accessible();
  });

  it('finds text: highlights matches, counts them, and steps with Enter', async () => {
    const el = await viewer({ follow: false });
    await typeInto($(el, 'md-outlined-text-field'), 'error');
    await el.updateComplete;
    const marks = $$(el, 'mark');
    expect(marks.map((m) => m.textContent)).to.deep.equal(['ERROR', 'ERROR', 'ERROR', 'ERROR']);
    expect(text($(el, '.matches'))).to.equal('1 of 4');
    expect(marks[0]!.classList.contains('current')).to.equal(true);
    await press('Enter');
    await el.updateComplete;
    expect(text($(el, '.matches'))).to.equal('2 of 4');
    expect($(el, 'mark.current')).to.equal($$(el, 'mark')[1]);
    byLabel(el, 'md-icon-button', 'Previous match').click();
    await el.updateComplete;
    expect(text($(el, '.matches'))).to.equal('1 of 4');
    await typeInto($(el, 'md-outlined-text-field'), 'nowhere');
    await el.updateComplete;
    expect(text($(el, '.matches'))).to.equal('No matches');
    await expect(el).to.be.accessible();
  });

  it('asks to stop following when the reader scrolls up or jumps to a match', async () => {
    const el = await viewer();
    const stop = oneEvent(el, 'yg-log-follow');
    const log = $(el, '.log');
    log.scrollTop = 0;
    // Scroll events come with a rendered frame; a page in the background may not get one soon.
    log.dispatchEvent(new Event('scroll'));
    expect((await stop).detail).to.deep.equal({ follow: false });

    const start = oneEvent(el, 'yg-log-follow');
    el.follow = false;
    await el.updateComplete;
    $($<MdSwitch>(el, 'md-switch'), 'input').click();
    expect((await start).detail).to.deep.equal({ follow: true });
  });

  it('switches streams with the tabs and asks for a download of the current one', async () => {
    const el = await viewer();
    const tabs = $$(el, 'md-primary-tab');
    expect(tabs.map((t) => t.textContent!.trim())).to.deep.equal(['stdout', 'stderr']);
    const switched = oneEvent(el, 'yg-log-stream');
    tabs[1]!.click();
    expect((await switched).detail).to.deep.equal({ stream: 'stderr' });

    const download = oneEvent(el, 'yg-log-download');
    $(el, 'md-text-button').click();
    expect((await download).detail).to.deep.equal({ stream: 'stdout' });
  });

  it('says how the stream stands: connecting, nothing yet, ended, failed', async () => {
    const el = await viewer({ text: '', status: 'connecting' });
    expect(text($(el, '.status'))).to.equal('Connecting to the agent…');
    el.status = 'live';
    await el.updateComplete;
    expect(text($(el, '.log'))).to.equal('Nothing on stdout yet.');
    el.status = 'error';
    el.message = 'the agent of task t1 is not connected';
    await el.updateComplete;
    expect(text($(el, '.status span'))).to.equal('The log could not be read: the agent of task t1 is not connected');
    await waitUntil(() => el.shadowRoot!.querySelector('.status.error'));
    const retry = oneEvent(el, 'yg-log-retry');
    $(el, '.status md-text-button').click();
    expect((await retry).detail).to.deep.equal({ stream: 'stdout' });
    await expect(el).to.be.accessible();
  });
});
