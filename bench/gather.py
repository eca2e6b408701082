"""Benchmark `syndicate gather` against a generated news site served on 127.0.0.1.

Run it from the repository root (syndicate installed, e.g. ``pip install -e .``)::

    python bench/gather.py                    # 2,000-article site, seed 7
    python bench/gather.py --articles 500     # a smaller site
    python bench/gather.py --site DIR         # an existing newsite.py fixture directory
    python bench/gather.py --keep             # keep the temporary site, project and logs

What it does:

1. generates a site with ``newsite.py`` (from ``../shared/tools`` next to the repository, or
   ``$SYNDICATE_SHARED/tools``) into a temporary directory, on ``/dev/shm`` when it exists;
2. serves it with ``serve_site.py`` in a *separate process* (so the server does not share a
   GIL with the crawler being measured), logging every request to a file;
3. writes a project with ``syndicate init`` and sets ``allow_private = true`` for the site
   source (the crawler refuses loopback otherwise);
4. runs ``syndicate gather`` three times as child processes (an empty store; the unchanged
   site with the default ``recheck = "all"``; again with ``recheck = "sitemap"``), each
   timed by wall clock, with its peak RSS taken from ``os.wait4`` (that child alone), its
   summary line parsed, and the server's request counts (``GET /_fixture/stats`` and the
   request log) read after it;
5. prints a table, the first/second ratios (target: the second gather at least 10x faster)
   and stops the server.

Exit status: 0 when both gathers ran (a gather exiting 1 because some fixture pages fail by
design is fine), 1 when a step broke.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = 7
TARGET_RATIO = 10.0
SUMMARY_RE = re.compile(
    r"gathered: (?P<new>\d+) new, (?P<updated>\d+) updated, (?P<unchanged>\d+) unchanged, "
    r"(?P<failed>\d+) failed, (?P<crosslinks>\d+) cross-links"
    r"(?:, (?P<disallowed>\d+) disallowed by robots\.txt)?(?: in (?P<secs>[\d.]+)s)?"
)
# serve_site.py --verbose logs: 127.0.0.1 - "GET /path HTTP/1.1" 200 -
LOG_RE = re.compile(r'"(?P<method>[A-Z]+) \S+ HTTP/[\d.]+" (?P<status>\d{3})')


class BenchError(Exception):
    """A step of the benchmark failed; the message says which."""


@dataclass
class Child:
    """One finished child process: what it printed, how long it took, its peak RSS."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    wall: float
    maxrss_mb: float


@dataclass
class GatherResult:
    """The figures of one `syndicate gather` run."""

    label: str
    child: Child
    counts: dict[str, int]
    reported_secs: float | None
    requests: int | None
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def pages(self) -> int:
        c = self.counts
        return c["new"] + c["updated"] + c["unchanged"] + c["failed"]

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.child.wall if self.child.wall > 0 else 0.0


def shared_dir() -> Path:
    """The shared tree holding tools/newsite.py and tools/serve_site.py."""
    env = os.environ.get("SYNDICATE_SHARED")
    return Path(env).resolve() if env else (REPO.parent / "shared").resolve()


def run_child(args: list[str], cwd: Path | None = None) -> Child:
    """Run a command to completion; measure its wall time and its own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd)
        # wait4 reports this child's own rusage (RUSAGE_CHILDREN would be the max over all).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == "darwin" else 1024
    return Child(args, proc.returncode, stdout, stderr, wall, usage.ru_maxrss * scale / 2**20)


def check(child: Child, what: str, ok: tuple[int, ...] = (0,)) -> Child:
    if child.returncode not in ok:
        tail = (child.stderr or child.stdout).strip()[-2000:]
        raise BenchError(f"{what} exited {child.returncode}:\n{tail}")
    return child


def generate_site(out: Path, articles: int) -> Child:
    newsite = shared_dir() / "tools" / "newsite.py"
    if not newsite.is_file():
        raise BenchError(f"{newsite} not found (set SYNDICATE_SHARED to the shared directory)")
    args = [sys.executable, str(newsite), "--out", str(out), "--articles", str(articles)]
    return check(run_child([*args, "--seed", str(SEED), "--quiet"]), "newsite.py")


class Server:
    """serve_site.py in its own process, logging requests to a file."""

    def __init__(self, site: Path, log_path: Path) -> None:
        script = shared_dir() / "tools" / "serve_site.py"
        if not script.is_file():
            raise BenchError(f"{script} not found (set SYNDICATE_SHARED to the shared directory)")
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(site), "--port", "0", "--verbose"],
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
        )
        self.base = self._read_base(timeout=30.0)

    def _read_base(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode() if ready else ""
        m = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
        if not m:
            self.stop()
            raise BenchError(f"serve_site.py did not start: {line!r} (log: {self.log_path})")
        return m.group(1)

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.base}/_fixture/stats", timeout=10) as resp:
            return json.load(resp)

    def log_offset(self) -> int:
        return self.log_path.stat().st_size

    def statuses_since(self, offset: int) -> Counter[str]:
        """Counts of "METHOD STATUS" in the request log from a byte offset on."""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        return Counter(
            f"{m['method']} {m['status']}"
            for m in LOG_RE.finditer(text)
            if "/_fixture/" not in m.group(0)
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._log.close()


def make_project(proj: Path, base: str) -> None:
    args = [sys.executable, "-m", "syndicate", "init", str(proj)]
    check(run_child([*args, "--site-url", f"{base}/", "--timezone", "Asia/Kolkata"]), "init")
    toml = proj / "syndicate.toml"
    text = toml.read_text(encoding="utf-8")
    header = "[sources.site]\n"
    if header not in text:
        raise BenchError(f"{toml} has no [sources.site] table")
    # Right under the header, so the key belongs to that table whatever follows it.
    toml.write_text(text.replace(header, header + "allow_private = true\n", 1), encoding="utf-8")


def set_recheck(proj: Path, policy: str) -> None:
    toml = proj / "syndicate.toml"
    header = "[sources.site]\n"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace(header, f'{header}recheck = "{policy}"\n', 1), encoding="utf-8")


def gather(label: str, proj: Path, server: Server) -> GatherResult:
    before = server.stats()["requests"]
    offset = server.log_offset()
    args = [sys.executable, "-m", "syndicate", "--project", str(proj), "gather"]
    child = check(run_child(args), f"gather ({label})", ok=(0, 1))
    m = SUMMARY_RE.search(child.stdout)
    if not m:
        raise BenchError(f"gather ({label}) printed no summary line:\n{child.stdout[-2000:]}")
    counts = {k: int(v) for k, v in m.groupdict().items() if k != "secs" and v is not None}
    counts.setdefault("disallowed", 0)
    # The log holds the previous /_fixture/stats request too, hence the -1.
    requests = server.stats()["requests"] - before - 1
    time.sleep(0.05)  # let the server flush its last log lines
    statuses = server.statuses_since(offset)
    secs = float(m["secs"]) if m["secs"] else None
    return GatherResult(label, child, counts, secs, requests, statuses)


def print_report(articles: str, site_secs: float | None, runs: list[GatherResult]) -> None:
    first = runs[0]
    rows = [
        ("articles", *(articles for _ in runs)),
        ("wall seconds (process)", *(f"{r.child.wall:.2f}" for r in runs)),
        ("seconds reported by gather", *(fmt(r.reported_secs) for r in runs)),
        ("pages (new+upd+unch+failed)", *(str(r.pages) for r in runs)),
        ("pages/s (wall)", *(f"{r.pages_per_s:.1f}" for r in runs)),
        ("new / updated / unchanged", *(triple(r) for r in runs)),
        ("failed", *(str(r.counts["failed"]) for r in runs)),
        ("cross-links", *(str(r.counts["crosslinks"]) for r in runs)),
        ("server requests", *(fmt(r.requests) for r in runs)),
        ("peak RSS MB", *(f"{r.child.maxrss_mb:.1f}" for r in runs)),
        ("exit status", *(str(r.child.returncode) for r in runs)),
    ]
    w0 = max(len(r[0]) for r in rows)
    widths = [max(len(r.label), *(len(row[k + 1]) for row in rows)) for k, r in enumerate(runs)]
    print()
    print(f"{'':<{w0}}  " + "  ".join(f"{r.label:>{w}}" for r, w in zip(runs, widths, strict=True)))
    for name, *vals in rows:
        print(f"{name:<{w0}}  " + "  ".join(f"{v:>{w}}" for v, w in zip(vals, widths, strict=True)))
    print()
    for r in runs:
        print(f"server responses, {r.label} gather: {statuses(r)}")
    if site_secs is not None:
        print(f"site generation: {site_secs:.1f}s")
    for r in runs[1:]:
        ratio = first.child.wall / r.child.wall if r.child.wall > 0 else float("inf")
        verdict = "OK" if ratio >= TARGET_RATIO else f"BELOW TARGET ({TARGET_RATIO:.0f}x)"
        print(f"ratio {first.label} / {r.label} (wall): {ratio:.1f}x  {verdict}")
        if first.reported_secs and r.reported_secs:
            print(
                f"ratio {first.label} / {r.label} (reported): "
                f"{first.reported_secs / r.reported_secs:.1f}x"
            )


def fmt(v: float | int | None) -> str:
    return "?" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))


def triple(r: GatherResult) -> str:
    return f"{r.counts['new']} / {r.counts['updated']} / {r.counts['unchanged']}"


def statuses(r: GatherResult) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(r.statuses.items())) or "?"


def show_output(r: GatherResult, limit: int = 20) -> None:
    """Echo what the gather printed besides its summary (failures, warnings), abridged."""
    lines = [ln for ln in (r.child.stdout + r.child.stderr).splitlines() if ln.strip()]
    print(f"--- {r.label} gather output ({len(lines)} lines) ---")
    for ln in lines[:limit]:
        print(f"  {ln[:200]}")
    if len(lines) > limit:
        print(f"  ... {len(lines) - limit} more lines")


def article_count(site: Path) -> str:
    try:
        with open(site / "_truth.json", encoding="utf-8") as f:
            return str(json.load(f)["site"]["article_count"])
    except (OSError, ValueError, KeyError):
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=2000, help="articles to generate (2000)")
    ap.add_argument("--site", type=Path, help="an existing fixture directory (skip generation)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = ap.parse_args(argv)

    shm = Path("/dev/shm")
    tmp = Path(tempfile.mkdtemp(prefix="syndicate-bench-", dir=shm if shm.is_dir() else None))
    server: Server | None = None
    try:
        site_secs: float | None = None
        if args.site:
            site = args.site.resolve()
            if not site.is_dir():
                raise BenchError(f"--site {site}: not a directory")
            articles = article_count(site)
        else:
            site = tmp / "site"
            print(f"generating {args.articles} articles into {site} ...", flush=True)
            site_secs = generate_site(site, args.articles).wall
            articles = str(args.articles)
        server = Server(site, tmp / "server.log")
        print(f"serving {site} at {server.base}/ (pid {server.proc.pid})", flush=True)
        proj = tmp / "project"
        make_project(proj, server.base)
        runs = []
        # first: empty store; second: unchanged site, recheck = "all" (the default: a
        # conditional GET of every story); third: recheck = "sitemap" (trust <lastmod>).
        for label in ("first", "second", "sitemap"):
            if label == "sitemap":
                set_recheck(proj, "sitemap")
            print(f"{label} gather ...", flush=True)
            runs.append(gather(label, proj, server))
            print(f"  {runs[-1].child.wall:.2f}s", flush=True)
        for r in runs:
            show_output(r)
        print_report(articles, site_secs, runs)
        return 0
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
