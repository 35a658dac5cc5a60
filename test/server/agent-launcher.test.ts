// The task launcher (server/agent/executor.ts) on its own: a go-ahead is not held behind the
// spawns queued after its wrapper's. It was: each spawner thread took its messages in order, so
// with 1,000 tasks launched at once no command ran until every wrapper had been forked, and the
// launcher held every wrapper's fd 3 open meanwhile (each later fork copying and closing them).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_PATH, Launcher, type Wrapper } from '../../server/agent/executor.js';
import { signalGroup } from '../../server/agent/proc.js';
import { waitFor } from '../support/cluster.js';
import { launchSpec } from './fixtures/agent-fake-master.js';

const N = 80;

describe('task launcher', () => {
  it('lets a released wrapper run while later spawns wait', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'yagura-launcher-'));
    const launcher = new Launcher(() => undefined);
    const wrappers: Wrapper[] = [];
    try {
      assert.equal(await launcher.warmUp(), true);
      const ran = (i: number) => path.join(dir, `ran-${i}`);
      /** Wall-clock ms at which each spawn was answered, in the order they were. */
      const answered: number[] = [];
      await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const sandbox = path.join(dir, `sandbox-${i}`);
          const meta = path.join(dir, `meta-${i}`);
          const w = await launcher.spawn({
            spec: launchSpec(`t${i}`, `date +%s%N > ${ran(i)}; exec sleep 60`),
            sandbox,
            makeDirs: { meta },
            exitFile: path.join(meta, 'exit'),
            mvPath: '/bin/mv',
            env: { PATH: DEFAULT_PATH },
            stdoutPath: path.join(sandbox, 'stdout'),
            stderrPath: path.join(sandbox, 'stderr'),
          });
          answered.push(Date.now());
          wrappers.push(w);
          assert.equal(w.release(), true);
        }),
      );
      await waitFor(() => Array.from({ length: N }, (_, i) => i).every((i) => existsSync(ran(i)) && readFileSync(ran(i), 'utf8').trim() !== ''), 20_000, 'every command to run');
      // the first task's command ran before half the spawns were answered: its go-ahead did not
      // wait behind the other spawns its spawner thread had been handed
      const firstRanMs = Number(BigInt(readFileSync(ran(0), 'utf8').trim()) / 1_000_000n);
      assert.ok(firstRanMs < answered[N / 2]!, `the first command ran ${firstRanMs - answered[N / 2]!} ms after spawn ${N / 2} was answered`);
    } finally {
      for (const w of wrappers) signalGroup(w.pid, 'SIGKILL');
      launcher.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
