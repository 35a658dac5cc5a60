#!/usr/bin/env node
// request-inspector — echoes every request (method, path, headers, body) as JSON or HTML and
// keeps the last N in memory. Node.js standard library only. Configuration (environment):
//   PORT0 (or PORT)          the port to listen on (all interfaces)
//   INSPECTOR_MAX_REQUESTS   how many requests to keep (1…500, default 50)
//   INSPECTOR_MAX_BODY_KB    the largest request body accepted, in KiB (1…1024, default 64)
//   INSPECTOR_STATUS         the status code echoes answer with (200…599, default 200)
// Reserved paths: GET / (the page), /health, GET|DELETE /requests.json. Everything else is echoed;
// ?status=NNN and ?delay=MS (at most 10000) on an echoed request override the answer.
import http from 'node:http';

const PORT = Number(process.env.PORT0 || process.env.PORT || 8080);
const int = (v, def, min, max) => {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : def;
};
const MAX_REQUESTS = int(process.env.INSPECTOR_MAX_REQUESTS, 50, 1, 500);
const MAX_BODY = int(process.env.INSPECTOR_MAX_BODY_KB, 64, 1, 1024) * 1024;
const STATUS = int(process.env.INSPECTOR_STATUS, 200, 200, 599);
/** All kept bodies together stay under this; the oldest requests go first. */
const MAX_KEPT_BYTES = 32 * 1024 * 1024;

const kept = []; // newest last
let keptBytes = 0;
let nextId = 1;
let total = 0;

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

function keep(rec) {
  kept.push(rec);
  keptBytes += rec.body.size;
  while (kept.length > MAX_REQUESTS || (keptBytes > MAX_KEPT_BYTES && kept.length > 1)) {
    keptBytes -= kept.shift().body.size;
  }
}

function decodeBody(buf) {
  if (buf.length === 0) return { size: 0, encoding: 'utf8', text: '' };
  try {
    return { size: buf.length, encoding: 'utf8', text: new TextDecoder('utf-8', { fatal: true }).decode(buf) };
  } catch {
    return { size: buf.length, encoding: 'base64', text: buf.toString('base64') };
  }
}

function record(req, url, buf, note) {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  const fwd = String(req.headers['x-forwarded-for'] || '').split(',')[0].trim();
  return {
    id: nextId++,
    at: new Date().toISOString(),
    method: req.method,
    url: req.url,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    httpVersion: req.httpVersion,
    remote: fwd || req.socket.remoteAddress || '',
    headers,
    body: decodeBody(buf),
    ...(note ? { note } : {}),
  };
}

function send(res, status, type, body, extra = {}) {
  const buf = Buffer.from(body);
  res.writeHead(status, {
    'content-type': type,
    'content-length': buf.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(buf);
}

const sendJson = (res, status, value, extra) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value, null, 2), extra);

const CSS = `:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#dde1e6;--accent:#6a1b9a;--code:#f0f1f4}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--fg:#e6e9ed;--muted:#9aa4af;--card:#1b2026;--line:#2c333b;--accent:#ce93d8;--code:#14181d}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:900px;margin:0 auto;padding:24px 16px}
h1{font-size:1.6rem;margin:0;border-left:6px solid var(--accent);padding-left:14px}
.sub{color:var(--muted);margin:4px 0 16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:12px 16px;margin:12px 0}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88rem}
pre{background:var(--code);border-radius:8px;padding:10px;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;margin:8px 0}
.m{display:inline-block;min-width:4.5em;font-weight:600;color:var(--accent)}
summary{cursor:pointer;overflow-wrap:anywhere}
summary .t{display:block;color:var(--muted);font-size:.85rem;margin:2px 0 0 1.1em}
.bar .sub{margin:0}
table{border-collapse:collapse;width:100%}
td{padding:3px 8px 3px 0;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
td:first-child{color:var(--muted);white-space:nowrap;width:1%}
button{font:inherit;border:1px solid var(--line);border-radius:8px;padding:6px 14px;background:var(--card);color:var(--fg);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
@media (prefers-color-scheme:dark){button.primary{color:#111}}
button:focus-visible,summary:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.bar{display:flex;gap:8px;flex-wrap:wrap;align-items:center}
label{display:inline-flex;gap:6px;align-items:center}
@media (max-width:520px){td:first-child{white-space:normal}}`;

function requestHtml(r) {
  const rows = r.headers.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="mono">${esc(v)}</td></tr>`).join('');
  const body = r.body.size === 0 ? '<p class="sub">(no body)</p>' : `<pre>${esc(r.body.text)}</pre><p class="sub">${r.body.size} bytes, ${r.body.encoding}</p>`;
  return `<div class="card"><p><span class="m">${esc(r.method)}</span> <code>${esc(r.url)}</code></p>
<p class="sub">#${r.id} · ${esc(r.at)} · from ${esc(r.remote)} · HTTP/${esc(r.httpVersion)}</p>
<table aria-label="Headers">${rows}</table>${body}</div>`;
}

function echoPage(r) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Request #${r.id}</title><style>${CSS}</style></head><body><main><h1>Request #${r.id}</h1>
<p class="sub">This is what request-inspector received.</p>${requestHtml(r)}</main></body></html>`;
}

const INDEX = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Request inspector</title><style>${CSS}</style></head><body><main>
<h1>Request inspector</h1>
<p class="sub">Keeps the last ${MAX_REQUESTS} requests. Send anything to any path below this page, e.g.</p>
<pre id="example">curl -X POST -d 'hello' &lt;this page&gt;hook/demo</pre>
<div class="bar"><button class="primary" type="button" id="refresh">Refresh</button>
<label><input type="checkbox" id="auto" checked> Auto-refresh</label>
<button type="button" id="clear">Clear</button><span id="count" class="sub" aria-live="polite"></span></div>
<div id="list"></div>
</main>
<script>
const list = document.getElementById('list');
const count = document.getElementById('count');
const hook = new URL('hook/demo', location.href).href;
document.getElementById('example').textContent = "curl -X POST -d 'hello' " + hook + "\\n(through Yagura's proxy, add -u any:<token>)";
const open = new Set();
function el(tag, props, ...kids) { const e = Object.assign(document.createElement(tag), props || {}); e.append(...kids); return e; }
function render(data) {
  count.textContent = data.total + ' received, ' + data.requests.length + ' kept';
  if (data.requests.length === 0) { list.replaceChildren(el('p', { className: 'sub' }, 'Nothing yet.')); return; }
  list.replaceChildren(...data.requests.map((r) => {
    const d = el('details', { className: 'card', open: open.has(r.id) });
    d.addEventListener('toggle', () => d.open ? open.add(r.id) : open.delete(r.id));
    d.append(el('summary', {}, el('span', { className: 'm' }, r.method), ' ', el('code', {}, r.url), el('span', { className: 't' }, '#' + r.id + ' · ' + r.at + ' · ' + r.body.size + ' B')));
    const t = el('table'); t.setAttribute('aria-label', 'Headers of request ' + r.id);
    for (const [k, v] of r.headers) { const row = t.insertRow(); row.insertCell().textContent = k; const c = row.insertCell(); c.className = 'mono'; c.textContent = v; }
    d.append(el('p', { className: 'sub' }, 'from ' + r.remote + ' · HTTP/' + r.httpVersion + (r.note ? ' · ' + r.note : '')), t);
    d.append(r.body.size ? el('pre', {}, r.body.text) : el('p', { className: 'sub' }, '(no body)'));
    return d;
  }));
}
async function load() {
  try { const r = await fetch('requests.json', { cache: 'no-store' }); if (r.ok) render(await r.json()); } catch {}
}
document.getElementById('refresh').onclick = load;
document.getElementById('clear').onclick = async () => { await fetch('requests.json', { method: 'DELETE' }); load(); };
setInterval(() => { if (document.getElementById('auto').checked && !document.hidden) load(); }, 2000);
load();
</script></body></html>`;

function echo(req, res, url) {
  const wantsHtml = /text\/html/.test(String(req.headers.accept || '')) && !/application\/json/.test(String(req.headers.accept || ''));
  const declared = Number(req.headers['content-length'] || 0);
  const answer = (status, rec) => {
    const qs = Number.parseInt(url.searchParams.get('status') || '', 10);
    const code = status !== 200 ? status : qs >= 200 && qs <= 599 ? qs : STATUS;
    const delay = Math.min(10_000, Math.max(0, Number.parseInt(url.searchParams.get('delay') || '0', 10) || 0));
    const extra = status === 413 ? { connection: 'close' } : {};
    const go = () => (wantsHtml ? send(res, code, 'text/html; charset=utf-8', echoPage(rec), extra) : sendJson(res, code, rec, extra));
    if (delay > 0) setTimeout(go, delay);
    else go();
  };
  total++;
  if (declared > MAX_BODY) {
    const rec = record(req, url, Buffer.alloc(0), `body refused: ${declared} bytes is more than ${MAX_BODY}`);
    keep(rec);
    answer(413, rec);
    req.resume();
    return;
  }
  const chunks = [];
  let size = 0;
  let over = false;
  req.on('data', (c) => {
    if (over) return;
    size += c.length;
    if (size > MAX_BODY) {
      over = true;
      const rec = record(req, url, Buffer.alloc(0), `body refused: more than ${MAX_BODY} bytes`);
      keep(rec);
      answer(413, rec);
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (over) return;
    const rec = record(req, url, Buffer.concat(chunks));
    keep(rec);
    answer(200, rec);
  });
  req.on('error', () => undefined);
}

const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  let url;
  try {
    url = new URL(req.url || '/', 'http://inspector.local');
  } catch {
    return sendJson(res, 400, { message: 'bad request target' });
  }
  const path = url.pathname;
  if (path !== '/health') {
    res.on('finish', () => logRequest(`${req.method} ${req.url} ${res.statusCode} ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)}ms`));
  }
  const get = req.method === 'GET' || req.method === 'HEAD';
  if (path === '/health' && get) return sendJson(res, 200, { status: 'ok' });
  // browsers ask for it on their own; it is not a request anyone sent
  if (path === '/favicon.ico' && get) return send(res, 404, 'text/plain', 'no icon');
  if (path === '/' && get) return send(res, 200, 'text/html; charset=utf-8', INDEX);
  if (path === '/requests.json' && get) return sendJson(res, 200, { total, max: MAX_REQUESTS, requests: [...kept].reverse() });
  if (path === '/requests.json' && req.method === 'DELETE') {
    kept.length = 0;
    keptBytes = 0;
    return sendJson(res, 200, { cleared: true });
  }
  return echo(req, res, url);
});
server.requestTimeout = 60_000;
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
  log(`request-inspector listening on 0.0.0.0:${PORT} (keeps ${MAX_REQUESTS} requests, bodies up to ${MAX_BODY} bytes, answers ${STATUS})`);
});
