"""Slots and lateness: cron times across daylight-saving changes, the daemon's digest job
under a frozen clock (time-machine): late within `lateness`, skipped beyond it, coalesced
after downtime, and never two editions of one slot."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from support.cli import run_cli

from syndicate.models import Image, Story, Subscriber
from syndicate.project import Project
from syndicate.project.schedules import load_schedules
from syndicate.project.settings import load_config
from syndicate.project.timing import When
from syndicate.run.jobs import Jobs
from syndicate.store import open_store

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def _local_days(slots, tz) -> list[date]:
    return [s.astimezone(tz).date() for s in slots]


@pytest.mark.parametrize(
    ("tz", "spring", "autumn"),
    [
        (LONDON, date(2026, 3, 29), date(2026, 10, 25)),
        (NEW_YORK, date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
@pytest.mark.parametrize("cron", ["0 7 * * *", "30 1 * * *", "30 2 * * *", "0 0 * * *"])
def test_a_daily_cron_fires_once_a_day_across_dst(tz, spring, autumn, cron):
    when = When(cron=cron, tz=tz)
    for change in (spring, autumn):
        start = datetime.combine(change - timedelta(days=4), datetime.min.time(), tz).replace(
            hour=12
        )
        slots = list(when.slots(start.astimezone(UTC), (start + timedelta(days=7)).astimezone(UTC)))
        days = _local_days(slots, tz)
        assert days == [change - timedelta(days=3) + timedelta(days=i) for i in range(7)], (
            cron,
            [s.astimezone(tz).isoformat() for s in slots],
        )
        hour, minute = int(cron.split()[1]), int(cron.split()[0])
        for slot in slots:
            local = slot.astimezone(tz)
            # The set time, except on the spring day when it does not exist: an hour on.
            assert (local.hour, local.minute) in ((hour, minute), (hour + 1, minute)), local
            if local.date() != change:
                assert (local.hour, local.minute) == (hour, minute)


def test_a_wildcard_hour_runs_through_the_repeated_hour():
    when = When(cron="*/30 * * * *", tz=LONDON)
    start = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # 00:00 BST on the 25th
    slots = list(when.slots(start, start + timedelta(hours=4)))
    assert len(slots) == 8  # every half hour of real time, the repeated hour included
    assert all(b - a == timedelta(minutes=30) for a, b in zip(slots, slots[1:], strict=False))


def test_crontab_weekdays_mean_what_crontab_says():
    when = When(cron="0 7 * * 1-5", tz=LONDON)
    start = datetime(2026, 11, 22, tzinfo=UTC)  # a Sunday
    days = [
        s.astimezone(LONDON).strftime("%a") for s in when.slots(start, start + timedelta(days=7))
    ]
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    sunday = When(cron="0 7 * * 0", tz=LONDON)
    assert {s.strftime("%a") for s in sunday.slots(start, start + timedelta(days=21))} == {"Sun"}


def test_apscheduler_fires_at_our_slots():
    for when in (When(every=4), When(cron="15 7 * * *", tz=NEW_YORK)):
        trigger = when.trigger()
        now = datetime(2026, 6, 1, 12, 0, 1, tzinfo=UTC)
        fired, previous = [], None
        for _ in range(5):
            previous = trigger.get_next_fire_time(previous, previous or now)
            fired.append(previous.astimezone(UTC))
        assert fired == list(when.slots(now, fired[-1]))


# -- the digest job under a frozen clock ----------------------------------------------------

BASE = "https://news.example.com"


@pytest.fixture
def project(tmp_path) -> Path:
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", f"{BASE}/", "--name", "Harbour News", check=0)
    (project / "schedules" / "daily.toml").write_text(
        'kind = "digest"\ncron = "0 7 * * *"\ntimezone = "Europe/London"\n'
        'title = "Daily"\nlateness = "2h"\n'
    )
    (project / "schedules" / "minutely.toml").write_text(
        'kind = "digest"\nevery = "1m"\ntitle = "Minutely"\nskip_if_empty = false\n'
    )
    (project / ".secret-key").write_text("test-key\n")
    store = open_store(load_config(project).store_url)
    for digest in ("daily", "minutely"):
        for i in range(2):
            store.save_subscriber(
                Subscriber(f"{digest}{i}@example.org", f"Reader {i}", "active", [digest])
            )
    store.close()
    return project


def _add_story(project: Path, i: int, published: datetime) -> None:
    store = open_store(load_config(project).store_url)
    store.save_story(
        Story(
            url=f"{BASE}/2026/world/story-{i}/",
            title=f"Story {i}",
            published=published,
            section="world",
            section_name="World",
            image=Image(f"{BASE}/img/{i}.jpg", "A caption"),
            summary=f"Lede {i}.",
            body_text=["Body."],
            body_html="<p>Body.</p>",
        )
    )
    store.close()


def _fire(project: Path, name: str, at: datetime) -> None:
    """One firing of a schedule's job at a frozen moment (the clock still ticks)."""
    loaded = Project.load(project, env={})
    store = open_store(loaded.config.store_url)
    try:
        with time_machine.travel(at, tick=True):
            Jobs(loaded, store, threading.Event()).run(name)
    finally:
        store.close()


def _editions(project: Path, name: str) -> list[tuple[datetime, dict]]:
    store = open_store(load_config(project).store_url)
    try:
        return sorted(
            (e["slot"], e["counts"]) for e in store.recent_editions(100) if e["schedule"] == name
        )
    finally:
        store.close()


def test_a_missed_slot_goes_out_late_within_lateness_and_is_skipped_beyond(project, caplog):
    caplog.set_level(logging.INFO)
    day1 = datetime(2026, 11, 2, 7, 0, tzinfo=LONDON)
    _add_story(project, 1, day1 - timedelta(hours=3))
    _fire(project, "daily", day1 + timedelta(minutes=90))  # down at 07:00, up at 08:30
    [(slot, counts)] = _editions(project, "daily")
    assert slot == day1.astimezone(UTC) and counts == {"sent": 2}

    _add_story(project, 2, day1 + timedelta(hours=20))
    day2 = day1 + timedelta(days=1)
    _fire(project, "daily", day2 + timedelta(hours=2, minutes=30))  # 09:30: too late
    assert len(_editions(project, "daily")) == 1
    skipped = [r for r in caplog.records if r.getMessage() == "digest.skipped"]
    assert skipped and skipped[0].fields["slot"] == day2.astimezone(UTC).isoformat()

    day3 = day2 + timedelta(days=1)
    _fire(project, "daily", day3 + timedelta(seconds=1))
    slots = [slot for slot, _ in _editions(project, "daily")]
    assert slots == [day1.astimezone(UTC), day3.astimezone(UTC)]
    # Story 2 was not lost with the skipped slot: day 3's edition carries it.
    store = open_store(load_config(project).store_url)
    try:
        edition = store.edition("daily", day3.astimezone(UTC))
        assert [s.story.title for s in edition.stories] == ["Story 2"]
    finally:
        store.close()


def test_downtime_coalesces_into_one_edition_and_a_slot_is_made_once(project):
    start = datetime(2026, 11, 2, 12, 0, 20, tzinfo=UTC)
    _add_story(project, 1, start - timedelta(hours=1))
    _fire(project, "minutely", start)
    _fire(project, "minutely", start + timedelta(seconds=20))  # the same slot again
    assert [slot for slot, _ in _editions(project, "minutely")] == [start.replace(second=0)]
    # Down for ten minutes: the first firing after makes one edition, for the newest slot.
    back = start + timedelta(minutes=10, seconds=5)
    _fire(project, "minutely", back)
    slots = [slot for slot, _ in _editions(project, "minutely")]
    assert slots == [start.replace(second=0), back.replace(second=0)]
    assert all(counts == {"sent": 2} for _, counts in _editions(project, "minutely"))


def test_bad_schedules_name_the_file_and_the_field(project):
    (project / "schedules" / "broken.toml").write_text(
        'kind = "digest"\ncron = "0 25 * * *"\ntitle = "X"\n'
    )
    (project / "schedules" / "often.toml").write_text('kind = "gather"\nevery = "soon"\n')
    with pytest.raises(Exception) as raised:
        load_schedules(project)
    text = str(raised.value)
    assert "broken.toml" in text and "field hour '25'" in text
    assert "often.toml" in text and "'every'" in text
    proc = run_cli("status", project=project)
    assert proc.returncode == 0  # status still reports; the daemon would refuse (exit 2)
    assert "broken.toml" in proc.stdout


def test_the_trigger_does_not_skip_the_day_after_a_spring_change():
    # APScheduler 3's CronTrigger, asked just after midnight before New York's 02:00
    # change, next fires on the 10th: the 9th is skipped. Ours does not.
    trigger = When(cron="0 0 * * *", tz=NEW_YORK).trigger()
    after = datetime(2026, 3, 8, 5, 0, 59, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)


def test_both_day_fields_restricted_means_either():
    when = When(cron="0 7 1 * mon", tz=LONDON)  # the 1st of the month, and every Monday
    start = datetime(2026, 11, 28, tzinfo=UTC)
    days = [s.astimezone(LONDON).date() for s in when.slots(start, start + timedelta(days=10))]
    assert days == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 7)]
