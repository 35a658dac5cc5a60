// Units under the agent: cgroup layout detection (v1, the v1+empty-v2 hybrid, pure v2),
// /proc stat parsing, and the wire-message checks.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseMasterMessage, validateLaunch } from '../../server/agent/agent.js';
import { expandPorts } from '../../server/agent/executor.js';
import { detectCgroupLayout } from '../../server/agent/isolators.js';
import { parseStat } from '../../server/agent/proc.js';
import { launchSpec } from './fixtures/agent-fake-master.js';

const V1 = `tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
`;

describe('cgroup layout detection', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  function fakeUnified(controllers: string): string {
    const d = mkdtempSync(path.join(os.tmpdir(), 'yagura-cg2-'));
    dirs.push(d);
    writeFileSync(path.join(d, 'cgroup.controllers'), `${controllers}\n`);
    return d;
  }

  it('finds v1 controllers, including combined mounts', () => {
    const l = detectCgroupLayout(V1);
    assert.deepEqual(l, {
      version: 1,
      mounts: { cpu: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' },
    });
  });

  it('uses v1 on a hybrid machine whose cgroup2 tree holds no useful controller', () => {
    const unified = fakeUnified('hugetlb');
    const l = detectCgroupLayout(`${V1}cgroup2 ${unified} cgroup2 rw,relatime 0 0\n`);
    assert.equal(l?.version, 1);
  });

  it('uses v2 when only a cgroup2 tree offers the controllers', () => {
    const unified = fakeUnified('cpuset cpu io memory pids');
    const l = detectCgroupLayout(`cgroup2 ${unified} cgroup2 rw,nosuid 0 0\n`);
    assert.deepEqual(l, { version: 2, mounts: { cpu: unified, memory: unified, pids: unified } });
  });

  it('reports nothing without cgroups', () => {
    assert.equal(detectCgroupLayout('proc /proc proc rw 0 0\n'), null);
  });
});

describe('proc stat parsing', () => {
  it('copes with spaces and parentheses in the command name', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[1] = '1'; // ppid
    fields[2] = '4242'; // pgrp
    fields[3] = '4240'; // session
    fields[19] = '987654'; // starttime (field 22)
    const st = parseStat(`4242 (evil) (name) ${fields.join(' ')}\n`);
    assert.deepEqual(st, { pid: 4242, state: 'S', ppid: 1, pgrp: 4242, session: 4240, startTime: 987654 });
    assert.equal(parseStat('garbage'), null);
  });

  it('expands port ranges inclusively', () => {
    assert.deepEqual(expandPorts([[31000, 31002], [31010, 31010]]), [31000, 31001, 31002, 31010]);
  });
});

describe('master message checks', () => {
  it('accepts the protocol messages and rejects malformed ones', () => {
    assert.equal(parseMasterMessage('{"type":"registered","agentId":"a","heartbeatIntervalMs":1000}')?.type, 'registered');
    assert.equal(parseMasterMessage('{"type":"ack","taskId":"t","uuid":"u"}')?.type, 'ack');
    assert.equal(parseMasterMessage('{"type":"registered","agentId":"","heartbeatIntervalMs":1000}'), null);
    assert.equal(parseMasterMessage('{"type":"kill","taskId":1}'), null);
    assert.equal(parseMasterMessage('{"type":"files.request","reqId":"r","op":"delete","taskId":"t","path":""}'), null);
    assert.equal(parseMasterMessage('[]'), null);
    assert.equal(parseMasterMessage('{'), null);
  });

  it('validates launch specs, refusing ids that could leave the work dir', () => {
    const ok = launchSpec('app.1:a@b+c-d_e', 'true') as unknown as Record<string, unknown>;
    assert.equal(validateLaunch(ok), null);
    for (const id of ['..', '.', 'a/b', '', 'x'.repeat(201), 'a b']) {
      assert.notEqual(validateLaunch({ ...ok, taskId: id }), null, `refuses ${JSON.stringify(id)}`);
    }
    assert.notEqual(validateLaunch({ ...ok, command: { value: 'x', shell: true, env: { A: 1 }, uris: [] } }), null);
    assert.notEqual(validateLaunch({ ...ok, resources: { cpus: 1, mem: -1, disk: 0, ports: [] } }), null);
    assert.notEqual(validateLaunch({ ...ok, resources: { cpus: 1, mem: 1, disk: 0, ports: [[2, 1]] } }), null);
  });
});
