// Client commands: they talk to a running master over its HTTP API.

import type { AgentView, TaskView } from '../../protocol/types.js';
import { formatResources } from '../core/resources.js';
import { UsageError, type Parsed } from './args.js';
import { CliError, table, type Client } from './client.js';

const print = (s: string) => process.stdout.write(s);

function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

function one(p: Parsed, what: string): string {
  const id = p.positionals[1];
  if (!id) throw new UsageError(`${p.positionals[0]} needs ${what}`);
  return id;
}

export async function nodeCommand(c: Client, p: Parsed): Promise<number> {
  const sub = p.positionals[0] ?? 'list';
  if (sub === 'list') {
    const { agents } = await c.request<{ agents: Array<AgentView & { connected: boolean }> }>('GET', '/api/v1/agents');
    if (p.options.json) print(JSON.stringify(agents, null, 2) + '\n');
    else
      print(
        table(
          ['ID', 'HOSTNAME', 'STATE', 'CPUS', 'MEM', 'DISK', 'ATTRIBUTES', 'SEEN'],
          agents.map((a) => [
            a.id,
            a.hostname,
            a.state + (a.connected ? '' : ' (disconnected)'),
            `${a.allocated.cpus}/${a.resources.cpus}`,
            `${a.allocated.mem}/${a.resources.mem} MiB`,
            `${a.allocated.disk}/${a.resources.disk} MiB`,
            Object.entries(a.attributes).map(([k, v]) => `${k}:${v}`).join(';') || '-',
            ago(a.lastSeenAt),
          ]),
        ),
      );
    return 0;
  }
  if (sub === 'drain') {
    const id = one(p, 'an agent id');
    const body: Record<string, unknown> = {};
    if (p.options.grace !== undefined) body.gracePeriodSeconds = p.options.grace;
    if (p.options['mark-gone']) body.markGone = true;
    const a = await c.request<AgentView>('POST', `/api/v1/agents/${encodeURIComponent(id)}/drain`, body);
    print(`agent ${a.id} (${a.hostname}) is ${a.state}\n`);
    return 0;
  }
  if (sub === 'reactivate' || sub === 'gone') {
    const id = one(p, 'an agent id');
    const a = await c.request<AgentView>('POST', `/api/v1/agents/${encodeURIComponent(id)}/${sub}`, {});
    print(`agent ${a.id} (${a.hostname}) is ${a.state}\n`);
    return 0;
  }
  throw new UsageError(`unknown node subcommand '${sub}'`);
}

export async function taskCommand(c: Client, p: Parsed): Promise<number> {
  const sub = p.positionals[0] ?? 'list';
  if (sub === 'list') {
    const q = new URLSearchParams();
    if (p.options.state) q.set('state', String(p.options.state));
    if (p.options.agent) q.set('agent', String(p.options.agent));
    const { tasks } = await c.request<{ tasks: TaskView[] }>('GET', `/api/v1/tasks${q.size ? `?${q}` : ''}`);
    if (p.options.json) print(JSON.stringify(tasks, null, 2) + '\n');
    else
      print(
        table(
          ['ID', 'NAME', 'STATE', 'AGENT', 'RESOURCES', 'UPDATED'],
          tasks.map((t) => [t.id, t.name, t.state, t.agentId, formatResources(t.resources), ago(t.updatedAt)]),
        ),
      );
    return 0;
  }
  if (sub === 'kill') {
    const id = one(p, 'a task id');
    const body = p.options.grace !== undefined ? { gracePeriodSeconds: p.options.grace } : {};
    const t = await c.request<TaskView>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/kill`, body);
    print(`kill requested for ${t.id} (${t.state})\n`);
    return 0;
  }
  if (sub === 'logs') {
    const id = one(p, 'a task id');
    const file = p.options.stderr ? 'stderr' : 'stdout';
    const back = Math.max(0, Math.round(Number(p.options.lines) * 1024));
    if (!p.options.follow) {
      const r = await c.request<{ data: string }>('GET', `/files/tasks/${encodeURIComponent(id)}/read?path=${file}&offset=${-back}&length=${back || 1}`);
      print(r.data);
      return 0;
    }
    return follow(c, id, file, -back);
  }
  throw new UsageError(`unknown task subcommand '${sub}'`);
}

async function follow(c: Client, taskId: string, file: string, offset: number): Promise<number> {
  const { WebSocket } = await import('ws'); // only `task logs -f` needs it
  const url = `${c.base.replace(/^http/, 'ws')}/files/tasks/${encodeURIComponent(taskId)}/tail?path=${file}&offset=${offset}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['yagura.v1'], { headers: c.token ? { authorization: `Bearer ${c.token}` } : {} });
    ws.on('unexpected-response', (_req, res) => reject(new CliError(`cannot follow ${taskId}: HTTP ${res.statusCode}`)));
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { type: string; data?: string; message?: string };
      if (m.type === 'chunk' && m.data) print(m.data);
      else if (m.type === 'end') {
        if (m.message) process.stderr.write(`(${m.message})\n`);
      } else if (m.type === 'error') reject(new CliError(m.message ?? 'tail failed'));
    });
    ws.on('close', () => resolve(0));
    ws.on('error', (err) => reject(new CliError(`cannot follow ${taskId}: ${err.message}`)));
    process.once('SIGINT', () => ws.close());
  });
}

export async function tokenCommand(c: Client, p: Parsed): Promise<number> {
  const sub = p.positionals[0] ?? 'list';
  if (sub === 'list') {
    const { tokens } = await c.request<{ tokens: Array<{ id: string; role: string; name: string; createdAt: number }> }>('GET', '/api/v1/tokens');
    print(table(['ID', 'ROLE', 'NAME', 'CREATED'], tokens.map((t) => [t.id, t.role, t.name, new Date(t.createdAt).toISOString()])));
    return 0;
  }
  if (sub === 'create') {
    if (!p.options.name) throw new UsageError('create needs --name');
    const r = await c.request<{ token: string }>('POST', '/api/v1/tokens', { role: p.options.role, name: p.options.name });
    print(`${r.token}\n`);
    return 0;
  }
  throw new UsageError(`unknown token subcommand '${sub}'`);
}
