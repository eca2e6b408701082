"""Benchmark the daemon: how late its 1-second schedule fires, and its memory.

Run it from the repository root (syndicate installed, e.g. ``pip install -e .``)::

    python bench/daemon.py                       # 60 s, a 2,000-subscriber send at ~20 s
    python bench/daemon.py --seconds 30 --subscribers 500

What it does:

1. writes a project with ``syndicate init``, stores 12 stories (bench/deliver.py's
   generator, ~88 KB messages), and N active subscribers of a digest "big";
2. schedules: "tick", a digest every 1 s with no subscribers and skip_if_empty = false
   (each firing makes and stores an edition: a real job, not a no-op), and "big", a digest
   whose first slot comes ~20 s after start, to N subscribers through an SMTP sink in a
   process of its own (bench/deliver.py's: it is not the bottleneck);
3. starts ``syndicate run --log-format json`` as a subprocess and, from its log, takes each
   tick's lateness: the ``late_by`` of its ``digest.fired`` event (the time from the slot
   to the job starting, scheduler wake-up and thread hand-off included);
4. reads the daemon's resident memory (VmRSS in /proc) when idle (10 s in, before the big
   send) and after the big send has finished;
5. prints lateness median / p99 / max over all ticks and over the ticks that fired while
   the big send ran, ticks fired vs slots due, and the memory figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deliver import BASE, SinkProcess, fill  # noqa: E402  (bench/deliver.py)

from syndicate.models import Subscriber  # noqa: E402
from syndicate.project.settings import load_config  # noqa: E402
from syndicate.store import open_store  # noqa: E402


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (from /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def events(log: Path) -> list[dict]:
    return [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--big-after", type=int, default=20, help="seconds until the big send")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="syndicate-bench-daemon-"))
    sink = SinkProcess()
    daemon = None
    try:
        project = tmp / "proj"
        subprocess.run(
            [sys.executable, "-m", "syndicate", "init", str(project), "--site-url",
             f"{BASE}/", "--name", "Harbour News"],
            check=True, capture_output=True,
        )  # fmt: skip
        cfg = project / "syndicate.toml"
        cfg.write_text(
            cfg.read_text().replace(
                'url = "maildir:public/outbox"', f'url = "smtp://127.0.0.1:{sink.port}?pool=4"'
            )
        )
        fill(project, 7, 60, 0)
        store = open_store(load_config(project).store_url)
        for i in range(args.subscribers):
            store.save_subscriber(Subscriber(f"reader{i}@example.org", f"R {i}", "active", ["big"]))
        store.close()
        schedules = project / "schedules"
        for old in schedules.glob("*.toml"):
            old.unlink()
        (schedules / "tick.toml").write_text(
            'kind = "digest"\nevery = "1s"\ntitle = "Tick"\nskip_if_empty = false\n'
            'subject = "Tick"\n'
        )
        # "big": an epoch-aligned interval (what every daemon agrees on) chosen so that its
        # one slot in the run comes --big-after seconds from now.
        now = time.time()
        period = args.seconds * 2
        while not args.big_after <= (-now) % period < args.big_after + 3:
            period += 1
        first_big = now + (-now) % period
        (schedules / "big.toml").write_text(
            f'kind = "digest"\nevery = "{period}s"\ntitle = "Big"\nlateness = "1s"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        env["SYNDICATE_SECRET_KEY"] = "bench"
        log = tmp / "daemon.log"
        daemon = subprocess.Popen(
            [sys.executable, "-m", "syndicate", "--project", str(project), "run", "--port", "0",
             "--log-format", "json"],
            stdout=subprocess.DEVNULL, stderr=log.open("w"), env=env,
        )  # fmt: skip
        began = time.monotonic()
        idle_rss = None
        while time.monotonic() - began < args.seconds:
            time.sleep(0.5)
            if daemon.poll() is not None:
                print(log.read_text())
                return 1
            if idle_rss is None and time.monotonic() - began >= 10:
                idle_rss = rss_mb(daemon.pid)
        # Wait for the big send to end (it may run past the minute on a slow machine).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if any(e["event"] == "digest.sent" and e["schedule"] == "big" for e in events(log)):
                break
            time.sleep(0.5)
        after_rss = rss_mb(daemon.pid)
        daemon.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        code = daemon.wait(timeout=60)
        stop_seconds = time.monotonic() - t0

        all_events = events(log)
        ticks = [
            e
            for e in all_events
            if e["event"] == "digest.fired" and e["schedule"] == "tick" and e["why"] == "schedule"
        ]
        late = [e["late_by"] * 1000 for e in ticks]
        big = [e for e in all_events if e.get("schedule") == "big"]
        made = next((e for e in big if e["event"] == "edition.made"), None)
        sent = next((e for e in big if e["event"] == "digest.sent"), None)
        during = []
        if made and sent:
            t_made = datetime.fromisoformat(made["time"])
            t_sent = datetime.fromisoformat(sent["time"])
            during = [
                e["late_by"] * 1000
                for e in ticks
                if t_made <= datetime.fromisoformat(e["time"]) <= t_sent
            ]
        due = int(args.seconds)  # roughly one slot a second while it ran
        print(f"daemon ran {args.seconds}s with a 1-second digest schedule; "
              f"{os.cpu_count()} CPUs; exit {code} {stop_seconds:.1f}s after SIGTERM")  # fmt: skip
        print(f"tick firings: {len(ticks)} of about {due} slots due "
              "(the start-up run not counted)")  # fmt: skip
        if late:
            print(f"lateness, all ticks:        median {statistics.median(late):7.1f} ms   "
                  f"p99 {percentile(late, 0.99):7.1f} ms   max {max(late):7.1f} ms")  # fmt: skip
        if during:
            print(f"lateness, during the send:  median {statistics.median(during):7.1f} ms   "
                  f"p99 {percentile(during, 0.99):7.1f} ms   max {max(during):7.1f} ms   "
                  f"({len(during)} ticks)")  # fmt: skip
        if sent:
            seconds = (
                datetime.fromisoformat(sent["time"]) - datetime.fromisoformat(made["time"])
            ).total_seconds()
            print(f"big send: {sent['sent']:,} sent, {sent['failed']} failed, "
                  f"{sent['deferred']} deferred in {seconds:.1f}s "
                  f"({sent['sent'] / seconds:,.0f} msg/s); first slot was "
                  f"{datetime.fromtimestamp(first_big, UTC):%H:%M:%S} UTC")  # fmt: skip
        else:
            print("big send: not seen in the log")
        print(f"resident memory: idle {idle_rss:.1f} MB, after the "
              f"{args.subscribers:,}-subscriber send {after_rss:.1f} MB")  # fmt: skip
        return 0 if code == 0 and sent else 1
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
