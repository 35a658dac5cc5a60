import { expect, fixture, html } from '@open-wc/testing';
import { diffLines, stableJson } from '../../src/components/line-diff.js';
import '../../src/components/yg-json-diff.js';
import type { YgJsonDiff } from '../../src/components/yg-json-diff.js';
import { $, $$, text } from './harness.js';
import { useTheme } from './theme.js';

describe('line diff', () => {
  it('finds added, removed and kept lines by longest common subsequence', () => {
    expect(diffLines('a\nb\nc', 'a\nc\nd').map((l) => `${l.op[0]}${l.text}`)).to.deep.equal(['sa', 'rb', 'sc', 'ad']);
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).to.equal('{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}');
  });
});

describe('yg-json-diff', () => {
  before(() => useTheme());

  const v1 = { id: '/web', cmd: 'serve', env: { LEVEL: 'info' }, instances: 1, mem: 64, cpus: 0.1, disk: 0, labels: {}, a: 1, b: 2, c: 3, d: 4 };
  const v2 = { ...v1, env: { LEVEL: 'debug' }, instances: 2 };

  it('shows changed lines with signs and numbers, folding the unchanged', async () => {
    const el = await fixture<YgJsonDiff>(html`<yg-json-diff .oldValue=${v1} .newValue=${v2} beforeLabel="v1" afterLabel="v2"></yg-json-diff>`);
    expect(text($(el, '.summary'))).to.equal('From v1 to v2: 2 lines added, 2 removed.');
    const changed = $$(el, '.line.added, .line.removed').map((l) => text(l));
    expect(changed).to.deep.equal([
      // old line number, new line number, sign, then the line: the grid lays them out
      '10−removed: "LEVEL": "info"',
      '10+added: "LEVEL": "debug"',
      '13−removed: "instances": 1,',
      '13+added: "instances": 2,',
    ]);
    expect($$(el, '.fold').length).to.be.greaterThan(0);
    await expect(el).to.be.accessible();
  });

  it('says when the two are the same', async () => {
    const el = await fixture<YgJsonDiff>(html`<yg-json-diff .oldValue=${v1} .newValue=${{ ...v1 }}></yg-json-diff>`);
    expect(text($(el, '.summary'))).to.equal('before and after are the same.');
    await expect(el).to.be.accessible();
  });
});
