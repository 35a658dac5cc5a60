// The resilience harness (issue #9, R1–R7): a master and agents as separate `yagura` processes
// on separate "hosts" — network namespaces this test makes itself, joined by veth pairs to one
// bridge in the root namespace (10.<a>.<b>.0/24; the bridge is .1, the test's own address).
//
// Link cuts are silent, as a pulled cable or a dead switch port: the cutting side's neighbour
// entry for the other host is replaced by a permanent entry with a MAC nobody has, so its frames
// are dropped and nothing reports an error. A one-way cut poisons one side only. (This kernel has
// no netem, u32 or matchall; neighbour entries work on any kernel with namespaces.)
//
// Needs root and iproute2: `netnsUnavailable()` says why not, for `describe(…, { skip })`.
// Everything made is removed in `destroy()`, and on process exit if a test died first.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { killCheckpointedTasks, removeAgentCgroups, waitHealthy, YaguraProcess } from '../support/processes.js';
import { waitFor } from '../support/cluster.js';

export { waitFor, YaguraProcess };

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the resilience scenarios make network namespaces and need root (run as root, e.g. in CI)';
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return "the resilience scenarios need iproute2's `ip` (apt-get install iproute2)";
  const nsenter = spawnSync('nsenter', ['--version'], { encoding: 'utf8' });
  if (nsenter.error || nsenter.status !== 0) return "the resilience scenarios need util-linux's `nsenter` (apt-get install util-linux)";
  return undefined;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function ipQuiet(...args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore' });
}

export interface Host {
  name: string;
  ns: string;
  ip: string;
  mac: string;
}

const live = new Set<Network>();
process.on('exit', () => {
  for (const n of live) n.destroy();
});

/** A bridge and a namespace per host. Names carry a random id, so runs never collide. */
export class Network {
  readonly id = randomBytes(2).toString('hex');
  readonly bridge = `ygb${this.id}`;
  readonly subnet: string;
  readonly gateway: string;
  private readonly hosts = new Map<string, Host>();
  private readonly rootIfs: string[] = [];
  private destroyed = false;

  constructor() {
    const b = randomBytes(2);
    this.subnet = `10.${100 + (b[0]! % 100)}.${b[1]!}`;
    this.gateway = `${this.subnet}.1`;
    live.add(this);
    ip('link', 'add', this.bridge, 'type', 'bridge');
    ip('addr', 'add', `${this.gateway}/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
  }

  /** A new host on the bridge, at .10, .11, … in the order made. */
  addHost(name: string): Host {
    if (this.hosts.has(name)) throw new Error(`host ${name} exists`);
    const n = this.hosts.size;
    const ns = `yg${this.id}-${name}`;
    const outside = `ygv${this.id}${n}`;
    const inside = `ygp${this.id}${n}`;
    const addr = `${this.subnet}.${10 + n}`;
    ip('netns', 'add', ns);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    this.rootIfs.push(outside);
    ip('link', 'set', outside, 'master', this.bridge);
    ip('link', 'set', outside, 'up');
    ip('link', 'set', inside, 'netns', ns);
    ip('-n', ns, 'link', 'set', inside, 'name', 'eth0');
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const mac = execFileSync('ip', ['-n', ns, '-o', 'link', 'show', 'eth0'], { encoding: 'utf8' }).match(/link\/ether ([0-9a-f:]+)/)![1]!;
    const host: Host = { name, ns, ip: addr, mac };
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Frames from `from` to `to` are dropped silently (one way). */
  drop(from: string, to: string): void {
    const a = this.host(from);
    const b = this.host(to);
    ip('-n', a.ns, 'neigh', 'replace', b.ip, 'lladdr', '02:00:00:00:00:01', 'dev', 'eth0', 'nud', 'permanent');
  }

  /** Frames from `from` to `to` flow again. */
  restore(from: string, to: string): void {
    const a = this.host(from);
    const b = this.host(to);
    ip('-n', a.ns, 'neigh', 'replace', b.ip, 'lladdr', b.mac, 'dev', 'eth0', 'nud', 'reachable');
  }

  /** Both directions between two hosts. */
  cut(a: string, b: string): void {
    this.drop(a, b);
    this.drop(b, a);
  }

  heal(a: string, b: string): void {
    this.restore(a, b);
    this.restore(b, a);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const h of this.hosts.values()) ipQuiet('netns', 'del', h.ns);
    for (const i of this.rootIfs) ipQuiet('link', 'del', i);
    ipQuiet('link', 'del', this.bridge);
  }
}

export interface AgentSpec {
  /** Host name and the agent's announced hostname. */
  name: string;
  resources?: string;
  attributes?: string;
  extraArgs?: string[];
}

/**
 * A master on host "master" and agents on hosts of their own, each a real process. The master
 * binds its namespace address with auth on; the test reaches it from the root namespace.
 */
export class FaultCluster {
  readonly net = new Network();
  readonly dir = mkdtempSync(join(tmpdir(), 'yagura-faults-'));
  readonly masterHost: Host;
  readonly url: string;
  readonly dataDir: string;
  master: YaguraProcess | undefined;
  readonly agents = new Map<string, { spec: AgentSpec; host: Host; workDir: string; proc?: YaguraProcess }>();
  token = '';
  private secret = '';

  constructor(readonly masterArgs: string[] = []) {
    // tasks run as nobody: they must be able to walk down to their sandboxes
    chmodSync(this.dir, 0o711);
    this.masterHost = this.net.addHost('master');
    this.url = `http://${this.masterHost.ip}:5050`;
    this.dataDir = join(this.dir, 'master');
  }

  /** Heartbeats every 0.5 s, UNREACHABLE after 3 s (a loaded 2-core machine stalls a process for
   * a second now and then); scenarios pass their own in `masterArgs`, which come last and win. */
  async startMaster(): Promise<YaguraProcess> {
    const args = ['master', '--host', this.masterHost.ip, '--port', '5050', '--data-dir', this.dataDir,
      '--heartbeat-interval', '0.5', '--max-missed-heartbeats', '6', '--quiet', ...this.masterArgs];
    this.master = new YaguraProcess(args, { netns: this.masterHost.ns });
    await waitHealthy(this.url, this.master, 60_000);
    this.token = readFileSync(join(this.dataDir, 'admin-token'), 'utf8').trim();
    this.secret = readFileSync(join(this.dataDir, 'agent-secret'), 'utf8').trim();
    return this.master;
  }

  /** SIGKILL the master (a crash: its agents and their tasks live on). */
  async killMaster(): Promise<void> {
    await this.master?.kill9();
  }

  /** Make (first time) and start an agent on its own host. */
  startAgent(spec: AgentSpec): YaguraProcess {
    let a = this.agents.get(spec.name);
    if (!a) {
      const host = this.net.addHost(spec.name);
      const workDir = join(this.dir, `agent-${spec.name}`);
      mkdirSync(workDir, { recursive: true });
      a = { spec, host, workDir };
      this.agents.set(spec.name, a);
    }
    a.proc = new YaguraProcess([
      'agent', '--master', this.url, '--secret', this.secret, '--work-dir', a.workDir, '--hostname', spec.name,
      '--resources', spec.resources ?? 'cpus:8;mem:8192;disk:4000;ports:[31000-31999]',
      ...(spec.attributes ? ['--attributes', spec.attributes] : []), '--quiet', ...(spec.extraArgs ?? []),
    ], { netns: a.host.ns });
    return a.proc;
  }

  agent(name: string) {
    const a = this.agents.get(name);
    if (!a) throw new Error(`no agent ${name}`);
    return a;
  }

  async killAgent(name: string): Promise<void> {
    await this.agent(name).proc?.kill9();
  }

  /** Wait until the named agents are registered and ACTIVE; returns name → agent id. */
  async agentsActive(names: string[], timeoutMs = 30_000): Promise<Map<string, string>> {
    return waitFor(async () => {
      const r = await this.api<{ agents: Array<{ id: string; state: string; hostname: string }> }>('GET', '/api/v1/agents');
      const ids = new Map<string, string>();
      for (const a of r.body.agents) if (a.state === 'ACTIVE') ids.set(a.hostname, a.id);
      return names.every((n) => ids.has(n)) && ids;
    }, timeoutMs, `agents ${names.join(', ')} to be ACTIVE`);
  }

  /** One API call as admin; never throws on a status, only on a network error. */
  async api<T = any>(method: string, path: string, body?: unknown, opts: { timeoutMs?: number } = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T };
  }

  /** Everything stopped, every task process killed, the namespaces and files removed. */
  async destroy(): Promise<void> {
    for (const a of this.agents.values()) await a.proc?.stop('SIGKILL');
    await this.master?.stop('SIGKILL');
    for (const a of this.agents.values()) killCheckpointedTasks(a.workDir);
    for (const a of this.agents.values()) await removeAgentCgroups(a.spec.name, a.workDir);
    this.net.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
