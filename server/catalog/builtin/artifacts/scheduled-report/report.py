#!/usr/bin/env python3
"""scheduled-report: writes a short report about the node it runs on (Python standard library only).

It prints the report to stdout and writes it to <REPORT_FILE>.txt or .json in the sandbox, then
exits 0 (1 with a message on stderr if it could not). Environment:
  REPORT_FORMAT        text or json (default text)
  REPORT_TITLE         the report's title
  REPORT_TIMEZONE      IANA time zone for local times (default UTC)
  REPORT_PROCESSES     "true" to list the five processes using the most memory
  REPORT_FILE          the output file's name without extension (default report)
  MESOS_SANDBOX        where the file goes (default: the current directory)
"""

import json
import os
import platform
import re
import shutil
import socket
import sys
from datetime import datetime, timezone

FORMAT = os.environ.get("REPORT_FORMAT", "text").lower()
TITLE = (os.environ.get("REPORT_TITLE") or "Node report")[:200]
TZ_NAME = os.environ.get("REPORT_TIMEZONE") or "UTC"
PROCESSES = (os.environ.get("REPORT_PROCESSES") or "false").lower() == "true"
FILE = os.environ.get("REPORT_FILE") or "report"
SANDBOX = os.environ.get("MESOS_SANDBOX") or os.getcwd()


def fail(msg):
    print(f"scheduled-report failed: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def local_zone():
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(TZ_NAME), None
    except Exception as err:  # no tz database, or an unknown name
        return timezone.utc, f"time zone {TZ_NAME!r} is not available here ({type(err).__name__}); times are UTC"


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def uptime_seconds():
    text = read("/proc/uptime")
    return float(text.split()[0]) if text else None


def duration(s):
    s = int(s)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def meminfo():
    text = read("/proc/meminfo") or ""
    values = {}
    for line in text.splitlines():
        m = re.match(r"(\w+):\s+(\d+) kB", line)
        if m:
            values[m.group(1)] = int(m.group(2)) * 1024
    return {"totalBytes": values.get("MemTotal"), "availableBytes": values.get("MemAvailable")}


def sandbox_size(root):
    files, size = 0, 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            try:
                size += os.lstat(os.path.join(dirpath, name)).st_size
                files += 1
            except OSError:
                pass
    return files, size


def top_processes(n=5):
    procs = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        status = read(f"/proc/{pid}/status")
        if not status:
            continue
        name = re.search(r"^Name:\s*(.*)$", status, re.M)
        rss = re.search(r"^VmRSS:\s*(\d+) kB", status, re.M)
        procs.append({"pid": int(pid), "name": name.group(1) if name else "?", "rssBytes": int(rss.group(1)) * 1024 if rss else 0})
    procs.sort(key=lambda p: p["rssBytes"], reverse=True)
    return len(procs), procs[:n]


def collect():
    zone, tz_note = local_zone()
    now = datetime.now(timezone.utc)
    disk = shutil.disk_usage(SANDBOX)
    files, size = sandbox_size(SANDBOX)
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    up = uptime_seconds()
    report = {
        "title": TITLE,
        "generatedAt": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "localTime": now.astimezone(zone).isoformat(timespec="seconds"),
        "timezone": TZ_NAME if tz_note is None else "UTC",
        "host": os.environ.get("YAGURA_HOSTNAME") or os.environ.get("HOST") or socket.gethostname(),
        "job": {"id": os.environ.get("YAGURA_JOB_ID"), "run": os.environ.get("YAGURA_RUN_ID"), "attempt": os.environ.get("YAGURA_RUN_ATTEMPT"), "task": os.environ.get("MESOS_TASK_ID")},
        "system": {"os": f"{platform.system()} {platform.release()}", "machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "uptimeSeconds": round(up) if up is not None else None,
        "loadAverage": load,
        "memory": meminfo(),
        "disk": {"path": SANDBOX, "totalBytes": disk.total, "usedBytes": disk.used, "freeBytes": disk.free, "sandboxFiles": files, "sandboxBytes": size},
    }
    if PROCESSES:
        count, top = top_processes()
        report["processes"] = {"count": count, "topByMemory": top}
    if tz_note:
        report["notes"] = [tz_note]
    return report


def as_text(r):
    lines = [r["title"], "=" * len(r["title"])]
    row = lambda k, v: lines.append(f"{k:<14}{v}")
    row("Generated", f"{r['generatedAt']} (local {r['localTime']}, {r['timezone']})")
    row("Host", r["host"])
    if r["job"]["id"]:
        row("Job", f"{r['job']['id']} run {r['job']['run']} attempt {r['job']['attempt']}")
    s = r["system"]
    row("System", f"{s['os']} {s['machine']}, {s['cpus']} CPUs, Python {s['python']}")
    if r["uptimeSeconds"] is not None:
        row("Uptime", duration(r["uptimeSeconds"]))
    if r["loadAverage"]:
        row("Load average", " ".join(str(x) for x in r["loadAverage"]) + " (1, 5, 15 min)")
    m = r["memory"]
    if m["totalBytes"]:
        row("Memory", f"{human(m['availableBytes'] or 0)} available of {human(m['totalBytes'])}")
    d = r["disk"]
    pct = 100 * d["usedBytes"] / d["totalBytes"] if d["totalBytes"] else 0
    row("Disk", f"{human(d['usedBytes'])} used of {human(d['totalBytes'])} ({pct:.0f}%), {human(d['freeBytes'])} free")
    row("Sandbox", f"{d['sandboxFiles']} files, {human(d['sandboxBytes'])} in {d['path']}")
    if "processes" in r:
        p = r["processes"]
        row("Processes", f"{p['count']} running; most memory:")
        for proc in p["topByMemory"]:
            lines.append(f"{'':<14}{proc['pid']:>7}  {human(proc['rssBytes']):>10}  {proc['name']}")
    for note in r.get("notes", []):
        row("Note", note)
    return "\n".join(lines) + "\n"


def main():
    if FORMAT not in ("text", "json"):
        fail(f"REPORT_FORMAT must be text or json, not {FORMAT!r}")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", FILE) or FILE.startswith("."):
        fail(f"REPORT_FILE must be a plain file name (letters, digits, '.', '_', '-'), not {FILE!r}")
    try:
        report = collect()
    except OSError as err:
        fail(f"could not read the system's state: {err}")
    out = as_text(report) if FORMAT == "text" else json.dumps(report, indent=2) + "\n"
    path = os.path.join(SANDBOX, f"{FILE}.{'txt' if FORMAT == 'text' else 'json'}")
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(out)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        fail(f"could not write {path}: {err}")
    sys.stdout.write(out)
    print(f"report written to {path} ({len(out.encode('utf-8'))} bytes)", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
