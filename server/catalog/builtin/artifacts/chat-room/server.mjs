#!/usr/bin/env node
// chat-room — one WebSocket chat room with a small web client. Node.js standard library only:
// the RFC 6455 handshake and framing are implemented here on http's 'upgrade' event (text
// messages, fragmentation, masking, ping/pong, close, a maximum frame size).
// Configuration (environment):
//   PORT0 (or PORT)           the port to listen on (all interfaces)
//   CHAT_ROOM                 the room's name
//   CHAT_MAX_MESSAGE_LENGTH   the longest message, in characters (1…4000, default 1000)
//   CHAT_HISTORY              messages a newcomer sees (0…500, default 50)
//   CHAT_MAX_CLIENTS          connections at once (1…1000, default 100)
// The page connects to ws relative to its own URL, so it works behind /service/<app id>/.
//
// Protocol (JSON text messages). Client → server: {"type":"message","text"} | {"type":"name","name"}.
// Server → client: welcome {room, you, online, history, maxLength} | message {id, name, text, at} |
// system {text, at} | presence {online, names} | error {text}.

import crypto from 'node:crypto';
import http from 'node:http';

const PORT = Number(process.env.PORT0 || process.env.PORT || 8080);
const int = (v, def, min, max) => {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : def;
};
const ROOM = (process.env.CHAT_ROOM || 'Lobby').slice(0, 60);
const MAX_MESSAGE = int(process.env.CHAT_MAX_MESSAGE_LENGTH, 1000, 1, 4000);
const HISTORY = int(process.env.CHAT_HISTORY, 50, 0, 500);
const MAX_CLIENTS = int(process.env.CHAT_MAX_CLIENTS, 100, 1, 1000);
/** The largest frame payload (and the largest reassembled message) a client may send, in bytes. */
const MAX_FRAME = 64 * 1024;
/** A client whose unsent data passes this is too slow to keep up: it is dropped. */
const MAX_BUFFERED = 1024 * 1024;
const PING_EVERY_MS = 25_000;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

const log = (msg) => console.log(`${new Date().toISOString()} ${msg}`);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const clients = new Set();
const history = [];
let messageCount = 0;
let nextMessageId = 1;
const started = Date.now();

// ---------------------------------------------------------------------------------------------
// Framing

function frame(opcode, payload) {
  const len = payload.length;
  let header;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Close codes a peer may send (RFC 6455 §7.4). */
const validCloseCode = (c) => (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);

class Client {
  constructor(socket, remote, name) {
    this.socket = socket;
    this.remote = remote;
    this.buf = Buffer.alloc(0);
    this.fragments = null;
    this.fragmentBytes = 0;
    this.alive = true;
    this.closeSent = false;
    this.done = false;
    this.name = name || `guest-${crypto.randomBytes(2).toString('hex')}`;
    this.tokens = 10; // rate limit: 10 messages burst, 5 per second
    this.lastRefill = Date.now();
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
  }

  onData(chunk) {
    if (this.done) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (!this.done && this.parseOne());
  }

  /** Parses one frame from the buffer; false when more bytes are needed or the connection failed. */
  parseOne() {
    const b = this.buf;
    if (b.length < 2) return false;
    const fin = (b[0] & 0x80) !== 0;
    const rsv = b[0] & 0x70;
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f;
    let off = 2;
    if (rsv !== 0) return this.fail(1002, 'reserved bits must be 0 (no extension was negotiated)');
    if (!masked) return this.fail(1002, 'client frames must be masked');
    if (opcode >= 0x8 && (!fin || len > 125)) return this.fail(1002, 'control frames must be final and at most 125 bytes');
    if (len === 126) {
      if (b.length < 4) return false;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return false;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(MAX_FRAME)) return this.fail(1009, `frames may carry at most ${MAX_FRAME} bytes`);
      len = Number(big);
      off = 10;
    }
    if (len > MAX_FRAME) return this.fail(1009, `frames may carry at most ${MAX_FRAME} bytes`);
    if (b.length < off + 4 + len) return false;
    const mask = b.subarray(off, off + 4);
    const payload = Buffer.from(b.subarray(off + 4, off + 4 + len));
    for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    this.buf = b.subarray(off + 4 + len);
    this.onFrame(fin, opcode, payload);
    return !this.done;
  }

  onFrame(fin, opcode, payload) {
    switch (opcode) {
      case OP.CONT:
        if (!this.fragments) return this.fail(1002, 'continuation frame without a message to continue');
        this.fragmentBytes += payload.length;
        if (this.fragmentBytes > MAX_FRAME) return this.fail(1009, `messages may be at most ${MAX_FRAME} bytes`);
        this.fragments.push(payload);
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = null;
          this.fragmentBytes = 0;
          this.onText(whole);
        }
        return;
      case OP.TEXT:
        if (this.fragments) return this.fail(1002, 'a new message started before the previous one ended');
        if (fin) return this.onText(payload);
        this.fragments = [payload];
        this.fragmentBytes = payload.length;
        return;
      case OP.BINARY:
        return this.fail(1003, 'this room only takes text messages');
      case OP.CLOSE: {
        let code = 1000;
        if (payload.length === 1) return this.fail(1002, 'a close frame body must hold a 2-byte code');
        if (payload.length >= 2) {
          code = payload.readUInt16BE(0);
          if (!validCloseCode(code)) return this.fail(1002, `invalid close code ${code}`);
          try {
            utf8.decode(payload.subarray(2));
          } catch {
            return this.fail(1007, 'close reason is not valid UTF-8');
          }
        }
        // answer the close (echoing the code), then end our side
        if (!this.closeSent) this.sendClose(code, '');
        this.done = true;
        this.socket.end();
        return;
      }
      case OP.PING:
        return this.write(frame(OP.PONG, payload));
      case OP.PONG:
        this.alive = true;
        return;
      default:
        return this.fail(1002, `unknown opcode ${opcode}`);
    }
  }

  onText(buf) {
    let text;
    try {
      text = utf8.decode(buf);
    } catch {
      return this.fail(1007, 'text messages must be valid UTF-8');
    }
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.send({ type: 'error', text: 'messages are JSON: {"type":"message","text":"…"}' });
    }
    const now = Date.now();
    this.tokens = Math.min(10, this.tokens + ((now - this.lastRefill) / 1000) * 5);
    this.lastRefill = now;
    if (this.tokens < 1) return this.send({ type: 'error', text: 'slow down: at most 5 messages a second' });
    this.tokens -= 1;
    if (msg && msg.type === 'message' && typeof msg.text === 'string') {
      const clean = msg.text.replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, '').trim();
      if (!clean) return this.send({ type: 'error', text: 'empty message' });
      if ([...clean].length > MAX_MESSAGE) return this.send({ type: 'error', text: `messages may be at most ${MAX_MESSAGE} characters` });
      const out = { type: 'message', id: nextMessageId++, name: this.name, text: clean, at: new Date().toISOString() };
      messageCount++;
      if (HISTORY > 0) {
        history.push(out);
        if (history.length > HISTORY) history.shift();
      }
      log(`message #${out.id} from ${this.name} (${[...clean].length} characters)`);
      return broadcast(out);
    }
    if (msg && msg.type === 'name' && typeof msg.name === 'string') {
      const name = cleanName(msg.name);
      if (!name) return this.send({ type: 'error', text: 'names are 1 to 32 characters' });
      if (name === this.name) return;
      const old = this.name;
      this.name = name;
      broadcast({ type: 'system', text: `${old} is now ${name}`, at: new Date().toISOString() });
      return broadcastPresence();
    }
    return this.send({ type: 'error', text: 'unknown message type (use "message" or "name")' });
  }

  send(value) {
    this.write(frame(OP.TEXT, Buffer.from(JSON.stringify(value))));
  }

  write(data) {
    if (this.done && !this.closing) return;
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.socket.writableLength > MAX_BUFFERED) {
      log(`${this.name} (${this.remote}) is not reading: dropped`);
      this.socket.destroy();
      return;
    }
    this.socket.write(data);
  }

  sendClose(code, reason) {
    if (this.closeSent) return;
    this.closeSent = true;
    const r = Buffer.from(reason).subarray(0, 123);
    const body = Buffer.alloc(2 + r.length);
    body.writeUInt16BE(code, 0);
    r.copy(body, 2);
    this.closing = true;
    this.write(frame(OP.CLOSE, body));
    this.closing = false;
  }

  /** Closes with a status code and stops reading; the socket goes after the peer answers or 2 s. */
  fail(code, reason) {
    log(`closing ${this.name} (${this.remote}): ${code} ${reason}`);
    this.sendClose(code, reason);
    this.done = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
    return false;
  }

  onClose() {
    this.done = true;
    if (!clients.delete(this)) return;
    log(`${this.name} left (${this.remote}); ${clients.size} online`);
    broadcast({ type: 'system', text: `${this.name} left`, at: new Date().toISOString() });
    broadcastPresence();
  }
}

/** A display name without control characters, 1…32 characters; '' when unusable. */
function cleanName(raw) {
  const name = String(raw).replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return name && [...name].length <= 32 ? name : '';
}

function broadcast(value, except) {
  const data = frame(OP.TEXT, Buffer.from(JSON.stringify(value)));
  for (const c of clients) if (!c.done && c !== except) c.write(data);
}

function broadcastPresence() {
  broadcast({ type: 'presence', online: clients.size, names: [...clients].map((c) => c.name) });
}

setInterval(() => {
  for (const c of clients) {
    if (!c.alive) {
      log(`${c.name} (${c.remote}) did not answer a ping: dropped`);
      c.socket.destroy();
      continue;
    }
    c.alive = false;
    c.write(frame(OP.PING, Buffer.from('hb')));
  }
}, PING_EVERY_MS).unref();

// ---------------------------------------------------------------------------------------------
// HTTP

function send(res, status, type, body, head) {
  const buf = Buffer.from(body);
  res.writeHead(status, { 'content-type': type, 'content-length': buf.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(head ? undefined : buf);
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${esc(ROOM)} · chat</title>
<style>
:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#dde1e6;--accent:#2e7d32;--mine:#e8f5e9}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--fg:#e6e9ed;--muted:#9aa4af;--card:#1b2026;--line:#2c333b;--accent:#81c784;--mine:#1b3320}}
*{box-sizing:border-box}
html,body{height:100%}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg);display:flex;flex-direction:column}
header{border-bottom:1px solid var(--line);background:var(--card)}
.head{display:flex;align-items:center;gap:12px;padding:12px 16px;max-width:860px;margin:0 auto}
h1{font-size:1.2rem;margin:0;flex:1;overflow-wrap:anywhere}
.status{font-size:.85rem;color:var(--muted);white-space:nowrap}
.dot{display:inline-block;width:.6em;height:.6em;border-radius:50%;background:#9aa4af;margin-right:.4em}
.on .dot{background:var(--accent)}
#log{flex:1;overflow-y:auto;padding:12px 16px;max-width:860px;width:100%;margin:0 auto;list-style:none}
#log li{margin:6px 0;overflow-wrap:anywhere}
.msg{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:6px 10px;display:inline-block;max-width:100%}
.mine .msg{background:var(--mine)}
.who{font-weight:600;margin-right:.5em}
.at{color:var(--muted);font-size:.78rem;margin-left:.5em}
.sys{color:var(--muted);font-size:.85rem;text-align:center}
footer{border-top:1px solid var(--line);background:var(--card)}
form{display:grid;grid-template-columns:9em minmax(0,1fr) auto;gap:8px;padding:10px 16px;max-width:860px;margin:0 auto}
@media (max-width:480px){form{grid-template-columns:minmax(0,1fr) auto}#name{grid-column:1/-1}}
input{font:inherit;padding:8px 10px;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--fg);min-width:0;width:100%}
button{font:inherit;border:0;border-radius:8px;padding:8px 18px;background:var(--accent);color:#fff;cursor:pointer}
@media (prefers-color-scheme:dark){button{color:#0b1f17}}
button:disabled{opacity:.5;cursor:default}
:focus-visible{outline:3px solid var(--accent);outline-offset:1px}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
</style></head>
<body>
<header><div class="head"><h1 id="room">${esc(ROOM)}</h1><span class="status" id="status" role="status"><span class="dot"></span>connecting…</span></div></header>
<ul id="log" aria-live="polite" aria-label="Messages"></ul>
<footer><form id="form" autocomplete="off">
<label class="vh" for="name">Your name</label><input id="name" maxlength="32" placeholder="name">
<label class="vh" for="text">Message</label><input id="text" maxlength="${MAX_MESSAGE}" placeholder="Say something…" required>
<button id="sendBtn" disabled>Send</button>
</form></footer>
<script>
const logEl = document.getElementById('log'), statusEl = document.getElementById('status');
const form = document.getElementById('form'), nameEl = document.getElementById('name'), textEl = document.getElementById('text'), btn = document.getElementById('sendBtn');
let ws, me = '', retry = 500;
nameEl.value = localStorage.getItem('chat-name') || '';
function setStatus(on, text) { statusEl.className = 'status' + (on ? ' on' : ''); statusEl.lastChild.textContent = text; btn.disabled = !on; }
function time(at) { return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); }
function add(m) {
  const stick = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 40;
  const li = document.createElement('li');
  if (m.type === 'message') {
    if (m.name === me) li.className = 'mine';
    const box = document.createElement('span'); box.className = 'msg';
    const who = document.createElement('span'); who.className = 'who'; who.textContent = m.name;
    const at = document.createElement('span'); at.className = 'at'; at.textContent = time(m.at);
    box.append(who, document.createTextNode(m.text), at); li.append(box);
  } else { li.className = 'sys'; li.textContent = m.text; }
  logEl.append(li);
  while (logEl.children.length > 500) logEl.firstChild.remove();
  if (stick) logEl.scrollTop = logEl.scrollHeight;
}
function connect() {
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (nameEl.value.trim()) url.searchParams.set('name', nameEl.value.trim());
  ws = new WebSocket(url);
  ws.onopen = () => { retry = 500; };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === 'welcome') {
      me = m.you; nameEl.value = m.you;
      document.getElementById('room').textContent = m.room; document.title = m.room + ' · chat';
      logEl.replaceChildren(); m.history.forEach(add); add({ type: 'system', text: 'You joined as ' + me });
      setStatus(true, m.online + ' online');
    } else if (m.type === 'presence') setStatus(true, m.online + ' online');
    else if (m.type === 'error') add({ type: 'system', text: '⚠ ' + m.text });
    else add(m);
  };
  ws.onclose = (e) => {
    setStatus(false, 'disconnected' + (e.reason ? ': ' + e.reason : '') + ' — retrying');
    setTimeout(connect, retry); retry = Math.min(retry * 2, 10000);
  };
}
nameEl.addEventListener('change', () => {
  const n = nameEl.value.trim(); if (!n) return;
  localStorage.setItem('chat-name', n); me = n;
  if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: 'name', name: n }));
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const t = textEl.value.trim(); if (!t || !ws || ws.readyState !== 1) return;
  ws.send(JSON.stringify({ type: 'message', text: t })); textEl.value = ''; textEl.focus();
});
connect();
</script></body></html>`;

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  const t0 = process.hrtime.bigint();
  if (path !== '/health') res.on('finish', () => log(`${req.method} ${req.url} ${res.statusCode} ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)}ms`));
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'application/json', '{"message":"only GET and HEAD are supported"}');
  }
  const head = req.method === 'HEAD';
  if (path === '/health') return send(res, 200, 'application/json', '{"status":"ok"}', head);
  if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', PAGE, head);
  if (path === '/stats.json') {
    return send(res, 200, 'application/json', JSON.stringify({ room: ROOM, online: clients.size, names: [...clients].map((c) => c.name), messages: messageCount, startedAt: new Date(started).toISOString() }), head);
  }
  if (path === '/ws') return send(res, 426, 'application/json', '{"message":"this is a WebSocket endpoint"}', head);
  return send(res, 404, 'application/json', JSON.stringify({ message: `nothing at ${path}` }), head);
});
server.requestTimeout = 30_000;
server.headersTimeout = 10_000;

server.on('upgrade', (req, socket, head) => {
  const reject = (status, message, extra = '') => {
    log(`upgrade ${req.url} refused: ${status} ${message}`);
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(message)}\r\nconnection: close\r\n${extra}\r\n${message}`);
  };
  socket.on('error', () => socket.destroy());
  const url = new URL(req.url || '/', 'http://chat.local');
  const path = url.pathname;
  if (path !== '/ws') return reject(404, `no WebSocket endpoint at ${path} (use ws)`);
  if (req.method !== 'GET') return reject(405, 'a WebSocket handshake is a GET');
  if (String(req.headers.upgrade || '').toLowerCase() !== 'websocket') return reject(400, 'Upgrade: websocket expected');
  const key = String(req.headers['sec-websocket-key'] || '');
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return reject(400, 'Sec-WebSocket-Key must be 16 bytes in base64');
  if (req.headers['sec-websocket-version'] !== '13') return reject(426, 'WebSocket version 13 only', 'sec-websocket-version: 13\r\n');
  if (clients.size >= MAX_CLIENTS) return reject(503, `the room is full (${MAX_CLIENTS} connections)`);
  const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.setNoDelay(true);
  socket.setTimeout(0);
  const remote = String(req.headers['x-forwarded-for'] || '').split(',')[0].trim() || socket.remoteAddress || '';
  const c = new Client(socket, remote, cleanName(url.searchParams.get('name') || ''));
  clients.add(c);
  log(`${c.name} joined (${remote}); ${clients.size} online`);
  c.send({ type: 'welcome', room: ROOM, you: c.name, online: clients.size, history, maxLength: MAX_MESSAGE });
  broadcast({ type: 'system', text: `${c.name} joined`, at: new Date().toISOString() }, c);
  broadcastPresence();
  if (head.length) c.onData(head);
});

function shutdown(signal) {
  log(`${signal} received, shutting down (${clients.size} connected)`);
  for (const c of clients) {
    c.sendClose(1001, 'the server is going away');
    c.socket.end();
  }
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
  log(`chat-room "${ROOM}" listening on 0.0.0.0:${PORT} (messages up to ${MAX_MESSAGE} characters, history ${HISTORY}, at most ${MAX_CLIENTS} connections)`);
});
