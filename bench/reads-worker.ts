// A child process that reads API endpoints over real HTTP for bench/api-reads.bench.ts, as a
// dashboard or a service-discovery poller would: per read one request in flight, the next sent
// that read's gap after the last one's body has arrived. Each request's time (send → last byte) is
// filed under the window that was open when it was sent; the parent opens and closes windows.
//
// parent → child: { type: 'start', url, token, reads: [Read] } | { type: 'window', name: string | null } | { type: 'stop' }
// child → parent: { type: 'started' } | { type: 'samples', samples: { [window]: { [read's name]: ms[] } }, errors: string[] }

import { Agent, request } from 'node:http';

/** One read: a GET of `path`, or a POST of `body` (JSON) to it; its samples go under `name`. */
export interface Read {
  name: string;
  path: string;
  body?: string;
  gapMs: number;
}

type FromParent =
  | { type: 'start'; url: string; token: string; reads: Read[] }
  | { type: 'window'; name: string | null }
  | { type: 'stop' };

let window: string | null = null;
let running = false;
const samples: Record<string, Record<string, number[]>> = {};
const errors: string[] = [];
const loops: Array<Promise<void>> = [];
const send = (msg: unknown) => process.send?.(msg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The request with the answer's body read to its end; resolves with the status. */
function readOnce(agent: Agent, base: URL, read: Read, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (read.body !== undefined) headers['content-type'] = 'application/json';
    const req = request({ agent, host: base.hostname, port: base.port, path: read.path, method: read.body === undefined ? 'GET' : 'POST', headers }, (res) => {
      res.on('data', () => {});
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(read.body);
  });
}

async function loop(base: URL, read: Read, token: string): Promise<void> {
  const { name, gapMs } = read;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (running) {
      const label = window;
      const t0 = performance.now();
      try {
        const status = await readOnce(agent, base, read, token);
        const ms = performance.now() - t0;
        if (status !== 200) errors.push(`${name}: ${status}`);
        else if (label) ((samples[label] ??= {})[name] ??= []).push(ms);
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
        await sleep(500);
      }
      if (errors.length > 100) throw new Error(`${name}: too many failed reads: ${errors.slice(0, 3).join('; ')}`);
      await sleep(gapMs);
    }
  } finally {
    agent.destroy();
  }
}

process.on('message', (raw) => {
  const msg = raw as FromParent;
  switch (msg.type) {
    case 'start': {
      running = true;
      const base = new URL(msg.url);
      for (const r of msg.reads) loops.push(loop(base, r, msg.token).catch((err: Error) => void errors.push(err.message)));
      send({ type: 'started' });
      return;
    }
    case 'window':
      window = msg.name;
      return;
    case 'stop':
      running = false;
      void Promise.all(loops).then(() => {
        process.send?.({ type: 'samples', samples, errors }, () => process.disconnect?.());
      });
      return;
  }
});
process.on('disconnect', () => process.exit(0));
