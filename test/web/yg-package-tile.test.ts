import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import '../../src/components/yg-package-tile.js';
import type { YgPackageIcon, YgPackageTile } from '../../src/components/yg-package-tile.js';
import { initialsOf } from '../../src/components/yg-package-tile.js';
import { iconOf, safeImageUrl } from '../../src/data/catalog.js';
import type { PackageSummary } from '../../src/data/catalog.js';
import { $, $$, text } from './harness.js';
import { useTheme } from './theme.js';

const SVG_ICON = `data:image/svg+xml;base64,${btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#36618e"/></svg>')}`;

function pkg(overrides: Partial<PackageSummary> = {}): PackageSummary {
  return {
    name: 'hello-web',
    currentVersion: '1.2.0',
    versions: { '1.2.0': '2' },
    description: 'A tiny web server that says hello, with a health check.',
    framework: false,
    tags: ['web', 'demo'],
    selected: true,
    kind: 'service',
    repository: 'Built-in',
    images: { 'icon-medium': SVG_ICON },
    ...overrides,
  };
}

/** Resource URLs the page has requested since it loaded. */
const requested = () => performance.getEntriesByType('resource').map((e) => e.name);

describe('yg-package-tile', () => {
  before(() => useTheme());

  it('is a link named after the package, with its version, description and tags', async () => {
    const el = await fixture<YgPackageTile>(html`<yg-package-tile .pkg=${pkg()}></yg-package-tile>`);
    const links = $$<HTMLAnchorElement>(el, 'a');
    expect(links.map((a) => [a.textContent, a.getAttribute('href')])).to.deep.equal([['hello-web', '/catalog/hello-web']]);
    expect(text($(el, '.meta'))).to.equal('1.2.0 · Built-in');
    expect(text($(el, '.description'))).to.equal('A tiny web server that says hello, with a health check.');
    expect($$(el, 'li').map((li) => text(li))).to.deep.equal(['Selected', 'web', 'demo']);
    await expect(el).to.be.accessible();
  });

  it('marks job packages and leaves out the badge of packages that are not selected', async () => {
    const el = await fixture<YgPackageTile>(html`<yg-package-tile .pkg=${pkg({ name: 'nightly backup', selected: false, kind: 'job', tags: [] })}></yg-package-tile>`);
    expect($$(el, 'li').map((li) => text(li))).to.deep.equal(['Job']);
    expect($(el, 'a').getAttribute('href')).to.equal('/catalog/nightly%20backup');
    await expect(el).to.be.accessible();
  });

  it('shows a data: icon', async () => {
    const el = await fixture<YgPackageTile>(html`<yg-package-tile .pkg=${pkg()}></yg-package-tile>`);
    const icon = $<YgPackageIcon>(el, 'yg-package-icon');
    await icon.updateComplete;
    const img = $<HTMLImageElement>(icon, 'img');
    expect(img.getAttribute('src')).to.equal(SVG_ICON);
    expect(img.alt).to.equal('', 'decorative: the name is next to it');
    await waitUntil(() => img.complete && img.naturalWidth > 0, 'the icon decodes');
  });

  it('never loads an icon from another origin: it draws the initials instead', async () => {
    const remote = 'https://icons.example.invalid/hello.png';
    const el = await fixture<YgPackageTile>(html`<yg-package-tile .pkg=${pkg({ images: { 'icon-medium': remote, 'icon-small': `//icons.example.invalid/s.png` } })}></yg-package-tile>`);
    const icon = $<YgPackageIcon>(el, 'yg-package-icon');
    await icon.updateComplete;
    expect(icon.shadowRoot!.querySelector('img')).to.equal(null);
    expect(text($(icon, '.avatar'))).to.equal('HW');
    expect(requested().filter((url) => url.includes('example.invalid'))).to.deep.equal([]);
    await expect(el).to.be.accessible();
  });

  it('falls back to the initials when a same-origin icon does not load', async () => {
    const el = await fixture<YgPackageIcon>(html`<yg-package-icon name="jenkins" .images=${{ 'icon-small': '/no-such-icon.png' }}></yg-package-icon>`);
    await waitUntil(() => el.shadowRoot!.querySelector('.avatar'), 'the broken image is replaced');
    expect(text($(el, '.avatar'))).to.equal('JE');
  });
});

describe('package icons', () => {
  it('accepts data: images and same-origin URLs only', () => {
    const origin = 'https://dash.test';
    expect(safeImageUrl('data:image/png;base64,AAAA', origin)).to.equal('data:image/png;base64,AAAA');
    expect(safeImageUrl('/icons/x.svg', origin)).to.equal('https://dash.test/icons/x.svg');
    expect(safeImageUrl('https://dash.test/a.png', origin)).to.equal('https://dash.test/a.png');
    expect(safeImageUrl('https://cdn.example/a.png', origin)).to.equal(undefined);
    expect(safeImageUrl('//cdn.example/a.png', origin)).to.equal(undefined);
    expect(safeImageUrl('data:text/html,<script>1</script>', origin)).to.equal(undefined);
    expect(safeImageUrl('javascript:alert(1)', origin)).to.equal(undefined);
    expect(safeImageUrl(undefined, origin)).to.equal(undefined);
  });

  it('picks the icon size asked for, skipping the ones it may not load', () => {
    const images = { 'icon-small': 'data:image/png;base64,S', 'icon-medium': 'https://cdn.example/m.png', 'icon-large': 'data:image/png;base64,L' };
    expect(iconOf(images, 'medium')).to.equal('data:image/png;base64,L');
    expect(iconOf(images, 'small')).to.equal('data:image/png;base64,S');
    expect(iconOf(undefined)).to.equal(undefined);
  });

  it('makes initials from the name', () => {
    expect([initialsOf('hello-web'), initialsOf('jenkins'), initialsOf('x'), initialsOf('')]).to.deep.equal(['HW', 'JE', 'X', '?']);
  });
});
