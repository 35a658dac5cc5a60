#!/usr/bin/env python3
"""kv-store: a small HTTP key-value store kept in one JSON file (Python standard library only).

  GET    /kv              list keys (?prefix= filters)        → {"count", "keys": [{key, size, type, updated}]}
  GET    /kv/<key>        the value, with the Content-Type it was stored with
  PUT    /kv/<key>        store the request body (201 created, 200 replaced)
  DELETE /kv/<key>        remove it (404 when absent)
  GET    /health          200 while the store is loaded and its directory writable
  GET    /                a small page to browse and edit the store

Every change is written before it is acknowledged: the whole store goes to a temporary file in
the same directory, which is fsync'ed and renamed over the data file, and the directory is
fsync'ed; a crash leaves either the old or the new file, never a torn one.

Environment: PORT0 (or PORT); MESOS_SANDBOX; KV_DATA_DIR (default: the sandbox);
KV_MAX_VALUE_KB (1…1024, default 64); KV_MAX_KEYS (1…100000, default 1000);
KV_MAX_TOTAL_MB (1…256, default 8).
"""

import base64
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def env_int(name, default, lo, hi):
    try:
        return max(lo, min(hi, int(os.environ.get(name, ""))))
    except ValueError:
        return default


PORT = int(os.environ.get("PORT0") or os.environ.get("PORT") or "8080")
SANDBOX = os.environ.get("MESOS_SANDBOX") or os.getcwd()
DATA_DIR = os.environ.get("KV_DATA_DIR") or SANDBOX
MAX_VALUE = env_int("KV_MAX_VALUE_KB", 64, 1, 1024) * 1024
MAX_KEYS = env_int("KV_MAX_KEYS", 1000, 1, 100000)
MAX_TOTAL = env_int("KV_MAX_TOTAL_MB", 8, 1, 256) * 1024 * 1024
DATA_FILE = os.path.join(DATA_DIR, "kv-store.json")
KEY = re.compile(r"[A-Za-z0-9._~:-]{1,200}")
TYPE = re.compile(r"[\x20-\x7e]{1,120}")


def now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log(msg):
    print(f"{now_iso()} {msg}", flush=True)


class Store:
    """The items in memory; every change is persisted atomically before the call returns."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.items = {}  # key -> {"value": bytes, "type": str, "updated": str}
        self.total = 0
        self.seq = 0

    def load(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # temporary files of a write that never finished are worthless: the rename did not happen
        prefix = os.path.basename(self.path) + ".tmp-"
        for name in os.listdir(os.path.dirname(self.path)):
            if name.startswith(prefix):
                os.unlink(os.path.join(os.path.dirname(self.path), name))
        if not os.path.exists(self.path):
            log(f"no data file yet at {self.path}: starting empty")
            return
        try:
            with open(self.path, "rb") as f:
                doc = json.load(f)
            items = {}
            for key, item in doc["items"].items():
                raw = item["value"]
                value = raw.encode("utf-8") if item.get("encoding") == "utf8" else base64.b64decode(raw, validate=True)
                items[key] = {"value": value, "type": item.get("type", "application/octet-stream"), "updated": item.get("updated", "")}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            aside = f"{self.path}.unreadable-{int(time.time())}"
            os.replace(self.path, aside)
            log(f"ERROR: {self.path} could not be read ({err}); moved it to {aside} and starting empty")
            return
        self.items = items
        self.total = sum(len(i["value"]) for i in items.values())
        log(f"loaded {len(items)} keys ({self.total} bytes) from {self.path}")

    def _persist(self):
        doc = {"version": 1, "items": {}}
        for key, item in self.items.items():
            try:
                enc, text = "utf8", item["value"].decode("utf-8")
            except UnicodeDecodeError:
                enc, text = "base64", base64.b64encode(item["value"]).decode("ascii")
            doc["items"][key] = {"value": text, "encoding": enc, "type": item["type"], "updated": item["updated"]}
        data = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8")
        self.seq += 1
        tmp = f"{self.path}.tmp-{os.getpid()}-{self.seq}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(tmp)
            raise
        os.close(fd)
        os.replace(tmp, self.path)
        dfd = os.open(os.path.dirname(self.path), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def put(self, key, value, ctype):
        with self.lock:
            old = self.items.get(key)
            if old is None and len(self.items) >= MAX_KEYS:
                return "full", f"the store holds its maximum of {MAX_KEYS} keys"
            total = self.total - (len(old["value"]) if old else 0) + len(value)
            if total > MAX_TOTAL:
                return "full", f"the store would exceed its maximum of {MAX_TOTAL} bytes"
            self.items[key] = {"value": value, "type": ctype, "updated": now_iso()}
            try:
                self._persist()
            except OSError:
                if old is None:
                    del self.items[key]
                else:
                    self.items[key] = old
                raise
            self.total = total
            return ("replaced" if old else "created"), None

    def delete(self, key):
        with self.lock:
            old = self.items.pop(key, None)
            if old is None:
                return False
            try:
                self._persist()
            except OSError:
                self.items[key] = old
                raise
            self.total -= len(old["value"])
            return True

    def get(self, key):
        with self.lock:
            return self.items.get(key)

    def listing(self, prefix=""):
        with self.lock:
            return [
                {"key": k, "size": len(v["value"]), "type": v["type"], "updated": v["updated"]}
                for k, v in sorted(self.items.items())
                if k.startswith(prefix)
            ]


STORE = Store(DATA_FILE)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>kv-store</title>
<style>
:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#dde1e6;--accent:#ad1457;--code:#f0f1f4}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--fg:#e6e9ed;--muted:#9aa4af;--card:#1b2026;--line:#2c333b;--accent:#f48fb1;--code:#14181d}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:820px;margin:0 auto;padding:24px 16px}
h1{font-size:1.6rem;margin:0;border-left:6px solid var(--accent);padding-left:14px}
h2{font-size:1.05rem;margin:0 0 10px}
.sub{color:var(--muted);margin:4px 0 16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px;margin:14px 0}
label{display:block;font-size:.85rem;color:var(--muted);margin:8px 0 4px}
input,textarea{font:inherit;width:100%;padding:8px 10px;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--fg)}
textarea{min-height:6em;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem}
button{font:inherit;border:1px solid var(--line);border-radius:8px;padding:6px 14px;background:var(--card);color:var(--fg);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff;margin-top:10px}
@media (prefers-color-scheme:dark){button.primary{color:#111}}
:focus-visible{outline:3px solid var(--accent);outline-offset:1px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px 6px 0;border-bottom:1px solid var(--line);overflow-wrap:anywhere;vertical-align:middle}
th{font-size:.8rem;color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;white-space:nowrap}
.key{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:none;border:0;padding:0;color:var(--accent);text-decoration:underline;text-align:left}
#msg{min-height:1.5em}
@media (max-width:520px){.hide-s{display:none}}
</style></head>
<body><main>
<h1>kv-store</h1>
<p class="sub">Values up to __MAXV__ KiB, at most __MAXK__ keys, kept in <code>__FILE__</code>.</p>
<section class="card" aria-labelledby="put"><h2 id="put">Put a value</h2>
<form id="form"><label for="k">Key (letters, digits, . _ ~ : -)</label><input id="k" required maxlength="200" pattern="[A-Za-z0-9._~:\\-]+">
<label for="v">Value</label><textarea id="v"></textarea>
<button class="primary">Save</button> <span id="msg" role="status"></span></form></section>
<section class="card" aria-labelledby="keys"><h2 id="keys">Keys <span id="count" class="sub"></span></h2>
<table><thead><tr><th scope="col">Key</th><th scope="col" class="n">Size</th><th scope="col" class="hide-s">Updated</th><th scope="col"><span class="hide-s">Actions</span></th></tr></thead><tbody id="rows"></tbody></table>
</section>
<p class="sub">API: <code>GET kv</code>, <code>GET|PUT|DELETE kv/&lt;key&gt;</code> relative to this page.</p>
</main>
<script>
const rows = document.getElementById('rows'), msg = document.getElementById('msg'), k = document.getElementById('k'), v = document.getElementById('v');
const url = (key) => 'kv/' + encodeURIComponent(key);
async function load() {
  const r = await fetch('kv', { cache: 'no-store' }); const d = await r.json();
  document.getElementById('count').textContent = '(' + d.count + ')';
  rows.replaceChildren(...d.keys.map((it) => {
    const tr = document.createElement('tr');
    const a = document.createElement('button'); a.className = 'key'; a.type = 'button'; a.textContent = it.key;
    a.onclick = async () => { const r = await fetch(url(it.key), { cache: 'no-store' }); k.value = it.key; v.value = await r.text(); k.focus(); };
    const del = document.createElement('button'); del.type = 'button'; del.textContent = 'Delete'; del.setAttribute('aria-label', 'Delete ' + it.key);
    del.onclick = async () => { await fetch(url(it.key), { method: 'DELETE' }); msg.textContent = 'Deleted ' + it.key; load(); };
    const c1 = document.createElement('td'); c1.append(a);
    const c2 = document.createElement('td'); c2.className = 'n'; c2.textContent = it.size + ' B';
    const c3 = document.createElement('td'); c3.className = 'hide-s'; c3.textContent = it.updated.replace('T', ' ').slice(0, 19);
    const c4 = document.createElement('td'); c4.append(del);
    tr.append(c1, c2, c3, c4); return tr;
  }));
}
document.getElementById('form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await fetch(url(k.value), { method: 'PUT', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: v.value });
  const d = await r.json().catch(() => ({}));
  msg.textContent = r.ok ? (r.status === 201 ? 'Created ' : 'Saved ') + k.value : 'Error: ' + (d.message || r.status);
  load();
});
load();
</script></body></html>"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kv-store/1.0"
    timeout = 30

    def version_string(self):
        return self.server_version

    # --- helpers
    def reply(self, status, body=b"", ctype="application/json", extra=None):
        extra = dict(extra or {})
        if not getattr(self, "body_read", False) and self.headers.get("Content-Length", "0") not in ("", "0"):
            # a body we did not read must not be parsed as the next request
            self.close_connection = True
            extra["Connection"] = "close"
        if isinstance(body, (dict, list)):
            body = json.dumps(body, indent=2).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, message, extra=None):
        self.reply(status, {"message": message, "details": [{"path": urllib.parse.urlsplit(self.path).path, "errors": [message]}]}, extra=extra)

    def route(self):
        """(kind, key): kind is one of index, health, list, item, None."""
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        if path in ("/", "/index.html"):
            return "index", None
        if path == "/health":
            return "health", None
        if path in ("/kv", "/kv/"):
            return "list", None
        if path.startswith("/kv/"):
            return "item", urllib.parse.unquote(path[4:])
        return None, None

    def valid_key(self, key):
        if KEY.fullmatch(key) and key not in (".", ".."):
            return True
        self.error(400, "keys are 1 to 200 characters: letters, digits, '.', '_', '~', ':' and '-'")
        return False

    # --- methods
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        kind, key = self.route()
        if kind == "health":
            writable = os.access(DATA_DIR, os.W_OK)
            return self.reply(200 if writable else 503, {"status": "ok" if writable else "data directory not writable", "keys": len(STORE.items)})
        if kind == "index":
            page = PAGE.replace("__MAXV__", str(MAX_VALUE // 1024)).replace("__MAXK__", str(MAX_KEYS))
            page = page.replace("__FILE__", DATA_FILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
            return self.reply(200, page, "text/html; charset=utf-8")
        if kind == "list":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            keys = STORE.listing(query.get("prefix", [""])[0])
            return self.reply(200, {"count": len(keys), "keys": keys})
        if kind == "item":
            if not self.valid_key(key):
                return None
            item = STORE.get(key)
            if item is None:
                return self.error(404, f"no key {key}")
            return self.reply(200, item["value"], item["type"], {"X-Updated-At": item["updated"]})
        return self.error(404, f"nothing at {urllib.parse.urlsplit(self.path).path}")

    def do_PUT(self):
        kind, key = self.route()
        if kind != "item":
            return self.error(405, "PUT a value to kv/<key>", {"Allow": "GET, HEAD"})
        if not self.valid_key(key):
            return None
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.error(411, "send the value with a Content-Length", {"Connection": "close"})
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self.error(411, "send the value with a Content-Length", {"Connection": "close"})
        if length < 0 or length > MAX_VALUE:
            self.close_connection = True
            return self.error(413, f"values may be at most {MAX_VALUE} bytes", {"Connection": "close"})
        value = self.rfile.read(length)
        self.body_read = True
        if len(value) != length:
            self.close_connection = True
            return None
        ctype = self.headers.get("Content-Type", "application/octet-stream")
        if not TYPE.fullmatch(ctype):
            ctype = "application/octet-stream"
        try:
            result, why = STORE.put(key, value, ctype)
        except OSError as err:
            log(f"ERROR: writing {DATA_FILE} failed: {err}")
            return self.error(503, f"could not write the store: {err.strerror}")
        if result == "full":
            return self.error(507, why)
        return self.reply(201 if result == "created" else 200, {"key": key, "size": len(value), "result": result})

    def do_DELETE(self):
        kind, key = self.route()
        if kind != "item":
            return self.error(405, "DELETE kv/<key>", {"Allow": "GET, HEAD"})
        if not self.valid_key(key):
            return None
        try:
            deleted = STORE.delete(key)
        except OSError as err:
            log(f"ERROR: writing {DATA_FILE} failed: {err}")
            return self.error(503, f"could not write the store: {err.strerror}")
        if not deleted:
            return self.error(404, f"no key {key}")
        return self.reply(200, {"key": key, "deleted": True})

    def do_POST(self):
        self.close_connection = True
        self.error(405, "use PUT to store a value", {"Allow": "GET, HEAD, PUT, DELETE", "Connection": "close"})

    do_PATCH = do_POST

    def log_request(self, code="-", size="-"):
        if urllib.parse.urlsplit(self.path).path == "/health" and str(code).startswith("2"):
            return
        super().log_request(code, size)

    def log_message(self, format, *args):
        log(f"{self.address_string()} {format % args}")


def main():
    try:
        STORE.load()
    except OSError as err:
        log(f"ERROR: cannot use data directory {DATA_DIR}: {err}")
        sys.exit(1)
    ThreadingHTTPServer.allow_reuse_address = True
    try:
        server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    except OSError as err:
        log(f"cannot listen on 0.0.0.0:{PORT}: {err.strerror or err}")
        sys.exit(1)
    server.daemon_threads = True

    def stop(signum, _frame):
        log(f"{signal.Signals(signum).name} received, shutting down")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"kv-store listening on 0.0.0.0:{PORT}, data in {DATA_FILE} (values up to {MAX_VALUE} bytes, {MAX_KEYS} keys, {MAX_TOTAL} bytes in all)")
    server.serve_forever(poll_interval=0.25)
    server.server_close()
    # every acknowledged change is already on disk; wait for a write in progress to finish
    with STORE.lock:
        log("stopped")


if __name__ == "__main__":
    main()
