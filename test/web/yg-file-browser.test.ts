import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import type { FileEntry } from '../../protocol/types.js';
import '../../src/components/yg-file-browser.js';
import type { YgFileBrowser } from '../../src/components/yg-file-browser.js';
import { $, $$, byLabel, text } from './harness.js';
import { useTheme } from './theme.js';

const NOW = 1_700_000_100_000;
const entries: FileEntry[] = [
  { path: 'logs/app.log', size: 4300, mode: '-rw-r--r--', mtime: NOW - 60_000, isDir: false },
  { path: 'logs/old', size: 4096, mode: 'drwxr-xr-x', mtime: NOW - 3_600_000, isDir: true },
];

describe('yg-file-browser', () => {
  before(() => useTheme());

  it('lists a directory, folders first, with size in units, mode and age', async () => {
    const el = await fixture<YgFileBrowser>(html`<yg-file-browser path="logs" .entries=${entries} .now=${NOW}></yg-file-browser>`);
    const rows = $$<HTMLTableRowElement>(el, 'tbody tr.row');
    expect(rows.map((r) => text($(r, 'td.title')))).to.deep.equal(['Parent directory', 'old/', 'app.log']);
    expect(text($(rows[2]!, 'td[data-label="Size"]'))).to.equal('4.2 KiB');
    expect(text($(rows[2]!, 'td[data-label="Modified"]'))).to.equal('1 min ago');
    expect($$(el, 'nav button').map((b) => text(b))).to.deep.equal(['sandbox', 'logs']);
    expect($(el, 'nav button[aria-current="location"]').textContent).to.equal('logs');
    await expect(el).to.be.accessible();
  });

  it('asks to open folders, go up, and download files', async () => {
    const el = await fixture<YgFileBrowser>(html`<yg-file-browser path="logs" .entries=${entries} .now=${NOW}></yg-file-browser>`);
    let next = oneEvent(el, 'yg-file-navigate');
    $$<HTMLButtonElement>(el, 'td.title button')[1]!.click();
    expect((await next).detail).to.deep.equal({ path: 'logs/old' });
    next = oneEvent(el, 'yg-file-navigate');
    $$<HTMLButtonElement>(el, 'td.title button')[0]!.click();
    expect((await next).detail).to.deep.equal({ path: '' });
    next = oneEvent(el, 'yg-file-navigate');
    $$<HTMLButtonElement>(el, 'nav button')[0]!.click();
    expect((await next).detail).to.deep.equal({ path: '' });
    const download = oneEvent(el, 'yg-file-download');
    byLabel(el, 'md-icon-button', 'Download app.log').click();
    expect((await download).detail).to.deep.equal({ path: 'logs/app.log' });
  });

  it('shows loading, empty and error states', async () => {
    const el = await fixture<YgFileBrowser>(html`<yg-file-browser loading></yg-file-browser>`);
    expect(el.shadowRoot!.querySelector('md-linear-progress')).to.exist;
    await expect(el).to.be.accessible();
    el.loading = false;
    await el.updateComplete;
    expect(text($(el, 'tbody'))).to.equal('This directory is empty.');
    el.error = 'task t1 not found';
    await el.updateComplete;
    expect(text($(el, '[role="alert"]'))).to.equal('This directory could not be read task t1 not found');
    await expect(el).to.be.accessible();
  });
});
