// R2 (issue #9): SQLite under kill -9. A client writes concurrently — Metronome job creates and
// (one in eight) Marathon app creates with 0 instances, both of which answer 2xx only after
// their group commit —
// and the master is SIGKILLed at a random point of each round's writes. Before the master starts
// again its database file is opened as it was left and `PRAGMA integrity_check` must say ok, and
// every acknowledged row must be in it; after the restart every acknowledged write must be
// visible through the APIs, those of earlier rounds included.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { FaultCluster, netnsUnavailable, waitFor } from './hosts.js';
import { figures, LONG } from './support.js';

const ROUNDS = LONG ? 10 : 2;
/** Acknowledged writes per round; the kill lands somewhere among them. */
const WRITES = LONG ? 1000 : 200;
/** Requests in flight at once (a burst the group commit batches). */
const CONCURRENCY = 32;

type Kind = 'job' | 'app';
interface Ack {
  kind: Kind;
  id: string;
  round: number;
}

describe('R2: SQLite survives kill -9 during acknowledged writes', { skip: netnsUnavailable(), timeout: LONG ? 480_000 : 90_000 }, () => {
  let cluster: FaultCluster;

  before(async () => {
    cluster = new FaultCluster();
    await cluster.startMaster();
  });

  after(async () => {
    await cluster?.destroy();
  });

  it(`${ROUNDS} rounds of ${WRITES} acknowledged writes with a kill -9 among them: nothing acknowledged is lost, the file is intact`, async () => {
    const acked: Ack[] = [];
    let seq = 0;
    let unanswered = 0;
    const dbFile = join(cluster.dataDir, 'yagura.db');

    for (let round = 0; round < ROUNDS; round++) {
      const roundAcked: Ack[] = [];
      // the kill comes after this many acknowledgements of the round (somewhere in the middle 90 %)
      const killAt = Math.floor(WRITES * (0.05 + Math.random() * 0.9));
      let down = false;
      let killed: Promise<void> | undefined;
      /** The kill, on the killAt-th acknowledgement, while the other writers' requests are in flight. */
      const kill = (): void => {
        if (down) return;
        down = true;
        killed = cluster.killMaster();
      };

      /** One write; true when the master acknowledged it (2xx). */
      const write = async (): Promise<boolean> => {
        const n = seq++;
        // mostly jobs; every 8th an app (each app create costs the services tick a little more)
        const kind: Kind = n % 8 === 7 ? 'app' : 'job';
        const id = kind === 'job' ? `r2-${round}-j${n}` : `/r2/r${round}/a${n}`;
        const [path, body] =
          kind === 'job'
            ? ['/v1/jobs', { id, description: `R2 write ${n}`, run: { cmd: 'true', cpus: 0.1, mem: 32 } }]
            : ['/v2/apps', { id, cmd: 'sleep 3600', cpus: 0.1, mem: 32, instances: 0 }];
        let r: { status: number; body: unknown };
        try {
          r = await cluster.api('POST', path, body, { timeoutMs: 20_000 });
        } catch {
          // the connection died with the master: the write was not acknowledged
          unanswered++;
          return false;
        }
        if (r.status === 201) {
          const a = { kind, id, round };
          acked.push(a);
          roundAcked.push(a);
          if (!down && killed === undefined && roundAcked.length >= killAt) kill();
          return true;
        }
        // only a dying master may fail a write: a healthy one has no reason to refuse these
        assert.ok(r.status >= 500 && down, `${path} ${id}: ${r.status} ${JSON.stringify(r.body)}`);
        unanswered++;
        return false;
      };

      const worker = async (): Promise<void> => {
        // writing goes on until the master is dead, so the kill lands among writes in flight
        while (!down) await write();
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      await killed;

      // the file as the crash left it (with its -wal beside it), read-only: the restarted master,
      // not this check, is what recovers it
      const db = new Database(dbFile, { readonly: true, fileMustExist: true });
      try {
        const check = db.pragma('integrity_check', { simple: true });
        assert.equal(check, 'ok', `round ${round}: integrity_check says ${String(check)}`);
        const has = db.prepare('SELECT 1 FROM docs WHERE collection = ? AND id = ?');
        const missing = acked.filter((a) => !has.get(a.kind === 'job' ? 'jobs' : 'service_apps', a.id));
        assert.deepEqual(missing, [], `round ${round}: acknowledged rows missing from the file`);
      } finally {
        db.close();
      }

      await cluster.startMaster();
      // the rest of the round's writes go to the restarted master
      down = false;
      const rest = async (): Promise<void> => {
        while (roundAcked.length < WRITES) await write();
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, rest));

      // through the APIs: every acknowledged write so far, this round's and every earlier one's
      const jobs = await cluster.api<Array<{ id: string }>>('GET', '/v1/jobs', undefined, { timeoutMs: 60_000 });
      assert.equal(jobs.status, 200);
      const apps = await cluster.api<{ apps: Array<{ id: string; instances: number }> }>('GET', '/v2/apps?id=/r2/', undefined, { timeoutMs: 60_000 });
      assert.equal(apps.status, 200);
      const seen = new Set([...jobs.body.map((j) => `job ${j.id}`), ...apps.body.apps.map((a) => `app ${a.id}`)]);
      const lost = acked.filter((a) => !seen.has(`${a.kind} ${a.id}`));
      assert.deepEqual(lost, [], `round ${round}: acknowledged writes not visible after the restart`);
      for (const a of apps.body.apps) assert.equal(a.instances, 0, `${a.id} kept its definition`);
    }

    // the apps' deployments (0 instances: nothing to start) all end
    await waitFor(async () => {
      const d = await cluster.api<unknown[]>('GET', '/v2/deployments');
      return d.status === 200 && d.body.length === 0;
    }, 30_000, 'every deployment to end');

    figures(`R2: ${ROUNDS} rounds, ${acked.length} acknowledged (${unanswered} unanswered at the kills), lost 0, integrity ok`);
  });
});
