#!/usr/bin/env python3
"""static-files: serves a directory of the sandbox over HTTP (Python standard library only).

At start it writes index.html (and a sample file) into the directory, from the environment:
  PORT0 (or PORT)    the port to listen on (all interfaces)
  MESOS_SANDBOX      the task's sandbox (default: the current directory)
  STATIC_DIR         the directory's name inside the sandbox (default: www)
  STATIC_TITLE       the page title
  STATIC_TEXT        the page text; blank lines separate paragraphs
  STATIC_LISTING     "true" to list directories that have no index.html
Links and redirects are relative, so the site works behind /service/<app id>/.
"""

import functools
import html
import os
import re
import signal
import sys
import threading
import urllib.parse
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT0") or os.environ.get("PORT") or "8080")
SANDBOX = os.environ.get("MESOS_SANDBOX") or os.getcwd()
DIR_NAME = os.environ.get("STATIC_DIR") or "www"
TITLE = (os.environ.get("STATIC_TITLE") or "It works!")[:200]
TEXT = (os.environ.get("STATIC_TEXT") or "")[:5000]
LISTING = (os.environ.get("STATIC_LISTING") or "false").lower() == "true"


def log(msg):
    print(f"{datetime.now(timezone.utc).isoformat(timespec='milliseconds')} {msg}", flush=True)


if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", DIR_NAME) or DIR_NAME in (".", ".."):
    log(f"STATIC_DIR must be a plain folder name (letters, digits, '.', '_', '-'), got {DIR_NAME!r}")
    sys.exit(2)

ROOT = os.path.join(SANDBOX, DIR_NAME)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>{title}</title>
<style>
:root{{color-scheme:light dark;--bg:#f5f6f8;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#dde1e6;--accent:#006f79}}
@media (prefers-color-scheme:dark){{:root{{--bg:#111417;--fg:#e6e9ed;--muted:#9aa4af;--card:#1b2026;--line:#2c333b;--accent:#4dd0e1}}}}
*{{box-sizing:border-box}}
body{{margin:0;font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}}
main{{max-width:720px;margin:0 auto;padding:32px 16px}}
h1{{font-size:clamp(1.5rem,5vw,2.2rem);line-height:1.2;margin:0 0 16px;border-left:6px solid var(--accent);padding-left:16px;overflow-wrap:anywhere}}
.card{{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:8px 20px;margin:16px 0}}
p{{overflow-wrap:anywhere}}
a{{color:var(--accent)}}
footer{{color:var(--muted);font-size:.85rem}}
code{{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}}
</style></head>
<body><main>
<h1>{title}</h1>
<div class="card">{paragraphs}</div>
<footer>Served by static-files from <code>{root}</code> · written {when} · <a href="hello.txt">hello.txt</a></footer>
</main></body></html>
"""


def write_site():
    os.makedirs(ROOT, exist_ok=True)
    paras = [p.strip() for p in re.split(r"\n\s*\n", TEXT) if p.strip()]
    if not paras:
        paras = ["This page was written by the static-files package when its task started."]
    body = "\n".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paras)
    page = PAGE.format(
        title=html.escape(TITLE),
        paragraphs=body,
        root=html.escape(ROOT),
        when=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
    tmp = os.path.join(ROOT, ".index.html.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, os.path.join(ROOT, "index.html"))
    sample = os.path.join(ROOT, "hello.txt")
    if not os.path.exists(sample):
        with open(sample, "w", encoding="utf-8") as f:
            f.write("Hello! Put more files next to this one and they are served too.\n")


class Handler(SimpleHTTPRequestHandler):
    server_version = "static-files/1.0"

    def version_string(self):
        return self.server_version

    def do_GET(self):
        if self._health():
            return
        super().do_GET()

    def do_HEAD(self):
        if self._health():
            return
        super().do_HEAD()

    def _health(self):
        if urllib.parse.urlsplit(self.path).path != "/health":
            return False
        body = b'{"status":"ok"}'
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return True

    def send_head(self):
        # A directory without its trailing slash: redirect RELATIVELY (the stock handler sends
        # an absolute path, which would leave the /service/<app id>/ prefix behind).
        parts = urllib.parse.urlsplit(self.path)
        path = self.translate_path(self.path)
        if os.path.isdir(path) and not parts.path.endswith("/"):
            last = parts.path.rstrip("/").rsplit("/", 1)[-1]
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", urllib.parse.quote(urllib.parse.unquote(last)) + "/" + (("?" + parts.query) if parts.query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return super().send_head()

    def list_directory(self, path):
        if not LISTING:
            self.send_error(HTTPStatus.NOT_FOUND, "No index.html here (directory listing is off)")
            return None
        return super().list_directory(path)

    def end_headers(self):
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_request(self, code="-", size="-"):
        if urllib.parse.urlsplit(self.path).path == "/health" and str(code).startswith("2"):
            return
        super().log_request(code, size)

    def log_message(self, format, *args):
        log(f"{self.address_string()} {format % args}")


def main():
    write_site()
    handler = functools.partial(Handler, directory=ROOT)
    ThreadingHTTPServer.allow_reuse_address = True
    try:
        server = ThreadingHTTPServer(("0.0.0.0", PORT), handler)
    except OSError as err:
        log(f"cannot listen on 0.0.0.0:{PORT}: {err.strerror or err}")
        sys.exit(1)
    server.daemon_threads = True

    def stop(signum, _frame):
        log(f"{signal.Signals(signum).name} received, shutting down")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"static-files serving {ROOT} on 0.0.0.0:{PORT} (directory listing {'on' if LISTING else 'off'})")
    server.serve_forever(poll_interval=0.25)
    server.server_close()
    log("stopped")


if __name__ == "__main__":
    main()
