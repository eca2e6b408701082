"""The pipeline as the faces call it, in process: the late-joiner rule that the daemon, `send`
and the demo share, the one hard-bounce rule, and a gather that survives a broken source."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate import people, pipeline
from syndicate.models import Story, Subscriber
from syndicate.project import Project
from syndicate.project.schedules import digest_schedule
from syndicate.project.settings import load_config
from syndicate.project.starter import init_project
from syndicate.run.jobs import Jobs
from syndicate.sources import SOURCES
from syndicate.store import open_store

pytestmark = pytest.mark.fast

BASE = "https://news.example.com"
SLOT = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A starter project (Maildir outbox) with three stories before SLOT and two readers."""
    monkeypatch.setenv("SYNDICATE_SECRET_KEY", "test-key")
    directory = tmp_path / "proj"
    init_project(directory, f"{BASE}/", "UTC", "Harbour News")
    store = open_store(load_config(directory).store_url)
    for i in range(3):
        store.save_story(
            Story(
                url=f"{BASE}/2026/world/story-{i}/",
                title=f"Story {i}",
                published=SLOT - timedelta(hours=5 - i),
                summary=f"Lede {i}.",
                body_text=["Body."],
                body_html="<p>Body.</p>",
            )
        )
    for i in range(2):
        _join(store, i)
    store.close()
    return directory


def _join(store, i: int) -> None:
    store.save_subscriber(Subscriber(f"reader{i}@example.org", f"Reader {i}", "active", ["daily"]))


def _outbox(project: Path) -> int:
    return len(list((project / "public" / "outbox" / "new").iterdir()))


def test_late_joiners_are_added_within_the_lateness_and_wait_for_the_next_edition_after(
    project,
):
    config = load_config(project)
    schedule = digest_schedule(project, "daily")  # lateness: the starter's 2h
    store = open_store(config.store_url)
    try:
        first = pipeline.deliver_digest(config, store, schedule, SLOT, SLOT)
        assert first.created and first.added == 2 and first.outcome().sent == 2
        _join(store, 2)  # confirmed an hour after the edition was made
        again = pipeline.deliver_digest(config, store, schedule, SLOT, SLOT + timedelta(hours=1))
        assert not again.created and again.added == 1 and again.outcome().sent == 1
        assert again.recipients == 3
        _join(store, 3)  # too late: the edition's news is stale by now
        stale = pipeline.deliver_digest(config, store, schedule, SLOT, SLOT + timedelta(hours=3))
        assert stale.added == 0 and stale.report is None and stale.recipients == 3
    finally:
        store.close()
    assert _outbox(project) == 3


def test_the_daemon_resuming_an_edition_follows_the_same_rule(project):
    """A daemon's retry sweep resumes an unfinished edition: late joiners within the
    lateness are added there too (before the redesign the daemon added none, `send` all)."""
    config = load_config(project)
    schedule = digest_schedule(project, "daily")
    store = open_store(config.store_url)
    try:
        made, _ = pipeline.create_edition(config, store, "daily", SLOT)
        store.add_deliveries(made.edition.id, store.subscribers(digest="daily", status="active"))
        _join(store, 2)
        jobs = Jobs(Project.load(project), store, threading.Event())
        jobs.resume(schedule, SLOT + timedelta(minutes=30))
        assert store.delivery_counts(made.edition.id) == {"sent": 3}
        _join(store, 3)
        jobs.resume(schedule, SLOT + timedelta(hours=5))  # nothing unfinished: nothing to do
        assert store.delivery_counts(made.edition.id) == {"sent": 3}
    finally:
        store.close()


def test_an_edition_made_for_an_old_slot_goes_to_everyone_active(project):
    """The rule limits joiners of an existing edition only: an edition made now (an
    editor's `send --slot` of an earlier time) goes to every active subscriber."""
    config = load_config(project)
    schedule = digest_schedule(project, "daily")
    store = open_store(config.store_url)
    try:
        run = pipeline.deliver_digest(config, store, schedule, SLOT, SLOT + timedelta(days=1))
        assert run.created and run.added == 2 and run.outcome().sent == 2
    finally:
        store.close()


def test_a_hard_bounce_suppresses_the_address_and_keeps_an_unsubscribed_readers_choice(project):
    store = open_store(load_config(project).store_url)
    try:
        _join(store, 5)
        people.unsubscribe(store, store.subscriber("reader5@example.org").id, "daily")
        for email in ("reader0@example.org", "reader5@example.org"):
            people.bounced(store, email, "hard-bounce")
        assert store.subscriber("reader0@example.org").status == "bounced"
        assert store.subscriber("reader5@example.org").status == "unsubscribed"
        assert store.suppressed(["reader0@example.org", "reader5@example.org"]) == {
            "reader0@example.org",
            "reader5@example.org",
        }
        assert people.bounced(store, "stranger@example.org", "hard-bounce") is None
        assert store.suppressed(["stranger@example.org"]) == {"stranger@example.org"}
    finally:
        store.close()


class _Broken:
    """A source whose site answers with something it cannot handle at all."""

    def __init__(self, cfg, site, store) -> None:
        pass

    def gather(self, report, progress) -> None:
        raise RuntimeError("the parser fell over")


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, n: int = 1) -> None: ...

    def done(self, n: int = 1) -> None: ...

    def failure(self, line: str) -> None:
        self.lines.append(line)


def test_one_source_failing_is_reported_and_the_others_still_run(project, monkeypatch):
    ran: list[str] = []

    class _Quiet(_Broken):
        def gather(self, report, progress) -> None:
            ran.append("quiet")

    monkeypatch.setitem(SOURCES, "broken-test", _Broken)
    monkeypatch.setitem(SOURCES, "quiet-test", _Quiet)
    config = load_config(project)
    site = config.sources["site"]
    config.sources = {
        "first": dataclasses.replace(site, name="first", kind="broken-test"),
        "second": dataclasses.replace(site, name="second", kind="quiet-test"),
    }
    store = open_store(config.store_url)
    progress = _Lines()
    try:
        report = pipeline.gather(config, store, progress)
        recorded = store.last_gathers()
    finally:
        store.close()
    assert ran == ["quiet"]
    assert report.failed == 1
    assert progress.lines == [
        "source first: RuntimeError: the parser fell over; its other pages skipped"
    ]
    assert recorded and recorded[0]["source"] == "first,second"
