"""Benchmark send workers: one edition sent by 1, 2 and 4 `syndicate worker` processes on
PostgreSQL, to a local SMTP sink; messages a second, the scaling ratio, and the CPU used.

Run it from the repository root (syndicate installed, PostgreSQL's binaries on the machine,
e.g. Debian's postgresql package)::

    python bench/workers.py                          # 10,000 subscribers; 1, 2, 4 workers
    python bench/workers.py --subscribers 4000 --workers 1,4 --pool 1
    python bench/workers.py --fast-pg                # fsync off, as the tests run it
    python bench/workers.py --server-ms 5            # a server that takes 5 ms per message
    SYNDICATE_BENCH_PG_URL=postgresql+psycopg://u@host/db python bench/workers.py

What it does:

1. starts a throwaway PostgreSQL server (tests/pg_server.py) with PostgreSQL's defaults,
   so every commit is flushed to disk as in production (``--fast-pg``: fsync off), or uses
   the database named by SYNDICATE_BENCH_PG_URL (its tables are dropped first!);
2. starts bench/deliver.py's SMTP sink in a process of its own: a bare asyncio protocol
   that counts messages, bytes and distinct recipients (aiosmtpd itself would be the
   bottleneck, near 270 messages/s); ``--server-ms`` delays each message's 250, as a real
   MTA does while it writes the message to disk (Postfix fsyncs its queue file first);
3. writes a project with ``syndicate init`` on that store, with bench/deliver.py's 12
   generated stories (an ~88 KB message), N subscribers, one edition and its N ledger
   rows, made as a daemon with ``[daemon] send = false`` leaves them;
4. for each worker count W: starts W ``syndicate worker`` processes and waits until each
   says ``worker.started`` (start-up is not measured), then sets the edition's ledger
   back to pending and times until the sink has all N messages: messages a second, and the
   CPU each party used over the run (workers, sink, PostgreSQL's processes, the machine);
   then SIGTERM, and a check that every row is sent and every subscriber got one message;
5. prints the ratio W workers / 1 worker (target: 4 workers >= 1.6x one worker), for each
   pool size (``--pool 1,4``: one SMTP connection per worker, as for the strict crash
   guarantee, and the default four).

On a 2-core machine the workers, the sink and the database share the two cores: the CPU
columns show where they go, and the machine column how close to saturation each run is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from syndicate.digest.make import create_edition
from syndicate.models import Subscriber
from syndicate.project.schedules import digest_schedule
from syndicate.project.settings import load_config
from syndicate.store import open_store
from syndicate.store import schema as s

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from deliver import SinkProcess, fill, reset_ledger  # noqa: E402  (bench/deliver.py)
from digest import NOW  # noqa: E402  (the stories' clock, bench/digest.py)

TARGET = 1.6
TICK = os.sysconf("SC_CLK_TCK")


# -- CPU accounting from /proc ----------------------------------------------------------------
def _proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds a process used (with its reaped children's, if asked); 0 when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def _postgres_cpu() -> float:
    """CPU seconds of every live PostgreSQL process, plus what the postmaster's reaped
    children (backends of closed connections) used."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm == "postgres":
            total += _proc_cpu(int(entry.name), children=True)
    return total


def _machine_busy() -> tuple[float, float]:
    """(busy CPU seconds, total CPU seconds) of the whole machine so far."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


# -- the setup ------------------------------------------------------------------------------
def _store_url(args, work: Path) -> tuple[str, callable]:
    url = os.environ.get("SYNDICATE_BENCH_PG_URL")
    if url:
        engine = create_engine(url)
        s.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
        return url, lambda: None
    from pg_server import start, stop

    # Its own directory, not under ``work``: mkdtemp's are private, and as root the server
    # runs as the postgres user, who must reach it.
    directory = Path(tempfile.mkdtemp(prefix="syndicate-bench-pg-"))
    admin = start(directory, durable=not args.fast_pg)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE bench"))
    engine.dispose()
    return admin.rsplit("/", 1)[0] + "/bench", lambda: stop(directory)


def _project(work: Path, store_url: str, sink_port: int, pool: int, batch: int) -> Path:
    project = work / "proj"
    subprocess.run(
        [sys.executable, "-m", "syndicate", "init", str(project), "--site-url",
         "https://news.example.com/", "--name", "Harbour News"],
        check=True, capture_output=True,
    )  # fmt: skip
    cfg = project / "syndicate.toml"
    cfg.write_text(
        cfg.read_text()
        .replace('url = "sqlite:///syndicate.db"', f'url = "{store_url}"')
        .replace(
            'url = "maildir:public/outbox"',
            f'url = "smtp://127.0.0.1:{sink_port}?pool={pool}"\nbatch = {batch}\n'
            'sender = "Harbour News <news@news.example.com>"',
        )
        + "\n[daemon]\nsend = false\n\n[worker]\npoll = 0.05\n"
    )
    return project


def _edition(project: Path, subscribers: int) -> tuple[int, int]:
    """N subscribers (bulk insert), one edition, N ledger rows: (edition id, message size)."""
    config = load_config(project)
    store = open_store(config.store_url)
    now = datetime.now(UTC)
    people = [Subscriber(f"reader{i}@example.org", f"Reader {i}") for i in range(subscribers)]
    with store.engine.begin() as conn:
        conn.execute(
            insert(s.subscribers),
            [{"id": p.id, "email": p.email, "name": p.name, "status": "active",
              "created_at": now, "soft_bounces": 0} for p in people],
        )  # fmt: skip
        conn.execute(
            insert(s.subscriptions), [{"subscriber_id": p.id, "digest": "daily"} for p in people]
        )
    schedule = digest_schedule(project, "daily")
    made, _ = create_edition(config, store, schedule, NOW, NOW)
    store.add_deliveries(made.edition.id, store.subscribers(digest="daily", status="active"))
    # Parked as sent until a run sets them pending, so no worker starts early.
    with store.engine.begin() as conn:
        conn.execute(s.deliveries.update().values(status="sent"))
    size = len(made.message.compose(Subscriber("reader0@example.org", "Reader 0")))
    store.close()
    return made.edition.id, size


class _Workers:
    """W `syndicate worker` processes, started and ready."""

    def __init__(self, project: Path, count: int, logs: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        env["SYNDICATE_SECRET_KEY"] = "bench-key"
        self.logs = [logs / f"worker{count}-{i}.log" for i in range(count)]
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "syndicate",
                    "--project",
                    str(project),
                    "worker",
                    "--log-format",
                    "json",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log.open("w"),
                env=env,
            )  # fmt: skip
            for log in self.logs
        ]
        deadline = time.monotonic() + 60
        while not all("worker.started" in log.read_text() for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise SystemExit("a worker did not start:\n" + self._tails())
            time.sleep(0.05)

    def cpu(self) -> float:
        return sum(_proc_cpu(p.pid) for p in self.procs)

    def stop(self) -> list[int]:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        return [p.wait(timeout=60) for p in self.procs]

    def sent(self) -> list[int]:
        """Messages each worker says it sent (its worker.stopped line)."""
        out = []
        for log in self.logs:
            lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
            out += [e["sent"] for e in lines if e["event"] == "worker.stopped"]
        return out

    def _tails(self) -> str:
        return "\n".join(log.read_text()[-2000:] for log in self.logs)


def _run(project, store, edition_id, sink, count, subscribers, logs) -> dict:
    workers = _Workers(project, count, logs)
    sink.reset()
    sink_cpu0 = sink.stats()[3]
    workers_cpu0, pg_cpu0, (busy0, total0) = workers.cpu(), _postgres_cpu(), _machine_busy()
    t0 = time.perf_counter()
    reset_ledger(store, edition_id)  # every row pending: the workers find it at their next look
    deadline = time.monotonic() + 600
    while (got := sink.stats())[0] < subscribers and time.monotonic() < deadline:
        time.sleep(0.05)  # each look is an SMTP session with the sink: not too often
    wall = time.perf_counter() - t0
    workers_cpu, pg_cpu, (busy, total) = workers.cpu(), _postgres_cpu(), _machine_busy()
    codes = workers.stop()
    counts = store.delivery_counts(edition_id)
    ok = got[0] == got[2] == subscribers and counts == {"sent": subscribers}
    ok = ok and codes == [0] * count
    if not ok:
        print(f"  CHECK FAILED: sink {got[:3]}, ledger {counts}, exit codes {codes}")
    return {
        "workers": count,
        "messages": got[0],
        "bytes": got[1],
        "wall": wall,
        "rate": got[0] / wall,
        "cpu_workers": workers_cpu - workers_cpu0,
        "cpu_sink": got[3] - sink_cpu0,
        "cpu_pg": pg_cpu - pg_cpu0,
        "machine": (busy - busy0) / (total - total0) if total > total0 else 0.0,
        "split": workers.sent(),
        "ok": ok,
    }


def _set_pool(project: Path, pool: int) -> None:
    cfg = project / "syndicate.toml"
    cfg.write_text(re.sub(r"\?pool=\d+", f"?pool={pool}", cfg.read_text()))


def _series(project, store, edition_id, sink, pool, counts, args, work) -> bool:
    """Runs with each worker count at one pool size; prints them and the ratio."""
    print(
        f"\npool {pool} per worker\n{'workers':>7} {'msgs/s':>8} {'wall s':>7} {'MB/s':>6} "
        f"{'ratio':>6}   CPU (cores): {'workers':>7} {'sink':>5} {'pg':>5}  machine busy   "
        "per-worker split"
    )
    results = []
    for count in counts:
        r = _run(project, store, edition_id, sink, count, args.subscribers, work)
        results.append(r)
        base = results[0]["rate"]
        print(
            f"{count:>7} {r['rate']:>8,.0f} {r['wall']:>7.2f} "
            f"{r['bytes'] / r['wall'] / 1e6:>6.1f} {r['rate'] / base:>5.2f}x   "
            f"{'':>12}{r['cpu_workers'] / r['wall']:>7.2f} {r['cpu_sink'] / r['wall']:>5.2f} "
            f"{r['cpu_pg'] / r['wall']:>5.2f}  {r['machine']:>11.0%}   "
            f"{'/'.join(str(n) for n in r['split'])}{'' if r['ok'] else '  CHECK FAILED'}"
        )
    by = {r["workers"]: r for r in results}
    if 1 in by and max(by) > 1:
        top = max(by)
        ratio = by[top]["rate"] / by[1]["rate"]
        verdict = "meets" if ratio >= TARGET else "BELOW"
        print(
            f"scaling, pool {pool}: {top} workers / 1 worker = {ratio:.2f}x "
            f"({verdict} the {TARGET}x target)"
        )
    return all(r["ok"] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument(
        "--pool",
        default="1,4",
        help="SMTP connections per worker, comma-separated: each "
        "is a series of runs (1: the strict crash guarantee; 4: the default)",
    )
    parser.add_argument("--batch", type=int, default=100, help="[mail] batch")
    parser.add_argument("--fast-pg", action="store_true", help="fsync off (as the tests)")
    parser.add_argument(
        "--server-ms", type=float, default=0.0,
        help="the sink answers each message this much later, as a real server that writes "
        "its queue file to disk first, or one across a network (default: at once)",
    )  # fmt: skip
    args = parser.parse_args()
    counts = [int(x) for x in args.workers.split(",") if x]
    pools = [int(x) for x in args.pool.split(",") if x]

    work = Path(tempfile.mkdtemp(prefix="syndicate-bench-workers-"))
    sink = SinkProcess(args.server_ms / 1000)
    store_url, stop_pg = _store_url(args, work)
    ok = True
    try:
        project = _project(work, store_url, sink.port, pools[0], args.batch)
        fill(project, seed=7, lede_words=60, also_read=0)
        edition_id, size = _edition(project, args.subscribers)
        store = open_store(load_config(project).store_url)
        durability = "defaults: fsync on, synchronous_commit on"
        if os.environ.get("SYNDICATE_BENCH_PG_URL"):
            durability = "SYNDICATE_BENCH_PG_URL"
        elif args.fast_pg:
            durability = "fsync off"
        print(
            f"send workers: {args.subscribers:,} subscribers, one {size / 1000:.1f} KB message "
            f"each, batch {args.batch}; PostgreSQL ({durability}); the sink answers "
            f"{f'{args.server_ms:g} ms after each message' if args.server_ms else 'at once'}; "
            f"{os.cpu_count()} CPUs"
        )
        for pool in pools:
            _set_pool(project, pool)
            ok &= _series(project, store, edition_id, sink, pool, counts, args, work)
        store.close()
        if not ok:
            sys.exit(1)
    finally:
        sink.stop()
        stop_pg()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
