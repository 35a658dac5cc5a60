// S7: secure defaults. Out of the box the master listens on loopback only (checked in the
// kernel's socket table, for build() and for the real CLI), and it refuses to listen on any
// other address with auth disabled.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { build } from '../../server/app.js';
import { freePort, waitHealthy, YaguraProcess } from '../support/processes.js';
import { startMaster } from '../support/cluster.js';
import { figures } from './support.js';

/** Local addresses of the sockets listening on `port`, from /proc/net/tcp and tcp6. */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // LISTEN
      const [addr, hexPort] = cols[1]!.split(':');
      if (parseInt(hexPort!, 16) !== port) continue;
      out.push(decode(addr!));
    }
  }
  return out;
}

function decode(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  // IPv6: four little-endian 32-bit words
  const words = [0, 1, 2, 3].map((w) => hex.slice(w * 8, w * 8 + 8).match(/../g)!.reverse().join(''));
  return words.join('').match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

describe('S7: secure defaults', { timeout: 120_000 }, () => {
  it('build() listens on 127.0.0.1 only, with private secrets', async () => {
    const m = await startMaster();
    try {
      const port = Number(new URL(m.url).port);
      assert.deepEqual(listeners(port), ['127.0.0.1']);
      assert.equal(statSync(m.dataDir).mode & 0o077, 0, 'the data directory is private');
      for (const f of ['admin-token', 'agent-secret']) assert.equal(statSync(join(m.dataDir, f)).mode & 0o777, 0o600, f);
      figures(`S7: build() without a host listens on ${listeners(port).join(', ')} only`);
    } finally {
      await m.dispose();
    }
  });

  it('refuses every non-loopback bind without auth, and allows loopback ones', async () => {
    const refused: string[] = [];
    for (const host of ['0.0.0.0', '::', '192.0.2.10', '::ffff:127.0.0.1', 'example.com', '127.0.0.1.example.com', 'localhost.example.com', '']) {
      const dir = mkdtempSync(join(tmpdir(), 'yagura-s7-'));
      try {
        await assert.rejects(build({ dataDir: dir, host, port: 0, auth: false }), /refusing to bind/, `host ${JSON.stringify(host)}`);
        refused.push(host || '(empty)');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) {
      const dir = mkdtempSync(join(tmpdir(), 'yagura-s7-'));
      try {
        const app = await build({ dataDir: dir, host, port: 0, auth: false });
        await app.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    // with auth on, another address is the operator's choice (built, not listened on here)
    const dir = mkdtempSync(join(tmpdir(), 'yagura-s7-'));
    try {
      const app = await build({ dataDir: dir, host: '0.0.0.0', port: 0 });
      assert.equal(app.auth.enabled, true);
      await app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    figures(`S7: ${refused.length} non-loopback binds without auth refused (${refused.join(', ')}); 4 loopback binds allowed`);
  });

  it('the CLI listens on loopback by default and exits on a non-loopback bind without auth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yagura-s7-cli-'));
    const procs: YaguraProcess[] = [];
    try {
      // all three at once: most of the time goes into starting node and tsx
      const ports = new Set<number>();
      while (ports.size < 3) ports.add(await freePort());
      const [port, ...others] = [...ports] as [number, number, number];
      const bad = new YaguraProcess(['master', '--host', '0.0.0.0', '--no-auth', '--port', String(port), '--data-dir', join(dir, 'bad')]);
      procs.push(bad);
      await Promise.all(
        ['master', 'up'].map(async (command, i) => {
          const port = others[i]!;
          const p = new YaguraProcess([command, '--port', String(port), '--data-dir', join(dir, command), ...(command === 'up' ? ['--no-agent'] : [])]);
          procs.push(p);
          await waitHealthy(`http://127.0.0.1:${port}`, p);
          assert.deepEqual(listeners(port), ['127.0.0.1'], `yagura ${command}`);
          await p.stop();
        }),
      );
      await bad.exited();
      assert.notEqual(bad.child.exitCode, 0);
      assert.match(bad.output, /refusing to bind 0\.0\.0\.0 without authentication/);
      assert.deepEqual(listeners(port), [], 'nothing listens');
      figures('S7: `yagura master` and `yagura up` listen on 127.0.0.1 only; `yagura master --host 0.0.0.0 --no-auth` exits non-zero without listening');
    } finally {
      for (const p of procs) await p.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
