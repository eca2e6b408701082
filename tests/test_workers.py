"""Send workers: `syndicate worker` processes claiming from one ledger beside the daemons,
on SQLite and on a real PostgreSQL server, killed for real with SIGKILL mid-send."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from processes import KEY, Daemon, Worker
from sqlalchemy import func, insert, select
from support.cli import run_cli

from syndicate import pipeline
from syndicate.models import Subscriber
from syndicate.project.schedules import digest_schedule
from syndicate.project.settings import load_config
from syndicate.store import open_store
from syndicate.store import schema as s
from syndicate.store.ledger import process_of


def _digest() -> str:
    """A daily digest whose slot was 30 minutes ago (in time still: lateness 2h), so the
    daemons make its edition at start and no other slot comes during a test."""
    slot = datetime.now(UTC) - timedelta(minutes=30)
    return (
        f'kind = "digest"\ncron = "{slot.minute} {slot.hour} * * *"\ntimezone = "UTC"\n'
        'title = "Daily"\nskip_if_empty = false\nsubject = "Daily news"\nlateness = "2h"\n'
    )


def _project(tmp_path: Path, store_url: str, port: int, extra: str = "") -> Path:
    """A project on ``store_url`` mailing the SMTP server on ``port`` (one connection per
    process: a kill then costs at most the one message in flight), one daily digest."""
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", check=0)
    cfg = project / "syndicate.toml"
    text = cfg.read_text().replace(
        'url = "maildir:public/outbox"',
        f'url = "smtp://127.0.0.1:{port}?pool=1"\nretry_base = 0.2\nbatch = 50',
    )
    text = text.replace('url = "sqlite:///syndicate.db"', f'url = "{store_url}"')
    cfg.write_text(text + extra)
    for old in (project / "schedules").glob("*.toml"):
        old.unlink()
    (project / "schedules" / "daily.toml").write_text(_digest())
    return project


def _subscribe(project: Path, n: int) -> None:
    """n active subscribers of the daily digest, in two bulk inserts."""
    now = datetime.now(UTC)
    people = [Subscriber(f"reader{i}@example.org", f"Reader {i}") for i in range(n)]
    store = open_store(load_config(project).store_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(s.subscribers),
                [{"id": p.id, "email": p.email, "name": p.name, "status": "active",
                  "created_at": now, "soft_bounces": 0} for p in people],
            )  # fmt: skip
            conn.execute(
                insert(s.subscriptions),
                [{"subscriber_id": p.id, "digest": "daily"} for p in people],
            )
    finally:
        store.close()


def _queue_edition(project: Path) -> int:
    """The edition of the daily slot with a ledger row per subscriber, as a daemon with
    `send = false` leaves it for the workers."""
    config = load_config(project, env=KEY)
    schedule = digest_schedule(project, "daily")
    store = open_store(config.store_url)
    try:
        slot = schedule.when(config.site.tz).latest(datetime.now(UTC), schedule.max_lateness)
        made, _ = pipeline.create_edition(config, store, "daily", slot)
        store.add_deliveries(made.edition.id, store.subscribers(digest="daily", status="active"))
        return made.edition.id
    finally:
        store.close()


def _ledger(project: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(rows by status, sent rows by process host:pid)."""
    store = open_store(load_config(project).store_url)
    try:
        d = s.deliveries
        with store.engine.connect() as conn:
            by = conn.execute(
                select(d.c.sent_by, func.count()).where(d.c.status == "sent").group_by(d.c.sent_by)
            ).all()
        senders = Counter()
        for claimer, n in by:
            senders[process_of(claimer)] += n
        return store.delivery_counts(), dict(senders)
    finally:
        store.close()


def test_a_worker_sends_an_open_edition_and_status_shows_it(tmp_path, smtp, store_url):
    project = _project(tmp_path, store_url, smtp.port)
    _subscribe(project, 30)
    _queue_edition(project)

    refused = run_cli("worker", "--once", project=project)
    assert refused.returncode == 2 and "SYNDICATE_SECRET_KEY" in refused.stderr
    done = run_cli("worker", "--once", "--log-format", "json", project=project, env=KEY)
    assert done.returncode == 0, done.stderr
    assert '"event": "worker.sent"' in done.stderr and '"sent_now": 30' in done.stderr
    recipients = Counter(r.recipients[0] for r in smtp.received)
    assert len(recipients) == 30 and set(recipients.values()) == {1}
    counts, senders = _ledger(project)
    assert counts == {"sent": 30} and sum(senders.values()) == 30

    again = run_cli("worker", "--once", project=project, env=KEY, check=0)  # nothing left
    assert len(smtp.received) == 30, again.stderr
    status = run_cli("status", project=project, check=0).stdout
    lines = sorted(x for x in status.splitlines() if x.strip().startswith("worker "))
    assert len(lines) == 2 and all("stopped" in x for x in lines), status
    assert sorted(" 30 sent in the last minute" in x for x in lines) == [False, True]
    assert sorted(" 0 sent in the last minute" in x for x in lines) == [False, True]
    assert "throughput:   0.5 messages/s" in status


def test_a_worker_leaves_deferred_messages_for_later_and_retries_them(tmp_path, smtp):
    project = _project(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", smtp.port)
    _subscribe(project, 5)
    smtp.faults.at_data["reader3@example.org"] = ["451 try again later"]
    _queue_edition(project)
    worker = Worker(project, tmp_path / "w.log")
    try:
        deadline = time.monotonic() + 30
        while _ledger(project)[0] != {"sent": 5} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _ledger(project)[0] == {"sent": 5}, worker.log.read_text()
    finally:
        assert worker.stop() == 0
    assert len(smtp.to("reader3@example.org")) == 1
    assert worker.events("worker.stopped")[0]["sent"] == 5


def test_four_workers_two_daemons_5000_subscribers_two_workers_killed(tmp_path, smtp, pg_url):
    """The fleet of the README on one PostgreSQL store: two daemons (redundant, neither
    sends) make the edition; four workers send it; two are SIGKILLed mid-send. Everyone
    gets the edition; at most one message per kill goes out twice (pool=1: one in flight)."""
    project = _project(
        tmp_path, pg_url, smtp.port, "\n[daemon]\nsend = false\n\n[worker]\npoll = 0.2\n"
    )
    _subscribe(project, 5000)
    workers = [Worker(project, tmp_path / f"worker{i}.log") for i in range(4)]
    for w in workers:
        w.wait_for("worker.started")
    daemons = [Daemon(project, tmp_path / f"daemon{i}.log") for i in range(2)]
    try:
        deadline = time.monotonic() + 120
        while len(smtp.received) < 1500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(smtp.received) >= 1500
        killed = workers[:2]
        for w in killed:
            w.proc.send_signal(signal.SIGKILL)
        for w in killed:
            assert w.proc.wait(timeout=10) == -signal.SIGKILL
        at_kill = len(smtp.received)
        assert at_kill < 5000  # killed mid-send, not after it
        while _ledger(project)[0].get("sent") != 5000 and time.monotonic() < deadline:
            time.sleep(0.2)
        counts, senders = _ledger(project)
        assert counts == {"sent": 5000}, counts
    finally:
        stopped = [p.stop() for p in [*workers[2:], *daemons] if p.proc.poll() is None]
    assert stopped == [0, 0, 0, 0]

    # Every subscriber received the edition; duplicates only from the kills.
    recipients = Counter(r.recipients[0] for r in smtp.received)
    assert len(recipients) == 5000
    duplicates = sum(recipients.values()) - 5000
    assert duplicates <= len(killed)
    # One edition for the slot, whichever daemon made it; neither daemon sent anything.
    made = [e for d in daemons for e in d.events("edition.made")]
    assert len(made) == 1
    assert sum(len(d.events("digest.sent")) for d in daemons) == 0
    # The work was shared: each killed worker had sent some before it died, and the
    # survivors carried on past the kill.
    pids = {w.proc.pid: w for w in workers}
    by_pid = {int(name.split(":")[1]): n for name, n in senders.items()}
    assert set(by_pid) <= set(pids)
    assert all(by_pid.get(w.proc.pid, 0) > 0 for w in workers), by_pid
    survivors = sum(by_pid.get(w.proc.pid, 0) for w in workers[2:])
    assert survivors > 5000 - at_kill - len(killed)

    status = run_cli("status", project=project, check=0).stdout
    lines = [x for x in status.splitlines() if x.strip().startswith(("worker ", "daemon "))]
    assert len(lines) == 6, status
    assert sum("stopped" in x for x in lines) == 4  # the two daemons and the two survivors
    assert "messages/s over the last minute" in status


def test_status_calls_a_silent_worker_silent(tmp_path, store_url):
    project = _project(tmp_path, store_url, 25)
    store = open_store(load_config(project).store_url)
    try:
        now = datetime.now(UTC)
        store.beat("far-host:4242", "worker", now - timedelta(hours=1), now - timedelta(minutes=3),
                   "running")  # fmt: skip
        store.beat("far-host:4343", "worker", now - timedelta(hours=2), now - timedelta(hours=1),
                   "running")  # fmt: skip
    finally:
        store.close()
    status = run_cli("status", project=project, check=0).stdout
    assert "far-host:4242" in status and "SILENT for 3 min" in status
    assert "far-host:4343" not in status  # not seen for an hour: gone from the list


@pytest.mark.parametrize("pool", [1, 4])
def test_a_worker_rides_out_a_database_outage(tmp_path, smtp, pg_url, pool):
    """The database goes away for three seconds mid-send (every connection dropped, new
    ones refused: a restart, a failover): the worker says so, waits, and finishes; at most
    the messages in flight (one per connection) go out twice."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    project = _project(tmp_path, pg_url, smtp.port)
    cfg = project / "syndicate.toml"
    cfg.write_text(cfg.read_text().replace("?pool=1", f"?pool={pool}"))
    _subscribe(project, 600)
    _queue_edition(project)
    smtp.faults.delay = 0.004  # a few seconds of sending
    worker = Worker(project, tmp_path / "w.log")
    database = make_url(pg_url).database
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        deadline = time.monotonic() + 90
        while len(smtp.received) < 100 and time.monotonic() < deadline:
            time.sleep(0.02)
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            dropped = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db"
                ),
                {"db": database},
            ).scalar()
            time.sleep(3)
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        assert dropped >= 2  # the claims' connection and the marks'
        smtp.faults.delay = 0
        while _ledger(project)[0] != {"sent": 600} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _ledger(project)[0] == {"sent": 600}, worker.log.read_text()[-3000:]
    finally:
        admin.dispose()
        assert worker.stop() == 0
    assert worker.events("worker.store_error")
    recipients = Counter(r.recipients[0] for r in smtp.received)
    assert len(recipients) == 600
    assert sum(recipients.values()) - 600 <= pool  # at most the messages in flight


def test_a_send_does_not_spin_on_a_due_row_another_sender_holds(tmp_path, smtp, store_url):
    """The only row left is deferred, due, and held by a live sender elsewhere: a send
    returns at once (that row is the other's), it does not claim in a loop."""
    project = _project(tmp_path, store_url, smtp.port)
    _subscribe(project, 5)
    edition_id = _queue_edition(project)
    config = load_config(project, env=KEY)
    store = open_store(config.store_url)
    try:
        now = datetime.now(UTC)
        (held,) = store.claim(edition_id, "far-host:1:1:x", 1, now, timedelta(minutes=10))
        store.mark_deferred(held.id, "451 later", now - timedelta(seconds=1))
        store.claim(edition_id, "far-host:1:1:x", 1, now, timedelta(minutes=10))  # again
        made, _ = pipeline.create_edition(config, store, "daily", datetime.now(UTC))
        claims = []
        original = store.claim
        store.claim = lambda *a, **k: claims.append(1) or original(*a, **k)
        t0 = time.monotonic()
        made.edition.id = edition_id
        report = pipeline.send_edition(config, store, made)
        assert time.monotonic() - t0 < 5 and len(claims) <= 3
        assert report.sent == 4 and len(smtp.received) == 4
    finally:
        store.close()


def test_a_dead_local_senders_batch_is_free_at_once_for_workers(tmp_path, store_url):
    """A worker killed on this machine: its claimed batch shows up in open_editions at
    once (its pid is gone), not after the lease."""
    import subprocess
    import sys

    project = _project(tmp_path, store_url, 25)
    _subscribe(project, 3)
    edition_id = _queue_edition(project)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    from syndicate.store.ledger import HOST, SPACE

    dead = f"{HOST}:{gone.stdout.strip()}:1:{SPACE}"
    store = open_store(load_config(project).store_url)
    try:
        now = datetime.now(UTC)
        assert len(store.claim(edition_id, dead, 10, now, timedelta(minutes=10))) == 3
        assert store.open_editions(now - timedelta(days=1), now) == [edition_id]
        alive = f"{HOST}:{os.getpid()}:1:{SPACE}"  # this process: alive, its claim holds
        assert len(store.claim(edition_id, alive, 10, now, timedelta(minutes=10))) == 3
        assert store.open_editions(now - timedelta(days=1), now) == []
    finally:
        store.close()


def test_a_live_sender_keeps_its_claims_past_the_lease(tmp_path, smtp):
    """A batch that takes longer than the lease (a slow server) is not taken over by a
    sender on another machine while its owner still works on it: the owner renews."""
    import threading

    project = _project(
        tmp_path, f"sqlite:///{tmp_path / 'store.db'}", smtp.port,
    ).parent / "proj"  # fmt: skip
    cfg = project / "syndicate.toml"
    cfg.write_text(cfg.read_text().replace("batch = 50", "batch = 40\nclaim_lease = 1.2"))
    _subscribe(project, 40)
    edition_id = _queue_edition(project)
    smtp.faults.delay = 0.08  # 40 messages, one connection: ~3.2 s, near three leases
    config = load_config(project, env=KEY)
    store = open_store(config.store_url)
    schedule = digest_schedule(project, "daily")
    made, _ = pipeline.create_edition(config, store, "daily", schedule.when(
        config.site.tz).latest(datetime.now(UTC), schedule.max_lateness))  # fmt: skip
    stolen: list[str] = []
    done = threading.Event()

    def far_away_sender() -> None:
        other = open_store(config.store_url)
        while not smtp.received and not done.is_set():  # once the owner holds the batch
            time.sleep(0.01)
        while not done.is_set():
            rows = other.claim(edition_id, "far-host:1:1", 10, datetime.now(UTC),
                               timedelta(seconds=60))  # fmt: skip
            stolen.extend(r.email for r in rows)
            time.sleep(0.1)
        other.close()

    thief = threading.Thread(target=far_away_sender)
    thief.start()
    try:
        report = pipeline.send_edition(config, store, made)
    finally:
        done.set()
        thief.join()
        store.close()
    assert report.sent == 40 and stolen == []
    assert len(smtp.received) == 40
