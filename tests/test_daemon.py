"""The daemon as an operator runs it: a real `syndicate run` subprocess with second-level
schedules against the fixture site and an aiosmtpd server; SIGTERM; restart; two daemons
on one SQLite store."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from processes import KEY, Daemon
from smtp_server import SMTPServer
from support.cli import run_cli
from support.projects import site_project

from syndicate.models import Image, Story, Subscriber
from syndicate.project.settings import load_config
from syndicate.store import open_store
from syndicate.store import schema as s


def _configure(project: Path, smtp: SMTPServer, digest: str, gather: bool = True) -> None:
    cfg = project / "syndicate.toml"
    cfg.write_text(
        cfg.read_text().replace(
            'url = "maildir:public/outbox"',
            f'url = "smtp://127.0.0.1:{smtp.port}?pool=2"\nretry_base = 0.2',
        )
    )
    schedules = project / "schedules"
    for old in schedules.glob("*.toml"):
        old.unlink()
    if gather:
        (schedules / "gather.toml").write_text('kind = "gather"\nevery = "2s"\n')
    (schedules / "daily.toml").write_text(digest)


def _subscribe(project: Path, n: int) -> None:
    store = open_store(load_config(project).store_url)
    for i in range(n):
        store.save_subscriber(Subscriber(f"reader{i}@example.org", f"R {i}", "active", ["daily"]))
    store.close()


def _sent_rows(project: Path) -> list[dict]:
    store = open_store(load_config(project).store_url)
    try:
        with store.engine.connect() as conn:
            d = s.deliveries
            rows = conn.execute(d.select().where(d.c.status == "sent")).mappings()
            return [dict(r) for r in rows]
    finally:
        store.close()


def _message_ids(smtp: SMTPServer) -> list[str]:
    return [r.message["Message-ID"] for r in smtp.received]


def test_daemon_gathers_builds_sends_stops_and_does_not_resend(tmp_path, site_a, smtp):
    base, _ = site_a
    project = site_project(tmp_path, base)
    _configure(project, smtp, 'kind = "digest"\nevery = "3s"\ntitle = "Daily"\n')
    _subscribe(project, 3)

    daemon = Daemon(project, tmp_path / "run1.log")
    started = daemon.wait_for("daemon.started")[0]
    assert httpx.get(f"{started['web']}/healthz", timeout=5).status_code == 200
    daemon.wait_for("gather.done")
    daemon.wait_for("feeds.built")
    assert (project / "public" / "feeds" / "all.rss").is_file()
    daemon.wait_for("digest.sent")
    # The start-up digest waited for the start-up gather: its edition carries stories.
    # No digest fired (at start-up or at its own slots) before the start-up gather was done.
    names = [e["event"] for e in daemon.events()]
    assert names.index("gather.done") < names.index("digest.fired"), names
    assert daemon.events("edition.made")[0]["stories"] > 0
    # A new story arrives (as a gather would store it): the next slot carries it.
    store = open_store(load_config(project).store_url)
    store.save_story(
        Story(
            url=f"{base}/2026/late-news/",
            title="Late news from the harbour",
            published=datetime.now(UTC),
            section="world",
            section_name="World",
            image=Image(f"{base}/img/late.jpg", ""),
            summary="Just in.",
            body_text=["Just in."],
            body_html="<p>Just in.</p>",
        )
    )
    store.close()
    # The next edition made after it leads with it (a backlog of the first gather's stories
    # may fill the slots in between: the newest story still leads).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        "Late news from the harbour" in r.message["Subject"] for r in list(smtp.received)
    ):
        time.sleep(0.1)
    daemon.wait_for("digest.sent", count=2)
    metrics = httpx.get(f"{started['web']}/metrics", timeout=5).text
    sent = re.search(r'syndicate_messages\{status="sent"\} (\d+)', metrics)
    assert sent and int(sent[1]) >= 6 and int(sent[1]) % 3 == 0, metrics
    t0 = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - t0 < 10
    assert daemon.events("daemon.stopped")
    # Two editions at least; on a slow machine a third slot may fire before the stop (the
    # fixture site changes some pages between gathers, so it may carry an updated story).
    made = len(daemon.events("edition.made"))
    assert made >= 2
    assert len(smtp.received) == 3 * made
    assert Counter(r.recipients[0] for r in smtp.received) == {
        f"reader{i}@example.org": made for i in range(3)
    }
    assert any("Late news from the harbour" in r.message["Subject"] for r in smtp.received)

    # Restarted: it gathers again and sends nothing twice (a new edition only for a story
    # that changed meanwhile, to everyone once).
    again = Daemon(project, tmp_path / "run2.log")
    again.wait_for("gather.done", count=2)
    time.sleep(3.5)  # past another digest slot
    assert again.stop() == 0
    made += len(again.events("edition.made"))
    assert len(smtp.received) == 3 * made
    ids = _message_ids(smtp)
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == sorted(r["message_id"] for r in _sent_rows(project))

    status = run_cli("status", project=project, check=0).stdout
    assert "last gather:" in status and "every 3s" in status
    editions = [x for x in status.splitlines() if " slot " in x]
    assert len(editions) == min(made, 5)  # the last five are shown
    assert all("3 sent" in x for x in editions)
    assert "subscribers:  3 (3 active)" in status


def test_two_daemons_on_one_store_make_each_slot_once_and_send_each_message_once(
    tmp_path, smtp, store_url
):
    """On SQLite, and on PostgreSQL as redundant daemons on two machines would share it."""
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", check=0)
    cfg = project / "syndicate.toml"
    cfg.write_text(cfg.read_text().replace('"sqlite:///syndicate.db"', f'"{store_url}"'))
    _configure(
        project,
        smtp,
        'kind = "digest"\nevery = "2s"\ntitle = "Daily"\nskip_if_empty = false\n'
        'subject = "Daily {{ edition.date }}"\n',
        gather=False,
    )
    _subscribe(project, 5)
    first = Daemon(project, tmp_path / "a.log")
    second = Daemon(project, tmp_path / "b.log")
    first.wait_for("daemon.started")
    second.wait_for("daemon.started")
    time.sleep(9)
    assert first.stop() == 0 and second.stop() == 0

    made = first.events("edition.made") + second.events("edition.made")
    slots = [e["slot"] for e in made]
    assert len(slots) >= 4, (first.log.read_text(), second.log.read_text())
    assert len(slots) == len(set(slots))  # one edition per slot, whoever made it
    # Both daemons fired for the slots (the database, not luck, kept them apart).
    fired = [{e["slot"] for e in d.events("digest.fired")} for d in (first, second)]
    assert len(fired[0] & fired[1]) >= 3
    # A stop may land mid-send: that edition's rest is left for the next run (here a send
    # worker), never sent twice.
    run_cli("worker", "--once", project=project, env=KEY, check=0)
    rows = _sent_rows(project)
    per_edition = Counter(r["edition_id"] for r in rows)
    assert set(per_edition.values()) == {5}  # every subscriber, every edition
    ids = _message_ids(smtp)
    assert len(ids) == len(set(ids)) == len(rows)  # no message sent twice
    assert sorted(ids) == sorted(r["message_id"] for r in rows)


def test_the_daemon_refuses_to_start_without_a_secret_key_or_with_bad_schedules(tmp_path):
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", check=0)
    proc = run_cli("run", "--port", "0", project=project)
    assert proc.returncode == 2 and "SYNDICATE_SECRET_KEY" in proc.stderr
    (project / "schedules" / "daily.toml").write_text(
        'kind = "digest"\ncron = "0 7 * * 9"\ntitle = "Daily"\n'
    )
    proc = run_cli("run", "--port", "0", project=project, env=KEY)
    assert proc.returncode == 2
    assert "daily.toml" in proc.stderr and "day-of-week '9'" in proc.stderr


def test_sighup_reloads_schedules(tmp_path, smtp):
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", check=0)
    _configure(project, smtp, 'kind = "digest"\ncron = "0 7 * * *"\ntitle = "Daily"\n', False)
    daemon = Daemon(project, tmp_path / "hup.log")
    daemon.wait_for("daemon.started")
    (project / "schedules" / "weekly.toml").write_text(
        'kind = "digest"\ncron = "0 8 * * 1"\ntitle = "Weekly"\n'
    )
    (project / "schedules" / "daily.toml").unlink()
    daemon.proc.send_signal(signal.SIGHUP)
    done = daemon.wait_for("reload.done")[0]
    assert done["schedules"] == "weekly"
    assert [e["schedule"] for e in daemon.events("schedule.removed")] == ["daily"]
    (project / "schedules" / "weekly.toml").write_text('kind = "digest"\ncron = "nope"\n')
    daemon.proc.send_signal(signal.SIGHUP)
    failed = daemon.wait_for("reload.failed")[0]
    assert "weekly.toml" in failed["error"]
    assert daemon.stop() == 0


def test_a_late_start_within_lateness_sends_the_missed_edition(tmp_path, smtp):
    """Started 1 minute after a cron slot (the daemon was down at that time): the start-up
    run sends it; with lateness shorter than that, it is skipped and logged."""
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", check=0)
    slot = (datetime.now(UTC) - timedelta(minutes=1)).replace(second=0, microsecond=0)
    cron = f"{slot.minute} {slot.hour} * * *"
    digest = (
        f'kind = "digest"\ncron = "{cron}"\ntimezone = "UTC"\ntitle = "Daily"\n'
        'skip_if_empty = false\nsubject = "Daily"\nlateness = "LATE"\n'
    )
    _configure(project, smtp, digest.replace("LATE", "10s"), gather=False)
    _subscribe(project, 2)
    # A brand-new digest missed nothing: no warning about a slot it never had.
    daemon = Daemon(project, tmp_path / "late0.log")
    daemon.wait_for("digest.not_due")
    assert daemon.stop() == 0 and not daemon.events("digest.skipped")
    yesterday = (slot - timedelta(days=1)).isoformat()
    run_cli("send", "daily", "-y", "--slot", yesterday, project=project, check=0)
    smtp.received.clear()
    daemon = Daemon(project, tmp_path / "late1.log")
    skipped = daemon.wait_for("digest.skipped")[0]
    assert skipped["slot"] == slot.isoformat()
    assert daemon.stop() == 0 and not smtp.received
    (project / "schedules" / "daily.toml").write_text(digest.replace("LATE", "2h"))
    daemon = Daemon(project, tmp_path / "late2.log")
    sent = daemon.wait_for("digest.sent")[0]
    assert sent["slot"] == slot.isoformat() and sent["sent"] == 2
    assert daemon.stop() == 0
    assert len(smtp.received) == 2


def test_sigterm_mid_send_finishes_the_message_in_flight_and_a_restart_sends_the_rest(
    tmp_path, smtp
):
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", check=0)
    _configure(
        project,
        smtp,
        'kind = "digest"\ncron = "0 7 * * *"\ntitle = "Daily"\nskip_if_empty = false\n'
        'subject = "Daily"\nlateness = "1d"\n',
        gather=False,
    )
    _subscribe(project, 150)
    smtp.faults.delay = 0.01  # a slow server: the send takes a few seconds
    daemon = Daemon(project, tmp_path / "term1.log")
    deadline = time.monotonic() + 30
    while len(smtp.received) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    t0 = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - t0 < 5
    first = len(smtp.received)
    assert 20 <= first < 150
    assert len(_sent_rows(project)) == first  # every accepted message is marked; none lost
    smtp.faults.delay = 0
    again = Daemon(project, tmp_path / "term2.log")
    resumed = again.wait_for("digest.sent")[0]
    assert resumed["sent"] == 150
    assert again.stop() == 0
    recipients = Counter(r.recipients[0] for r in smtp.received)
    assert len(recipients) == 150 and set(recipients.values()) == {1}
