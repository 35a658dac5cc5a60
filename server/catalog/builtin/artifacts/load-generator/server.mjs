#!/usr/bin/env node
// load-generator — sends HTTP requests to a target at a set rate and concurrency and shows what
// happened: requests, errors, latency percentiles. Node.js standard library only.
// Configuration (environment):
//   PORT0 (or PORT)      the port of the stats page (all interfaces)
//   LOAD_TARGET_URL      http(s) URL to load; empty: this instance's own /health
//   LOAD_RATE            requests per second (0.1…1000, default 5)
//   LOAD_CONCURRENCY     requests in flight at most (1…100, default 4); a request that finds
//                        every slot busy for 100 ms is skipped and counted
//   LOAD_METHOD          GET, HEAD or POST (a small JSON body)
//   LOAD_TIMEOUT_MS      per request (100…60000, default 5000)
//   LOAD_DURATION_S      stop after this many seconds (0…86400, 0 = until stopped)
//   LOAD_AUTOSTART       "false" to wait for the Start button
// Pages: / (stats), /stats.json, POST start | stop | reset, /health. All relative.

import http from 'node:http';
import https from 'node:https';

const PORT = Number(process.env.PORT0 || process.env.PORT || 8080);
const num = (v, def, min, max) => {
  const n = Number.parseFloat(v ?? '');
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : def;
};
const RATE = num(process.env.LOAD_RATE, 5, 0.1, 1000);
const CONCURRENCY = Math.round(num(process.env.LOAD_CONCURRENCY, 4, 1, 100));
const METHOD = ['GET', 'HEAD', 'POST'].includes(process.env.LOAD_METHOD || '') ? process.env.LOAD_METHOD : 'GET';
const TIMEOUT_MS = Math.round(num(process.env.LOAD_TIMEOUT_MS, 5000, 100, 60_000));
const DURATION_S = Math.round(num(process.env.LOAD_DURATION_S, 0, 0, 86_400));
const AUTOSTART = (process.env.LOAD_AUTOSTART || 'true').toLowerCase() !== 'false';
const TARGET_TEXT = process.env.LOAD_TARGET_URL || `http://127.0.0.1:${PORT}/health`;
const INSTANCE = process.env.MESOS_TASK_ID || `local-${process.pid}`;
const SAMPLES = 10_000;

const log = (msg) => console.log(`${new Date().toISOString()} ${msg}`);

let target;
let configError = '';
try {
  target = new URL(TARGET_TEXT);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`only http and https URLs can be loaded, not ${target.protocol}`);
} catch (err) {
  configError = `LOAD_TARGET_URL: ${err.message}`;
  target = undefined;
}
const client = target?.protocol === 'https:' ? https : http;
const agent = target ? new client.Agent({ keepAlive: true, maxSockets: CONCURRENCY }) : undefined;

// ---------------------------------------------------------------------------------------------
// State

let stats;
function resetStats() {
  stats = {
    sent: 0,
    ok: 0,
    errors: 0,
    skipped: 0,
    byOutcome: {},
    latencies: new Float64Array(SAMPLES),
    latencyCount: 0,
    perSecond: [], // [{t, ok, err}] for the last 60 s
    startedAt: running ? Date.now() : undefined,
    runMs: 0,
  };
}
let running = false;
let inFlight = 0;
let tokens = 0;
let lastTick = Date.now();
let runSince = 0;
let seq = 0;
resetStats();

function bucket() {
  const t = Math.floor(Date.now() / 1000);
  const last = stats.perSecond[stats.perSecond.length - 1];
  if (last && last.t === t) return last;
  const b = { t, ok: 0, err: 0 };
  stats.perSecond.push(b);
  while (stats.perSecond.length > 60) stats.perSecond.shift();
  return b;
}

function outcome(key, ok, ms) {
  stats.byOutcome[key] = (stats.byOutcome[key] || 0) + 1;
  if (ok) stats.ok++;
  else stats.errors++;
  bucket()[ok ? 'ok' : 'err']++;
  if (ms !== undefined) {
    stats.latencies[stats.latencyCount % SAMPLES] = ms;
    stats.latencyCount++;
  }
}

function fire() {
  inFlight++;
  stats.sent++;
  const n = ++seq;
  const t0 = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const body = METHOD === 'POST' ? Buffer.from(JSON.stringify({ from: 'load-generator', instance: INSTANCE, seq: n })) : undefined;
  let done = false;
  const finish = (key, ok, ms) => {
    if (done) return;
    done = true;
    inFlight--;
    outcome(key, ok, ms);
    if (running && tokens >= 1) setImmediate(drain);
  };
  const req = client.request(target, {
    method: METHOD,
    agent,
    headers: { 'user-agent': 'yagura-load-generator/1.0', ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}) },
  });
  req.setTimeout(TIMEOUT_MS, () => {
    finish('timeout', false);
    req.destroy(new Error('timeout'));
  });
  req.on('response', (res) => {
    const status = res.statusCode || 0;
    res.on('data', () => undefined);
    res.on('end', () => finish(`HTTP ${status}`, status >= 200 && status < 400, elapsed()));
    res.on('error', (err) => finish(err.code || 'response error', false));
  });
  req.on('error', (err) => finish(err.code || err.message || 'error', false));
  req.end(body);
}

function tick() {
  const now = Date.now();
  const dt = now - lastTick;
  lastTick = now;
  if (!running) return;
  if (DURATION_S > 0 && stats.runMs + (now - runSince) >= DURATION_S * 1000) {
    stop(`ran for ${DURATION_S} s`);
    return;
  }
  tokens += (RATE * dt) / 1000;
  drain();
  // Requests due while every slot is busy wait at most 100 ms for a free one; older ones are
  // skipped and counted, so a slow target never turns into a burst later.
  const cap = Math.max(1, RATE / 10);
  if (tokens > cap + 1) {
    const skip = Math.floor(tokens - cap);
    tokens -= skip;
    stats.skipped += skip;
    stats.byOutcome['skipped (all slots busy)'] = (stats.byOutcome['skipped (all slots busy)'] || 0) + skip;
  }
}

/** Sends what is due while a slot is free. */
function drain() {
  while (running && tokens >= 1 && inFlight < CONCURRENCY) {
    tokens -= 1;
    fire();
  }
}
setInterval(tick, 20);

function start() {
  if (running || !target) return false;
  running = true;
  runSince = Date.now();
  lastTick = runSince;
  tokens = 1;
  stats.startedAt ??= runSince;
  log(`started: ${METHOD} ${target.href} at ${RATE}/s, at most ${CONCURRENCY} in flight`);
  return true;
}

function stop(why) {
  if (!running) return false;
  running = false;
  stats.runMs += Date.now() - runSince;
  log(`stopped (${why}): ${stats.sent} sent, ${stats.ok} ok, ${stats.errors} errors, ${stats.skipped} skipped`);
  return true;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i] * 100) / 100;
}

function snapshot() {
  const n = Math.min(stats.latencyCount, SAMPLES);
  const sorted = Array.from(stats.latencies.subarray(0, n)).sort((a, b) => a - b);
  const runMs = stats.runMs + (running ? Date.now() - runSince : 0);
  const nowS = Math.floor(Date.now() / 1000);
  // completed responses per second over the whole seconds of the last 10 s that the run covers
  const window = running ? Math.min(10, Math.floor((Date.now() - runSince) / 1000)) : 0;
  const recent = stats.perSecond.filter((b) => b.t >= nowS - window && b.t < nowS);
  return {
    instance: INSTANCE,
    target: target ? target.href : TARGET_TEXT,
    configError: configError || undefined,
    method: METHOD,
    rate: RATE,
    concurrency: CONCURRENCY,
    timeoutMs: TIMEOUT_MS,
    durationS: DURATION_S,
    running,
    runSeconds: Math.round(runMs / 100) / 10,
    requests: stats.sent,
    ok: stats.ok,
    errors: stats.errors,
    skipped: stats.skipped,
    inFlight,
    achievedRate: window ? Math.round((recent.reduce((s, b) => s + b.ok + b.err, 0) / window) * 10) / 10 : 0,
    outcomes: stats.byOutcome,
    latencyMs: {
      samples: n,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: n ? Math.round(sorted[n - 1] * 100) / 100 : null,
      mean: n ? Math.round((sorted.reduce((a, b) => a + b, 0) / n) * 100) / 100 : null,
    },
    perSecond: stats.perSecond.map(({ t, ok, err }) => ({ t, ok, err })),
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP

function send(res, status, type, body, head) {
  const buf = Buffer.from(body);
  res.writeHead(status, { 'content-type': type, 'content-length': buf.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(head ? undefined : buf);
}
const json = (res, status, v, head) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(v, null, 2), head);

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Load generator</title>
<style>
:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#dde1e6;--accent:#bf360c;--ok:#2e7d32;--err:#c62828}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--fg:#e6e9ed;--muted:#9aa4af;--card:#1b2026;--line:#2c333b;--accent:#ffb74d;--ok:#81c784;--err:#ef9a9a}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:900px;margin:0 auto;padding:24px 16px}
h1{font-size:1.6rem;margin:0;border-left:6px solid var(--accent);padding-left:14px}
h2{font-size:1rem;margin:0 0 8px}
.sub{color:var(--muted);margin:4px 0 12px;overflow-wrap:anywhere}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px;margin:12px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:10px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:10px 14px}
.tile b{display:block;font-size:1.5rem;font-variant-numeric:tabular-nums}
.tile span{color:var(--muted);font-size:.82rem}
.bar{display:flex;gap:8px;flex-wrap:wrap;align-items:center}
button{font:inherit;border:1px solid var(--line);border-radius:8px;padding:6px 16px;background:var(--card);color:var(--fg);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
@media (prefers-color-scheme:dark){button.primary{color:#111}}
a{color:var(--accent)}
.bar .sub{margin:0}
button:disabled{opacity:.5;cursor:default}
:focus-visible{outline:3px solid var(--accent);outline-offset:1px}
table{border-collapse:collapse;width:100%}
td{padding:4px 8px 4px 0;border-bottom:1px solid var(--line)}
td.n{text-align:right;font-variant-numeric:tabular-nums}
svg{width:100%;height:80px;display:block}
.legend{font-size:.8rem;color:var(--muted)}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px}
.warn{color:var(--err);font-weight:600}
</style></head>
<body><main>
<h1>Load generator</h1>
<p class="sub" id="what">…</p>
<p class="warn" id="cfg" hidden></p>
<div class="bar"><button class="primary" id="start" type="button">Start</button><button id="stop" type="button">Stop</button><button id="reset" type="button">Reset</button><span id="state" class="sub" role="status"></span></div>
<div class="grid" style="margin-top:12px">
<div class="tile"><b id="requests">0</b><span>requests</span></div>
<div class="tile"><b id="errors">0</b><span>errors</span></div>
<div class="tile"><b id="rate">0</b><span>req/s (last 10 s)</span></div>
<div class="tile"><b id="p50">–</b><span>p50 latency, ms</span></div>
<div class="tile"><b id="p99">–</b><span>p99 latency, ms</span></div>
<div class="tile"><b id="skipped">0</b><span>skipped (concurrency)</span></div>
</div>
<section class="card" aria-labelledby="h-sec"><h2 id="h-sec">Requests per second, last 60 s</h2>
<svg id="chart" viewBox="0 0 600 80" preserveAspectRatio="none" role="img" aria-label="Requests per second"></svg>
<div class="legend"><i style="background:var(--ok)"></i>ok<i style="background:var(--err)"></i>errors</div></section>
<section class="card" aria-labelledby="h-out"><h2 id="h-out">Outcomes</h2><table><tbody id="outcomes"></tbody></table>
<p class="sub" id="lat"></p></section>
<p class="sub">JSON: <a href="stats.json">stats.json</a></p>
</main>
<script>
const $ = (id) => document.getElementById(id);
async function post(action) { await fetch(action, { method: 'POST' }); load(); }
$('start').onclick = () => post('start'); $('stop').onclick = () => post('stop'); $('reset').onclick = () => post('reset');
function chart(per) {
  const svg = $('chart'); const now = Math.floor(Date.now() / 1000); const max = Math.max(1, ...per.map((b) => b.ok + b.err));
  const w = 10, parts = [];
  for (const b of per) {
    const x = 600 - (now - b.t) * w; if (x < 0) continue;
    const hOk = (b.ok / max) * 76, hErr = (b.err / max) * 76;
    parts.push('<rect x="' + (x - w + 1) + '" width="' + (w - 2) + '" y="' + (80 - hOk) + '" height="' + hOk + '" fill="var(--ok)"/>');
    parts.push('<rect x="' + (x - w + 1) + '" width="' + (w - 2) + '" y="' + (80 - hOk - hErr) + '" height="' + hErr + '" fill="var(--err)"/>');
  }
  svg.innerHTML = parts.join('');
}
async function load() {
  let s; try { const r = await fetch('stats.json', { cache: 'no-store' }); s = await r.json(); } catch { $('state').textContent = 'not reachable'; return; }
  $('what').textContent = s.method + ' ' + s.target + ' · ' + s.rate + '/s · ' + s.concurrency + ' in flight at most · timeout ' + s.timeoutMs + ' ms · instance ' + s.instance;
  $('cfg').hidden = !s.configError; $('cfg').textContent = s.configError || '';
  $('state').textContent = (s.running ? 'running' : 'stopped') + ' · ' + s.runSeconds + ' s · ' + s.inFlight + ' in flight';
  $('start').disabled = s.running || !!s.configError; $('stop').disabled = !s.running;
  $('requests').textContent = s.requests; $('errors').textContent = s.errors; $('rate').textContent = s.achievedRate;
  $('p50').textContent = s.latencyMs.p50 ?? '–'; $('p99').textContent = s.latencyMs.p99 ?? '–'; $('skipped').textContent = s.skipped;
  const rows = Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => { const tr = document.createElement('tr'); const a = tr.insertCell(); a.textContent = k; const b = tr.insertCell(); b.className = 'n'; b.textContent = v; return tr; });
  $('outcomes').replaceChildren(...rows);
  const l = s.latencyMs; $('lat').textContent = l.samples ? 'Latency over the last ' + l.samples + ' responses: p50 ' + l.p50 + ' ms, p90 ' + l.p90 + ' ms, p99 ' + l.p99 + ' ms, max ' + l.max + ' ms, mean ' + l.mean + ' ms' : 'No responses yet.';
  chart(s.perSecond);
}
load(); setInterval(() => { if (!document.hidden) load(); }, 1000);
</script></body></html>`;

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  const t0 = process.hrtime.bigint();
  if (path !== '/health' && path !== '/stats.json') res.on('finish', () => log(`${req.method} ${req.url} ${res.statusCode} ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)}ms`));
  const get = req.method === 'GET' || req.method === 'HEAD';
  const head = req.method === 'HEAD';
  if (get && path === '/health') return json(res, 200, { status: 'ok' }, head);
  if (get && (path === '/' || path === '/index.html')) return send(res, 200, 'text/html; charset=utf-8', PAGE, head);
  if (get && path === '/stats.json') return json(res, 200, snapshot(), head);
  if (req.method === 'POST' && ['/start', '/stop', '/reset'].includes(path)) {
    req.resume(); // no body is expected; ignore one if sent
    if (path === '/start') {
      if (!target) return json(res, 409, { message: configError });
      start();
    } else if (path === '/stop') stop('stop requested');
    else {
      resetStats();
      log('statistics reset');
    }
    return json(res, 200, { running });
  }
  if (['/', '/stats.json', '/health', '/start', '/stop', '/reset'].includes(path)) {
    res.setHeader('allow', path === '/start' || path === '/stop' || path === '/reset' ? 'POST' : 'GET, HEAD');
    return json(res, 405, { message: `${req.method} is not supported here` });
  }
  return json(res, 404, { message: `nothing at ${path}` });
});
server.requestTimeout = 30_000;
server.headersTimeout = 10_000;

function shutdown(signal) {
  log(`${signal} received, shutting down`);
  stop(signal);
  agent?.destroy();
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.on('error', (err) => {
  log(`cannot listen on 0.0.0.0:${PORT}: ${err.code ?? err.message}`);
  process.exit(1);
});
server.listen(PORT, '0.0.0.0', () => {
  log(`load-generator listening on 0.0.0.0:${PORT}; target ${target ? target.href : `(invalid: ${configError})`}`);
  if (configError) log(`ERROR: ${configError}; fix the option and restart`);
  else if (AUTOSTART) start();
  else log('waiting for Start (autostart is off)');
});
