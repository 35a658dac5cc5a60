#!/usr/bin/env node
// hello-world 1.1.0 — a web page that says which node, instance and app answered.
// Node.js standard library only. Configuration comes from the environment:
//   PORT0 (or PORT)   the port to listen on (all interfaces)
//   HELLO_GREETING    the greeting to show
//   HELLO_COLOR       accent colour: blue, green, purple, orange, red or teal (new in 1.1.0)
// Every link and fetch is relative, so the page works behind /service/<app id>/.
import http from 'node:http';
import os from 'node:os';

const VERSION = '1.1.0';
const PORT = Number(process.env.PORT0 || process.env.PORT || 8080);
const GREETING = (process.env.HELLO_GREETING || 'Hello from Yagura!').slice(0, 200);
const COLORS = {
  blue: ['#1565c0', '#64b5f6'],
  green: ['#2e7d32', '#81c784'],
  purple: ['#6a1b9a', '#ce93d8'],
  orange: ['#bf360c', '#ffb74d'],
  red: ['#c62828', '#ef9a9a'],
  teal: ['#00695c', '#4db6ac'],
};
const COLOR = Object.hasOwn(COLORS, process.env.HELLO_COLOR || '') ? process.env.HELLO_COLOR : 'blue';
const NODE_NAME = process.env.YAGURA_HOSTNAME || process.env.HOST || os.hostname();
const INSTANCE = process.env.MESOS_TASK_ID || `local-${process.pid}`;
const APP = process.env.MARATHON_APP_ID || '(not started by Yagura)';
const STARTED = new Date();
let served = 0;

const log = (msg) => console.log(`${new Date().toISOString()} ${msg}`);
// At most 20 request lines a second (a load test must not flood the sandbox); the rest are counted.
let logBudget = 20;
let unlogged = 0;
setInterval(() => {
  if (unlogged) log(`(${unlogged} more requests in the last second not logged)`);
  logBudget = 20;
  unlogged = 0;
}, 1000).unref();
const logRequest = (msg) => (logBudget-- > 0 ? log(msg) : unlogged++);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function info() {
  return {
    greeting: GREETING,
    version: VERSION,
    color: COLOR,
    node: NODE_NAME,
    instance: INSTANCE,
    app: APP,
    pid: process.pid,
    startedAt: STARTED.toISOString(),
    requestsServed: served,
  };
}

function page() {
  const i = info();
  const [light, dark] = COLORS[COLOR];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${esc(GREETING)}</title>
<style>
:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#dde1e6;--accent:${light}}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--fg:#e6e9ed;--muted:#9aa4af;--card:#1b2026;--line:#2c333b;--accent:${dark}}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:720px;margin:0 auto;padding:32px 16px}
header{border-left:6px solid var(--accent);padding-left:16px;margin-bottom:24px}
h1{font-size:clamp(1.5rem,5vw,2.2rem);margin:0;line-height:1.2;overflow-wrap:anywhere}
.sub{color:var(--muted);margin:4px 0 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 20px;margin:16px 0}
h2{font-size:1.05rem;margin:0 0 12px}
dl{display:grid;grid-template-columns:minmax(5.5em,max-content) minmax(0,1fr);gap:6px 16px;margin:0}
dt{color:var(--muted)}
dd{margin:0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92rem;overflow-wrap:anywhere}
button{font:inherit;border:0;border-radius:8px;padding:8px 16px;background:var(--accent);color:#fff;cursor:pointer}
@media (prefers-color-scheme:dark){button{color:#111}}
button:focus-visible{outline:3px solid var(--fg);outline-offset:2px}
table{border-collapse:collapse;width:100%;margin-top:12px;font-size:.92rem}
td,th{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
td.n,th.n{text-align:right;width:1%;white-space:nowrap}
a{color:var(--accent)}
footer{color:var(--muted);font-size:.85rem}
</style></head>
<body><main>
<header><h1>${esc(GREETING)}</h1><p class="sub">hello-world ${VERSION}</p></header>
<section class="card" aria-labelledby="who"><h2 id="who">Who answered</h2><dl>
<dt>Node</dt><dd>${esc(i.node)}</dd>
<dt>Instance</dt><dd>${esc(i.instance)}</dd>
<dt>App</dt><dd>${esc(i.app)}</dd>
<dt>Started</dt><dd>${esc(i.startedAt)}</dd>
<dt>Requests</dt><dd>${i.requestsServed}</dd>
</dl></section>
<section class="card" aria-labelledby="lb"><h2 id="lb">Which instances answer?</h2>
<p class="sub">Asks the app ten times and counts the answers per instance.</p>
<p><button id="ask" type="button">Ask ten times</button></p>
<div id="out" aria-live="polite"></div></section>
<footer>JSON: <a href="api/info">api/info</a> · health: <a href="health">health</a></footer>
</main>
<script>
const out = document.getElementById('out');
document.getElementById('ask').addEventListener('click', async () => {
  const counts = new Map();
  let failed = 0;
  for (let n = 0; n < 10; n++) {
    try {
      const r = await fetch('api/info', { cache: 'no-store' });
      if (!r.ok) throw new Error(String(r.status));
      const j = await r.json();
      const k = j.instance + ' on ' + j.node;
      counts.set(k, (counts.get(k) || 0) + 1);
    } catch { failed++; }
  }
  const t = document.createElement('table');
  t.innerHTML = '<thead><tr><th scope="col">Instance</th><th scope="col" class="n">Answers</th></tr></thead>';
  const body = t.createTBody();
  for (const [k, v] of counts) {
    const row = body.insertRow();
    row.insertCell().textContent = k;
    const c = row.insertCell(); c.className = 'n'; c.textContent = v;
  }
  out.replaceChildren(t);
  if (failed) { const p = document.createElement('p'); p.textContent = failed + ' request(s) failed'; out.append(p); }
});
</script>
</body></html>`;
}

function send(res, status, type, body, head) {
  const buf = Buffer.from(body);
  res.writeHead(status, {
    'content-type': type,
    'content-length': buf.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(head ? undefined : buf);
}

const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  const path = (req.url || '/').split('?')[0];
  if (path !== '/health') {
    res.on('finish', () => logRequest(`${req.method} ${req.url} ${res.statusCode} ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)}ms`));
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'application/json', JSON.stringify({ message: 'only GET and HEAD are supported' }));
  }
  const head = req.method === 'HEAD';
  if (path === '/health') return send(res, 200, 'application/json', '{"status":"ok"}', head);
  served++;
  if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', page(), head);
  if (path === '/api/info') return send(res, 200, 'application/json', JSON.stringify(info(), null, 2), head);
  return send(res, 404, 'application/json', JSON.stringify({ message: `nothing at ${path}` }), head);
});
server.requestTimeout = 30_000;
server.headersTimeout = 10_000;

function shutdown(signal) {
  log(`${signal} received, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.on('error', (err) => {
  log(`cannot listen on 0.0.0.0:${PORT}: ${err.code ?? err.message}`);
  process.exit(1);
});
server.listen(PORT, '0.0.0.0', () => {
  log(`hello-world ${VERSION} listening on 0.0.0.0:${PORT} (node ${NODE_NAME}, instance ${INSTANCE}, app ${APP}, colour ${COLOR})`);
});
