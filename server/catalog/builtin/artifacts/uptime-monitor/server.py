#!/usr/bin/env python3
"""uptime-monitor: polls a list of URLs and shows which are up (Python standard library only).

A URL is up when it answers with a status below 400 within the timeout. Pages (all relative,
so they work behind /service/<app id>/): / (status page), /status.json, POST check (check now),
/health (the monitor itself; always 200 while it runs).

Environment:
  PORT0 (or PORT)        the port to listen on (all interfaces)
  MONITOR_URLS           http(s) URLs separated by spaces, commas or new lines (at most 20);
                         empty: the monitor's own /health
  MONITOR_INTERVAL_S     seconds between checks (5…3600, default 30)
  MONITOR_TIMEOUT_S      seconds a check may take (1…60, default 5)
  MONITOR_HISTORY        checks kept per URL (10…1000, default 120)
"""

import json
import os
import re
import signal
import sys
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def env_int(name, default, lo, hi):
    try:
        return max(lo, min(hi, int(os.environ.get(name, ""))))
    except ValueError:
        return default


PORT = int(os.environ.get("PORT0") or os.environ.get("PORT") or "8080")
INTERVAL = env_int("MONITOR_INTERVAL_S", 30, 5, 3600)
TIMEOUT = env_int("MONITOR_TIMEOUT_S", 5, 1, 60)
HISTORY = env_int("MONITOR_HISTORY", 120, 10, 1000)
MAX_URLS = 20


def now_iso(t=None):
    return datetime.fromtimestamp(time.time() if t is None else t, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def log(msg):
    print(f"{datetime.now(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')} {msg}", flush=True)


def parse_urls(text):
    urls, errors = [], []
    for raw in re.split(r"[\s,]+", text or ""):
        if not raw:
            continue
        parts = urllib.parse.urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(f"{raw}: not an http(s) URL")
        elif raw not in urls:
            urls.append(raw)
    if len(urls) > MAX_URLS:
        errors.append(f"only the first {MAX_URLS} URLs are monitored")
        urls = urls[:MAX_URLS]
    return urls, errors


URLS, CONFIG_ERRORS = parse_urls(os.environ.get("MONITOR_URLS", ""))
if not URLS and not CONFIG_ERRORS:
    URLS = [f"http://127.0.0.1:{PORT}/health"]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer: the URL is up, whatever the other end would say."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect())


class Target:
    def __init__(self, url):
        self.url = url
        self.history = []  # {"t", "up", "ms", "detail"}
        self.state = "pending"
        self.since = time.time()
        self.lock = threading.Lock()

    def check(self):
        t0 = time.monotonic()
        req = urllib.request.Request(self.url, headers={"User-Agent": "yagura-uptime-monitor/1.0"})
        try:
            with OPENER.open(req, timeout=TIMEOUT) as res:
                res.read(65536)
                up, detail = res.status < 400, f"HTTP {res.status}"
        except urllib.error.HTTPError as err:
            up, detail = err.code < 400, f"HTTP {err.code}"
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, (TimeoutError, ssl.SSLError)):
                detail = type(reason).__name__
            elif isinstance(reason, OSError) and reason.strerror:
                detail = reason.strerror
            else:
                detail = str(reason)
            up = False
        except (TimeoutError, OSError) as err:
            up, detail = False, "TimeoutError" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        ms = round((time.monotonic() - t0) * 1000, 1)
        with self.lock:
            self.history.append({"t": time.time(), "up": up, "ms": ms, "detail": detail})
            del self.history[:-HISTORY]
            state = "up" if up else "down"
            if state != self.state:
                log(f"{self.url} is {state.upper()} ({detail}, {ms} ms){'' if self.state == 'pending' else f' after being {self.state} for {round(time.time() - self.since)} s'}")
                self.state, self.since = state, time.time()

    def view(self):
        with self.lock:
            h = list(self.history)
            last = h[-1] if h else None
            ups = [c for c in h if c["up"]]
            return {
                "url": self.url,
                "state": self.state,
                "since": now_iso(self.since),
                "lastCheck": now_iso(last["t"]) if last else None,
                "lastDetail": last["detail"] if last else None,
                "lastMs": last["ms"] if last else None,
                "uptimePercent": round(100 * len(ups) / len(h), 1) if h else None,
                "avgMs": round(sum(c["ms"] for c in ups) / len(ups), 1) if ups else None,
                "history": [{"t": now_iso(c["t"]), "up": c["up"], "ms": c["ms"]} for c in h[-60:]],
            }


TARGETS = [Target(u) for u in URLS]
WAKE = threading.Event()
STOP = threading.Event()
ROUNDS = {"count": 0, "last": None}


def checker():
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(TARGETS)))) as pool:
        while not STOP.is_set():
            list(pool.map(lambda t: t.check(), TARGETS))
            ROUNDS["count"] += 1
            ROUNDS["last"] = now_iso()
            WAKE.wait(INTERVAL)
            WAKE.clear()


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Uptime monitor</title>
<style>
:root{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#dde1e6;--accent:#283593;--up:#2e7d32;--down:#c62828;--pend:#8a939e}
@media (prefers-color-scheme:dark){:root{--bg:#111417;--fg:#e6e9ed;--muted:#9aa4af;--card:#1b2026;--line:#2c333b;--accent:#9fa8da;--up:#81c784;--down:#ef9a9a;--pend:#6b737d}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:860px;margin:0 auto;padding:24px 16px}
h1{font-size:1.6rem;margin:0;border-left:6px solid var(--accent);padding-left:14px}
.sub{color:var(--muted);margin:4px 0 12px}
.bar{display:flex;gap:10px;flex-wrap:wrap;align-items:center}
.bar .sub{margin:0}
button{font:inherit;border:0;border-radius:8px;padding:6px 16px;background:var(--accent);color:#fff;cursor:pointer}
@media (prefers-color-scheme:dark){button{color:#111}}
:focus-visible{outline:3px solid var(--accent);outline-offset:1px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:12px 16px;margin:12px 0}
.top{display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.url{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem;overflow-wrap:anywhere;flex:1 1 16em}
.pill{font-size:.8rem;font-weight:700;border-radius:999px;padding:2px 10px;color:#fff;text-transform:uppercase;letter-spacing:.03em}
@media (prefers-color-scheme:dark){.pill{color:#111}}
.up{background:var(--up)} .down{background:var(--down)} .pending{background:var(--pend)}
.meta{color:var(--muted);font-size:.85rem;margin-top:4px}
svg{width:100%;height:24px;display:block;margin-top:8px}
.warn{color:var(--down);font-weight:600}
</style></head>
<body><main>
<h1>Uptime monitor</h1>
<p class="sub" id="cfg"></p>
<div class="bar"><button type="button" id="now">Check now</button><span class="sub" id="round" role="status"></span></div>
<div id="errors"></div>
<div id="list"></div>
</main>
<script>
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
function bars(history) {
  const ns = 'http://www.w3.org/2000/svg'; const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 600 24'); svg.setAttribute('preserveAspectRatio', 'none'); svg.setAttribute('role', 'img');
  const ups = history.filter((c) => c.up).length; svg.setAttribute('aria-label', 'Last ' + history.length + ' checks: ' + ups + ' up');
  history.forEach((c, i) => { const r = document.createElementNS(ns, 'rect'); r.setAttribute('x', 600 - (history.length - i) * 10 + 1); r.setAttribute('width', 8); r.setAttribute('y', 0); r.setAttribute('height', 24); r.setAttribute('rx', 2); r.setAttribute('fill', c.up ? 'var(--up)' : 'var(--down)'); svg.append(r); });
  return svg;
}
async function load() {
  let s; try { s = await (await fetch('status.json', { cache: 'no-store' })).json(); } catch { $('round').textContent = 'not reachable'; return; }
  $('cfg').textContent = 'Checks every ' + s.intervalSeconds + ' s, timeout ' + s.timeoutSeconds + ' s.';
  $('round').textContent = s.rounds + ' rounds' + (s.lastRound ? ', last at ' + new Date(s.lastRound).toLocaleTimeString() : '');
  $('errors').replaceChildren(...s.configErrors.map((e) => el('p', 'warn', e)));
  $('list').replaceChildren(...s.targets.map((t) => {
    const c = el('section', 'card'); const top = el('div', 'top');
    top.append(el('span', 'pill ' + t.state, t.state), el('span', 'url', t.url)); c.append(top);
    const parts = [];
    if (t.lastDetail) parts.push(t.lastDetail + ' in ' + t.lastMs + ' ms');
    if (t.uptimePercent !== null) parts.push(t.uptimePercent + '% up over ' + t.checks + ' checks');
    if (t.avgMs !== null) parts.push('avg ' + t.avgMs + ' ms');
    if (t.state !== 'pending') parts.push(t.state + ' since ' + new Date(t.since).toLocaleString());
    c.append(el('div', 'meta', parts.join(' · ') || 'not checked yet'), bars(t.history));
    return c;
  }));
}
$('now').onclick = async () => { await fetch('check', { method: 'POST' }); setTimeout(load, 300); setTimeout(load, 1500); };
load(); setInterval(() => { if (!document.hidden) load(); }, 5000);
</script></body></html>"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "uptime-monitor/1.0"
    timeout = 30

    def version_string(self):
        return self.server_version

    def reply(self, status, body, ctype="application/json"):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body, indent=2)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.headers.get("Content-Length", "0") not in ("", "0"):
            self.close_connection = True  # never read: do not parse it as the next request
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/health":
            return self.reply(200, {"status": "ok"})
        if path in ("/", "/index.html"):
            return self.reply(200, PAGE, "text/html; charset=utf-8")
        if path == "/status.json":
            targets = []
            for t in TARGETS:
                v = t.view()
                v["checks"] = len(t.history)
                targets.append(v)
            return self.reply(200, {
                "intervalSeconds": INTERVAL,
                "timeoutSeconds": TIMEOUT,
                "rounds": ROUNDS["count"],
                "lastRound": ROUNDS["last"],
                "configErrors": CONFIG_ERRORS,
                "up": sum(1 for t in TARGETS if t.state == "up"),
                "down": sum(1 for t in TARGETS if t.state == "down"),
                "targets": targets,
            })
        return self.reply(404, {"message": f"nothing at {path}"})

    do_HEAD = do_GET

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/check":
            WAKE.set()
            return self.reply(202, {"checking": True})
        return self.reply(405, {"message": "only POST check is supported"})

    def log_request(self, code="-", size="-"):
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/health", "/status.json") and str(code).startswith("2"):
            return
        super().log_request(code, size)

    def log_message(self, format, *args):
        log(f"{self.address_string()} {format % args}")


def main():
    ThreadingHTTPServer.allow_reuse_address = True
    try:
        server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    except OSError as err:
        log(f"cannot listen on 0.0.0.0:{PORT}: {err.strerror or err}")
        sys.exit(1)
    server.daemon_threads = True

    def stop(signum, _frame):
        log(f"{signal.Signals(signum).name} received, shutting down")
        STOP.set()
        WAKE.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for e in CONFIG_ERRORS:
        log(f"ERROR: MONITOR_URLS: {e}")
    log(f"uptime-monitor listening on 0.0.0.0:{PORT}; checking {len(TARGETS)} URL(s) every {INTERVAL} s: {' '.join(URLS) or '(none)'}")
    threading.Thread(target=checker, daemon=True).start()
    server.serve_forever(poll_interval=0.25)
    server.server_close()
    log("stopped")
    # a check in progress may wait for its timeout; it has nothing to save
    os._exit(0)


if __name__ == "__main__":
    main()
