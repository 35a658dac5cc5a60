#!/usr/bin/env node
// backup — writes a timestamped backup and keeps the last N. Node.js standard library only.
//
// With BACKUP_SOURCE_URL set it downloads that URL and stores the body gzip-compressed
// (<prefix>-<time>-<name>.gz); without it, it archives a set of generated sample files into a
// tar.gz (<prefix>-<time>.tar.gz) and verifies the archive by reading it back. Files are written
// to a temporary name, fsync'ed and renamed, so a backup is either complete or absent.
// Exit status 0 on success; 1 with "backup failed: …" on stderr otherwise.
//
// Environment:
//   BACKUP_SOURCE_URL   http(s) URL to back up; empty: generated sample files
//   BACKUP_DIR          where backups go; empty: $MESOS_SANDBOX/backups; relative: under the sandbox
//   BACKUP_KEEP         backups to keep (1…100, default 5)
//   BACKUP_PREFIX       file name prefix (lowercase letters, digits, dashes; default backup)
//   BACKUP_MAX_MB       the largest download (1…1024, default 64)
//   BACKUP_TIMEOUT_S    the longest the download may take (1…600, default 60)

import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, createWriteStream, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

const int = (v, def, min, max) => {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : def;
};
const SANDBOX = process.env.MESOS_SANDBOX || process.cwd();
const SOURCE = (process.env.BACKUP_SOURCE_URL || '').trim();
const DIR = path.resolve(SANDBOX, process.env.BACKUP_DIR || 'backups');
const KEEP = int(process.env.BACKUP_KEEP, 5, 1, 100);
const PREFIX = process.env.BACKUP_PREFIX || 'backup';
const MAX_BYTES = int(process.env.BACKUP_MAX_MB, 64, 1, 1024) * 1024 * 1024;
const TIMEOUT_S = int(process.env.BACKUP_TIMEOUT_S, 60, 1, 600);

class Failure extends Error {}
const say = (msg) => console.log(msg);
const human = (n) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);
/** 20261126T150258123Z: sorts by time as text. */
const stamp = (d) => d.toISOString().replace(/[-:]/g, '').replace('.', '');

// ---------------------------------------------------------------------------------------------
// tar (POSIX ustar), just enough for regular files

function tarHeader(name, size, mtime) {
  const h = Buffer.alloc(512);
  const put = (str, off, len) => h.write(str, off, len, 'utf8');
  const oct = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(oct(0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(Math.floor(mtime / 1000), 12), 136, 12);
  put('        ', 148, 8); // checksum field counts as spaces while summing
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put('yagura', 265, 32);
  put('yagura', 297, 32);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

function tar(files, mtime) {
  const parts = [];
  for (const f of files) {
    if (Buffer.byteLength(f.name) > 100) throw new Failure(`tar: name too long: ${f.name}`);
    parts.push(tarHeader(f.name, f.data.length, mtime), f.data);
    const pad = (512 - (f.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Reads a tar back: the member names and sizes, checking every header's checksum. */
function untarList(buf) {
  const out = [];
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) return out;
    const stored = Number.parseInt(h.subarray(148, 156).toString().replace(/\0.*$/s, '').trim(), 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== stored) throw new Failure(`archive check: bad header checksum at byte ${off}`);
    const name = h.subarray(0, 100).toString().replace(/\0.*$/s, '');
    const size = Number.parseInt(h.subarray(124, 136).toString().replace(/\0.*$/s, '').trim(), 8);
    out.push({ name, size });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Failure('archive check: the archive has no end marker');
}

function sampleFiles(now) {
  const rows = ['time,requests,errors,latency_ms'];
  for (let i = 11; i >= 0; i--) {
    const t = new Date(now.getTime() - i * 5 * 60_000).toISOString();
    rows.push(`${t},${100 + Math.floor(Math.random() * 900)},${Math.floor(Math.random() * 5)},${(5 + Math.random() * 40).toFixed(1)}`);
  }
  const info = {
    createdAt: now.toISOString(),
    host: process.env.YAGURA_HOSTNAME || process.env.HOST || os.hostname(),
    job: process.env.YAGURA_JOB_ID || null,
    run: process.env.YAGURA_RUN_ID || null,
    node: process.version,
    nonce: randomBytes(8).toString('hex'),
  };
  return [
    { name: 'sample/README.txt', data: Buffer.from('Sample data generated by the backup package because no source URL was configured.\nSet the backup.source_url option to back up a real endpoint.\n') },
    { name: 'sample/metrics.csv', data: Buffer.from(rows.join('\n') + '\n') },
    { name: 'sample/info.json', data: Buffer.from(JSON.stringify(info, null, 2) + '\n') },
  ];
}

// ---------------------------------------------------------------------------------------------
// Files

async function syncDir(dir) {
  const h = await fsp.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Moves a finished temporary file into place, durably. */
async function commit(tmp, final) {
  const h = await fsp.open(tmp, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
  await fsp.rename(tmp, final);
  await syncDir(path.dirname(final));
}

async function fromSamples(now) {
  const files = sampleFiles(now);
  const gz = zlib.gzipSync(tar(files, now.getTime()), { level: 9 });
  const final = path.join(DIR, `${PREFIX}-${stamp(now)}.tar.gz`);
  const tmp = `${final}.tmp-${process.pid}`;
  await fsp.writeFile(tmp, gz, { flag: 'wx' });
  // read it back before trusting it
  const check = untarList(zlib.gunzipSync(await fsp.readFile(tmp)));
  if (check.length !== files.length) throw new Failure(`archive check: expected ${files.length} files, found ${check.length}`);
  await commit(tmp, final);
  say(`archived ${files.length} sample files (${files.map((f) => f.name).join(', ')}); verified ${check.length} entries`);
  return { final, bytes: gz.length, sha256: createHash('sha256').update(gz).digest('hex') };
}

async function fromUrl(now) {
  let url;
  try {
    url = new URL(SOURCE);
  } catch {
    throw new Failure(`BACKUP_SOURCE_URL is not a URL: ${SOURCE}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Failure(`only http and https sources are supported, not ${url.protocol}`);
  const base = (path.posix.basename(url.pathname) || url.hostname).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60) || 'download';
  const final = path.join(DIR, `${PREFIX}-${stamp(now)}-${base}.gz`);
  const tmp = `${final}.tmp-${process.pid}`;
  say(`fetching ${url.href} (timeout ${TIMEOUT_S} s, at most ${human(MAX_BYTES)})`);
  const signal = AbortSignal.timeout(TIMEOUT_S * 1000);
  let res;
  try {
    res = await fetch(url, { signal, headers: { 'user-agent': 'yagura-backup/1.0' } });
  } catch (err) {
    throw new Failure(`could not fetch ${url.href}: ${err.name === 'TimeoutError' ? `no answer within ${TIMEOUT_S} s` : (err.cause?.code ?? err.cause?.message ?? err.message)}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Failure(`${url.href} answered HTTP ${res.status} ${res.statusText}`.trim());
  }
  const declared = Number(res.headers.get('content-length') || 0);
  if (declared > MAX_BYTES) {
    await res.body?.cancel().catch(() => undefined);
    throw new Failure(`${url.href} is ${human(declared)}, more than the limit of ${human(MAX_BYTES)}`);
  }
  let raw = 0;
  const hash = createHash('sha256');
  const limit = new Transform({
    transform(chunk, _enc, cb) {
      raw += chunk.length;
      if (raw > MAX_BYTES) return cb(new Failure(`${url.href} sent more than the limit of ${human(MAX_BYTES)}`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body ?? new ReadableStream()), limit, zlib.createGzip(), createWriteStream(tmp, { flags: 'wx' }));
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    if (err instanceof Failure) throw err;
    throw new Failure(`download of ${url.href} broke off: ${err.name === 'TimeoutError' || err.name === 'AbortError' ? `not finished within ${TIMEOUT_S} s` : err.message}`);
  }
  await commit(tmp, final);
  const st = await fsp.stat(final);
  say(`downloaded ${human(raw)} (${res.headers.get('content-type') || 'no content type'}), sha256 ${hash.digest('hex')}`);
  return { final, bytes: st.size };
}

/** mkdir -p, one level at a time (Node's recursive mkdir can spin forever on some paths, e.g. under /proc). */
async function makeDirs(dir) {
  const missing = [];
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      if (!(await fsp.stat(d)).isDirectory()) throw Object.assign(new Error(`${d} is not a directory`), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if (err.code !== 'ENOENT' || d === path.dirname(d)) throw err;
      missing.unshift(d);
    }
  }
  for (const d of missing) await fsp.mkdir(d).catch((err) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
}

async function prune() {
  const pattern = new RegExp(`^${PREFIX}-(\\d{8}T\\d{9}Z)[.-]`);
  const ours = (await fsp.readdir(DIR)).filter((n) => pattern.test(n) && !n.includes('.tmp-')).sort();
  const old = ours.slice(0, Math.max(0, ours.length - KEEP));
  for (const n of old) {
    await fsp.rm(path.join(DIR, n), { force: true });
    say(`removed old backup ${n}`);
  }
  return ours.length - old.length;
}

async function main() {
  if (!/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/.test(PREFIX)) throw new Failure(`BACKUP_PREFIX must be lowercase letters, digits and dashes, not ${JSON.stringify(PREFIX)}`);
  try {
    await makeDirs(DIR);
    await fsp.access(DIR, fsConstants.W_OK);
  } catch (err) {
    throw new Failure(`cannot write to ${DIR}: ${err.code ?? err.message}`);
  }
  const now = new Date();
  say(`backup started at ${now.toISOString()} into ${DIR} (keeping the last ${KEEP})`);
  const result = SOURCE ? await fromUrl(now) : await fromSamples(now);
  say(`wrote ${result.final} (${human(result.bytes)}${result.sha256 ? `, sha256 ${result.sha256}` : ''})`);
  const kept = await prune();
  say(`${kept} backup${kept === 1 ? '' : 's'} in ${DIR}`);
  const inSandbox = DIR === SANDBOX || DIR.startsWith(SANDBOX + path.sep);
  if (inSandbox && process.env.YAGURA_RUN_ID) say('note: every run gets a new sandbox; set backup.directory to an agent path to keep backups across runs');
  say('backup finished: OK');
}

const stop = (signal) => {
  console.error(`backup failed: interrupted by ${signal}`);
  process.exit(1);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`backup failed: ${err instanceof Failure ? err.message : err.stack || err}`);
    process.exit(1);
  },
);
