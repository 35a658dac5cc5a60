// The task launcher (server/agent/executor.ts) on its own: a go-ahead is not held behind the
// spawns queued after its wrapper's. It was (session 10): the launcher's spawner threads took
// their messages in order, so with 1,000 tasks launched at once no command ran until every
// wrapper had been forked, and the launcher held every wrapper's fd 3 open meanwhile (each later
// fork copying and closing them). Now a launcher makes one spawn per turn of its loop. And the
// agent's pool of launchers: spawns spread over them, each wrapper released by its own.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_PATH, Launcher, LauncherPool, NATIVE_LAUNCHER, launcherCount, launcherKind, type SpawnOptions, type Wrapper, type WrapperExitStatus } from '../../server/agent/executor.js';
import { readStat, signalGroup } from '../../server/agent/proc.js';
import { waitFor } from '../support/cluster.js';
import { launchSpec } from './fixtures/agent-fake-master.js';

const N = 80;

/** Spawn options for task `i` in `dir` whose command is `command`. */
function spawnOptions(dir: string, i: number, command: string): SpawnOptions {
  const sandbox = path.join(dir, `sandbox-${i}`);
  const meta = path.join(dir, `meta-${i}`);
  return {
    spec: launchSpec(`t${i}`, command),
    sandbox,
    makeDirs: { meta },
    exitFile: path.join(meta, 'exit'),
    mvPath: '/bin/mv',
    env: { PATH: DEFAULT_PATH },
    stdoutPath: path.join(sandbox, 'stdout'),
    stderrPath: path.join(sandbox, 'stderr'),
  };
}

/** The parent pid of a live process, from /proc. */
async function parentPid(pid: number): Promise<number> {
  const stat = await readStat(pid);
  assert.ok(stat, `process ${pid} is gone`);
  return stat.ppid;
}

/**
 * A wrapper's exit, waited for with a timer: the launchers do not keep this process alive while
 * no spawn is on its way.
 */
async function exitOf(w: Wrapper): Promise<WrapperExitStatus> {
  let exit: WrapperExitStatus | undefined;
  void w.exited.then((e) => (exit = e));
  await waitFor(() => exit, 10_000, `wrapper ${w.pid} to report its exit`);
  return exit!;
}

interface Setup<L> {
  dir: string;
  launchers: L;
  /** Every wrapper pushed here is killed (its process group) after the test. */
  wrappers: Wrapper[];
  /** A file the command of task `i` makes. */
  ran: (i: number) => string;
}

/** Runs `test` with a temporary directory and started launchers; kills the wrappers, closes the launchers and removes the directory after. */
async function withLaunchers<L extends Launcher | LauncherPool>(launchers: L, test: (s: Setup<L>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'yagura-launcher-'));
  const wrappers: Wrapper[] = [];
  try {
    assert.equal(await launchers.warmUp(), true);
    await test({ dir, launchers, wrappers, ran: (i) => path.join(dir, `ran-${i}`) });
  } finally {
    for (const w of wrappers) signalGroup(w.pid, 'SIGKILL');
    launchers.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of ['native', 'node'] as const) describe(`task launcher (${kind})`, () => {
  it('lets a released wrapper run while later spawns wait', () =>
    withLaunchers(new Launcher(() => undefined, kind), async ({ dir, launchers: launcher, wrappers, ran }) => {
      /** Wall-clock ms at which each spawn was answered, in the order they were. */
      const answered: number[] = [];
      await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const w = await launcher.spawn(spawnOptions(dir, i, `date +%s%N > ${ran(i)}; exec sleep 60`));
          answered.push(Date.now());
          wrappers.push(w);
          assert.equal(w.release(), true);
        }),
      );
      await waitFor(() => Array.from({ length: N }, (_, i) => i).every((i) => existsSync(ran(i)) && readFileSync(ran(i), 'utf8').trim() !== ''), 20_000, 'every command to run');
      // the first task's command ran before half the spawns were answered: its go-ahead did not
      // wait behind the other spawns the launcher had been sent
      const firstRanMs = Number(BigInt(readFileSync(ran(0), 'utf8').trim()) / 1_000_000n);
      assert.ok(firstRanMs < answered[N / 2]!, `the first command ran ${firstRanMs - answered[N / 2]!} ms after spawn ${N / 2} was answered`);
    }));

  it('spreads a burst of spawns over the pool, each wrapper released by its own launcher', () =>
    withLaunchers(new LauncherPool(() => undefined, 3, kind), async ({ dir, launchers: pool, wrappers, ran }) => {
      // one at a time: all from the first launcher (the others are not even started)
      for (const i of [100, 101]) wrappers.push(await pool.spawn(spawnOptions(dir, i, 'exec sleep 60')));
      assert.equal(await parentPid(wrappers[0]!.pid), await parentPid(wrappers[1]!.pid));
      wrappers.splice(0).forEach((w) => signalGroup(w.pid, 'SIGKILL'));
      // a burst: spread evenly
      const n = 12;
      wrappers.push(...(await Promise.all(Array.from({ length: n }, (_, i) => pool.spawn(spawnOptions(dir, i, `touch ${ran(i)}; exec sleep 60`))))));
      // every wrapper is the child of a launcher, not of this process, and three launchers share them evenly
      const parents = new Map<number, number>();
      for (const ppid of await Promise.all(wrappers.map((w) => parentPid(w.pid)))) parents.set(ppid, (parents.get(ppid) ?? 0) + 1);
      assert.equal(parents.size, 3, `the wrappers' parents: ${JSON.stringify([...parents])}`);
      assert.ok(!parents.has(process.pid));
      for (const count of parents.values()) assert.equal(count, n / 3);
      for (const w of wrappers) assert.equal(w.release(), true);
      await waitFor(() => Array.from({ length: n }, (_, i) => i).every((i) => existsSync(ran(i))), 20_000, 'every command to run');
    }));

  it('loses only the wrappers of a launcher that died, and starts that launcher again', () =>
    withLaunchers(new LauncherPool(() => undefined, 2, kind), async ({ dir, launchers: pool, wrappers, ran }) => {
      const [a, b] = await Promise.all([0, 1].map((i) => pool.spawn(spawnOptions(dir, i, `touch ${ran(i)}; exec sleep 60`))));
      wrappers.push(a!, b!);
      const lost = new Set<Wrapper>();
      for (const w of wrappers) w.onLost = () => lost.add(w);
      for (const w of wrappers) assert.equal(w.release(), true);
      await waitFor(() => existsSync(ran(0)) && existsSync(ran(1)), 10_000, 'both commands to run');
      const [deadLauncher, liveLauncher] = [await parentPid(a!.pid), await parentPid(b!.pid)];
      assert.notEqual(deadLauncher, liveLauncher);
      process.kill(deadLauncher, 'SIGKILL');
      await waitFor(() => lost.has(a!), 10_000, "the dead launcher's wrapper to be reported lost");
      assert.equal(lost.has(b!), false);
      // the task itself runs on: a launcher's death is not its wrappers' (they are in their own sessions)
      assert.doesNotThrow(() => process.kill(a!.pid, 0));
      // the next spawns: the dead launcher is started again, the live one goes on
      const [c, d] = await Promise.all([2, 3].map((i) => pool.spawn(spawnOptions(dir, i, `touch ${ran(i)}; exec sleep 60`))));
      wrappers.push(c!, d!);
      const parents = new Set([await parentPid(c!.pid), await parentPid(d!.pid)]);
      assert.ok(parents.has(liveLauncher), `the new wrappers' parents: ${[...parents].join(', ')}`);
      assert.equal(parents.has(deadLauncher), false);
      assert.equal(parents.size, 2);
      for (const w of [c!, d!]) assert.equal(w.release(), true);
      await waitFor(() => existsSync(ran(2)) && existsSync(ran(3)), 10_000, 'the new commands to run');
      // a live launcher's wrapper still reports its exit
      signalGroup(b!.pid, 'SIGTERM');
      const exit = await exitOf(b!);
      assert.equal(exit.code, 143, JSON.stringify(exit));
    }));

  it('passes args and env through exactly, and reports exits by code and by signal', () =>
    withLaunchers(new Launcher(() => undefined, kind), async ({ dir, launchers: launcher, wrappers }) => {
      // what JSON escapes (quotes, backslashes, control characters) and what it does not (UTF-8, astral)
      const odd = 'a "quoted" \\ back\tslash\nnew line \u0001 ünï 🚀 $HOME `x` \'';
      const o = spawnOptions(dir, 0, '');
      o.spec = { ...o.spec, command: { value: '/usr/bin/printf', shell: false, args: ['%s|%s|%s', odd, '', 'last'], env: {}, uris: [] } };
      o.env = { PATH: DEFAULT_PATH, ODD: odd, EMPTY: '' };
      const printer = await launcher.spawn(o);
      const envDump = spawnOptions(dir, 1, 'printf %s "$ODD" > env-odd; printf %s "${EMPTY-unset}" > env-empty');
      envDump.env = o.env;
      const dumper = await launcher.spawn(envDump);
      const killed = await launcher.spawn(spawnOptions(dir, 2, 'exec sleep 60'));
      wrappers.push(printer, dumper, killed);
      for (const w of wrappers) assert.equal(w.release(), true);
      assert.deepEqual(await exitOf(printer), { code: 0, signal: null });
      assert.equal(readFileSync(o.stdoutPath, 'utf8'), `${odd}||last`);
      assert.deepEqual(await exitOf(dumper), { code: 0, signal: null });
      assert.equal(readFileSync(path.join(envDump.sandbox, 'env-odd'), 'utf8'), odd);
      assert.equal(readFileSync(path.join(envDump.sandbox, 'env-empty'), 'utf8'), '');
      signalGroup(killed.pid, 'SIGKILL');
      assert.deepEqual(await exitOf(killed), { code: null, signal: 'SIGKILL' });
    }));

  it('ends wrappers that are abandoned, or not released when the launcher closes, without running them', async () => {
    const launcher = new Launcher(() => undefined, kind);
    await withLaunchers(launcher, async ({ dir, wrappers, ran }) => {
      const [abandoned, unreleased, released] = await Promise.all([0, 1, 2].map((i) => launcher.spawn(spawnOptions(dir, i, `touch ${ran(i)}; exec sleep 60`))));
      wrappers.push(abandoned!, unreleased!, released!);
      abandoned!.abandon();
      assert.deepEqual(await exitOf(abandoned!), { code: 125, signal: null });
      assert.equal(released!.release(), true);
      await waitFor(() => existsSync(ran(2)), 10_000, 'the released command to run');
      // the launcher's stdin ends: it exits, and so does the wrapper it never released
      const exitFile = path.join(dir, 'meta-1', 'exit');
      launcher.close();
      await waitFor(() => existsSync(exitFile), 10_000, 'the unreleased wrapper to record its end');
      assert.equal(readFileSync(exitFile, 'utf8'), 'unreleased\n');
      assert.equal(readFileSync(path.join(dir, 'meta-0', 'exit'), 'utf8'), 'unreleased\n');
      assert.equal(existsSync(ran(0)) || existsSync(ran(1)), false);
      // the released one goes on
      assert.doesNotThrow(() => process.kill(released!.pid, 0));
    });
  });

  it('refuses a spawn whose log files were replaced, whose cgroups fail, or whose directory is gone', () =>
    withLaunchers(new Launcher(() => undefined, kind), async ({ dir, launchers: launcher, wrappers, ran }) => {
      /** Options for a sandbox the agent made itself (no makeDirs): the launcher opens its logs again. */
      const made = (i: number) => {
        const o = spawnOptions(dir, i, `touch ${ran(i)}; exec sleep 60`);
        delete o.makeDirs;
        mkdirSync(o.sandbox);
        mkdirSync(path.join(dir, `meta-${i}`));
        writeFileSync(o.stdoutPath, '');
        writeFileSync(o.stderrPath, '');
        return o;
      };
      const ok = made(0);
      const w = await launcher.spawn(ok);
      wrappers.push(w);
      assert.equal(w.release(), true);
      await waitFor(() => existsSync(ran(0)), 10_000, 'the command in a sandbox the agent made to run');
      // stdout replaced between the agent's stat and the launcher's open
      const replaced = made(1);
      const spawning = launcher.spawn(replaced);
      // (the old file kept under another name, so its inode number cannot come back)
      linkSync(replaced.stdoutPath, `${replaced.stdoutPath}.old`);
      writeFileSync(`${replaced.stdoutPath}.new`, '');
      renameSync(`${replaced.stdoutPath}.new`, replaced.stdoutPath);
      await assert.rejects(spawning, /stdout was replaced before the task started/);
      // a cgroup write that fails: nothing runs
      const cg = spawnOptions(dir, 2, `touch ${ran(2)}`);
      cg.cgroups = { mkdirs: [path.join(dir, 'cg')], writes: [[path.join(dir, 'cg', 'no-such-dir', 'memory.limit'), '1', false]], procs: [] };
      await assert.rejects(launcher.spawn(cg), /^Error: cgroups: ENOENT/);
      // a working directory that is gone by the time of the fork
      const gone = { ...made(3), sandbox: path.join(dir, 'no-such-sandbox') };
      await assert.rejects(launcher.spawn(gone), /^Error: spawn \/bin\/sh ENOENT/);
      // the launcher goes on after each refusal
      const after = await launcher.spawn(spawnOptions(dir, 4, `touch ${ran(4)}; exec sleep 60`));
      wrappers.push(after);
      assert.equal(after.release(), true);
      await waitFor(() => existsSync(ran(4)), 10_000, 'a later command to run');
      assert.equal(existsSync(ran(1)) || existsSync(ran(2)) || existsSync(ran(3)), false);
    }));
});

describe('task launcher', () => {
  it('is the native one wherever a C compiler is on the PATH', (t) => {
    const cc = ['cc', 'gcc', 'clang'].some((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
    if (!cc) return t.skip('no C compiler here: the agent runs the node launcher');
    assert.equal(launcherKind({}), 'native', `${NATIVE_LAUNCHER} is not built`);
    assert.equal(launcherKind({ YAGURA_LAUNCHER: 'node' }), 'node');
  });

  it('runs two launchers a core, from 2 to 8', () => {
    assert.deepEqual([1, 2, 3, 4, 16].map((cores) => launcherCount(cores)), [2, 4, 6, 8, 8]);
  });
});
