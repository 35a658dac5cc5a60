import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import type { MdDialog } from '@material/web/dialog/dialog.js';
import type { MdOutlinedTextField } from '@material/web/textfield/outlined-text-field.js';
import '../../src/components/yg-repository-list.js';
import type { YgRepositoryList } from '../../src/components/yg-repository-list.js';
import type { Repository } from '../../src/data/catalog.js';
import { $, $$, byLabel, press, settle, text, typeInto } from './harness.js';
import { useTheme } from './theme.js';

const REPOS: Repository[] = [
  { name: 'Built-in', uri: 'yagura:builtin', builtIn: true, packages: 6, lastRefreshedAt: new Date(Date.now() - 120_000).toISOString() },
  { name: 'team', uri: 'https://repo.internal/team.json', packages: 1, lastRefreshedAt: Date.now() - 3_600_000, error: 'GET https://repo.internal/team.json: 503' },
  { name: 'lab', uri: 'http://10.0.0.5/lab.json' },
];

async function list(repositories: Repository[] = REPOS) {
  const el = await fixture<YgRepositoryList>(html`<yg-repository-list .repositories=${repositories}></yg-repository-list>`);
  await settle(el);
  return el;
}

const button = (el: YgRepositoryList, label: string) => byLabel<HTMLElement & { disabled: boolean }>(el, 'md-icon-button', label);
const field = (el: YgRepositoryList, label: string) => $$<MdOutlinedTextField>(el, 'md-outlined-text-field').find((f) => f.label === label)!;

/** What the page does: a command runs, then the answer comes back. */
async function answer(el: YgRepositoryList, change: Partial<YgRepositoryList>) {
  el.busy = true;
  await settle(el);
  Object.assign(el, { busy: false, ...change });
  await settle(el);
}

describe('yg-repository-list', () => {
  before(() => useTheme());

  it('lists the repositories in order with their packages, last refresh and error', async () => {
    const el = await list();
    const rows = $$(el, 'ol li');
    expect(rows.map((r) => text($(r, '.name')))).to.deep.equal(['Built-in', 'team', 'lab']);
    expect(text($(rows[0]!, '.meta'))).to.equal('6 packages · comes with Yagura');
    expect($$(rows[0]!, 'md-icon-button').map((b) => b.getAttribute('aria-label'))).to.deep.equal(
      ['Move Built-in up', 'Move Built-in down', 'Remove Built-in'],
      'the built-in repository is not fetched, so it has no Refresh',
    );
    expect(text($(rows[1]!, '.meta'))).to.equal('1 package · refreshed 1 h ago');
    expect(text($(rows[1]!, '.row-error'))).to.equal('Last refresh failed: GET https://repo.internal/team.json: 503');
    expect(text($(rows[2]!, '.meta'))).to.equal('never refreshed');
    await expect(el).to.be.accessible();
  });

  it('moves up and down, never past the ends', async () => {
    const el = await list();
    expect(button(el, 'Move Built-in up').disabled).to.equal(true);
    expect(button(el, 'Move lab down').disabled).to.equal(true);
    const moved = oneEvent(el, 'yg-repository-move');
    button(el, 'Move lab up').click();
    expect((await moved).detail).to.deep.equal({ name: 'lab', direction: -1 });
    await answer(el, { repositories: [REPOS[0]!, REPOS[2]!, REPOS[1]!] });
    expect($$(el, 'ol .name').map((n) => text(n))).to.deep.equal(['Built-in', 'lab', 'team']);
    await waitUntil(() => el.shadowRoot!.activeElement === button(el, 'Move lab up'), 'the keyboard stays on the moved row');
  });

  it('refreshes one repository or all of them', async () => {
    const el = await list();
    let refreshed = oneEvent(el, 'yg-repository-refresh');
    button(el, 'Refresh team').click();
    expect((await refreshed).detail).to.deep.equal({ name: 'team' });
    refreshed = oneEvent(el, 'yg-repository-refresh');
    $$<HTMLElement>(el, 'md-text-button').find((b) => text(b) === 'Refresh all')!.click();
    expect((await refreshed).detail).to.deep.equal({});
  });

  it('adds a repository by name and URL, checking both first, and clears the form after', async () => {
    const el = await list();
    let added = false;
    el.addEventListener('yg-repository-add', () => (added = true));
    await typeInto(field(el, 'Name'), 'team');
    await typeInto(field(el, 'Index URL'), 'ftp://nope');
    await press('Enter');
    await settle(el);
    expect(field(el, 'Name').errorText).to.equal('A repository has this name already');
    expect(field(el, 'Index URL').errorText).to.equal('An http://, https:// or file:// URL');
    expect(added).to.equal(false);

    await typeInto(field(el, 'Name'), 'extra');
    await typeInto(field(el, 'Index URL'), 'https://repo.example/extra.json');
    const event = oneEvent(el, 'yg-repository-add');
    await press('Enter');
    expect((await event).detail).to.deep.equal({ name: 'extra', uri: 'https://repo.example/extra.json' });
    await answer(el, { repositories: [...REPOS, { name: 'extra', uri: 'https://repo.example/extra.json', packages: 3 }], status: 'Added extra.' });
    expect([field(el, 'Name').value, field(el, 'Index URL').value]).to.deep.equal(['', '']);
    expect(text($(el, '.status'))).to.equal('Added extra.');
    await expect(el).to.be.accessible();
  });

  it("keeps the form and shows the master's answer when adding fails", async () => {
    const el = await list();
    await typeInto(field(el, 'Name'), 'broken');
    await typeInto(field(el, 'Index URL'), 'https://repo.example/broken.json');
    await press('Enter');
    await answer(el, { error: 'The repository could not be fetched: 502', fieldErrors: { uri: 'not a Universe index' } });
    expect(field(el, 'Name').value).to.equal('broken');
    expect(field(el, 'Index URL').errorText).to.equal('not a Universe index');
    expect(text($(el, '.alert'))).to.equal('The repository could not be fetched: 502');
    await expect(el).to.be.accessible();
  });

  it('removes a repository after confirming', async () => {
    const el = await list();
    button(el, 'Remove team').click();
    await settle(el);
    const dialog = $(el, 'yg-confirm-dialog');
    await waitUntil(() => $<MdDialog>(dialog, 'md-dialog').open);
    expect(text($(dialog, '[slot="headline"]'))).to.equal('Remove team?');
    const removed = oneEvent(el, 'yg-repository-remove');
    $(dialog, 'md-filled-button').click();
    expect((await removed).detail).to.deep.equal({ name: 'team' });
    await answer(el, { repositories: [REPOS[0]!, REPOS[2]!] });
    await waitUntil(() => !$<MdDialog>(dialog, 'md-dialog').open, 'the confirmation closes once it is done');
  });

  it('says when there are none, and when they cannot be read', async () => {
    const el = await list([]);
    expect(text($(el, 'p.muted:not(:first-child)'))).to.contain('No repositories');
    el.loadError = 'The master could not be reached.';
    await settle(el);
    expect(text($(el, '.alert'))).to.contain('The repositories could not be read: The master could not be reached.');
    const reload = oneEvent(el, 'yg-repository-reload');
    $$<HTMLElement>(el, '.alert md-text-button')[0]!.click();
    await reload;
    await expect(el).to.be.accessible();
  });
});
