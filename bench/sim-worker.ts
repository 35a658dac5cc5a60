// A child process that runs simulated agents for a benchmark (startSimAgents, the in-process
// API of `yagura sim`), steered over IPC by the parent. The agents live in their own process
// because one socket per agent on both ends of 10,000 links does not fit one process's file
// descriptor limit (20,000 here), and because agents are other machines to a master anyway.
//
// parent → child: { type: 'start', opts: SimOptions without callbacks } | { type: 'counters' } | { type: 'close' }
// child → parent: { type: 'registered', ms, agents: SimAgentInfo[] } | { type: 'counters', counters } | { type: 'error', message } | { type: 'closed' }

import { startSimAgents, type SimHandle, type SimOptions } from '../server/sim/sim.js';

type FromParent = { type: 'start'; opts: SimOptions } | { type: 'counters' } | { type: 'close' };

let sim: SimHandle | undefined;
const send = (msg: unknown) => process.send?.(msg);

process.on('message', (raw) => {
  const msg = raw as FromParent;
  switch (msg.type) {
    case 'start': {
      const t0 = performance.now();
      sim = startSimAgents({ ...msg.opts, log: (level, text) => level === 'error' && process.stderr.write(`sim: ${text}\n`) });
      sim.registered(30 * 60_000).then(
        () => send({ type: 'registered', ms: performance.now() - t0, agents: sim!.agents() }),
        (err: Error) => send({ type: 'error', message: err.message }),
      );
      return;
    }
    case 'counters':
      send({ type: 'counters', counters: sim?.counters });
      return;
    case 'close':
      void (sim?.close() ?? Promise.resolve()).then(() => {
        send({ type: 'closed' });
        process.disconnect?.();
      });
      return;
  }
});
// the parent went away: so do the agents
process.on('disconnect', () => void (sim?.close() ?? Promise.resolve()).then(() => process.exit(0)));
