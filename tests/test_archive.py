"""The edition archive (/editions/) through the web app, in process: a store holding sent,
draft, held and unsent editions, a public digest and a private one, the email's "View in
browser" link followed to its page, and the page checked for every personal part."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import httpx
import pytest
from click.testing import CliRunner

from syndicate.cli.main import cli
from syndicate.models import Edition, EditionState, Story, Subscriber
from syndicate.project import Project
from syndicate.project.archive import parse_slot_key, slot_key
from syndicate.project.schedules import Schedule
from syndicate.store import open_store
from syndicate.web.app import create_app

pytestmark = pytest.mark.fast

PUBLIC = "https://news.example.com"
SLOT = "2026-12-01T07:00"  # the starter's daily digest fires at 07:00 (UTC here)


def _cli(project: Path, *args: str):
    result = CliRunner().invoke(cli, ["--project", str(project), *args], env={})
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A starter project with public_url set, one subscriber, a story, and a second digest
    that is not public."""
    proj = tmp_path / "proj"
    made = CliRunner().invoke(cli, ["init", str(proj), "--site-url", f"{PUBLIC}/"])
    assert made.exit_code == 0, made.output
    cfg = proj / "syndicate.toml"
    cfg.write_text(cfg.read_text().replace('public_url = ""', f'public_url = "{PUBLIC}"'))
    (proj / "schedules" / "private.toml").write_text(
        'kind = "digest"\ncron = "0 8 * * *"\ntitle = "Insiders"\npublic = false\n'
    )
    store = open_store(Project.load(proj, env={}).config.store_url)
    store.save_story(
        Story(
            url=f"{PUBLIC}/2026/world/harbour/",
            title="Harbour reopens",
            published=datetime.now(UTC) - timedelta(hours=1),
            summary="The harbour reopened on Monday.",
            body_text=["The harbour reopened on Monday."],
            section="world",
        )
    )
    store.save_subscriber(Subscriber("ada@example.org", "Ada Lovelace", "active", ["daily"]))
    store.save_subscriber(Subscriber("bob@example.org", "Bob Byron", "active", ["private"]))
    store.close()
    return proj


def _get(app, *paths: str, headers: dict | None = None) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            return [await client.get(p, headers=headers or {}) for p in paths]

    return asyncio.run(go())


def _sent_mail(project: Path) -> email.message.EmailMessage:
    """The one message the maildir transport wrote."""
    files = [p for p in (project / "public" / "outbox").rglob("*") if p.is_file()]
    assert len(files) == 1, files
    return email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)


def _stored(project: Path, schedule: str, slot: datetime, state: EditionState, sent: bool):
    """An edition stored directly, its one ledger row sent or left pending."""
    store = open_store(Project.load(project, env={}).config.store_url)
    try:
        edition = Edition(
            schedule,
            slot,
            None,
            slot,
            subject=f"{state} edition {slot:%d %H%M}",
            html=f"<html><body><p>{state} body</p></body></html>",
            state=state,
        )
        recipients = store.subscribers("daily") if state.sendable else None
        stored, _ = store.save_edition(edition, recipients)
        if sent:
            now = datetime.now(UTC)
            for row in store.claim(stored.id, "test", 10, now, timedelta(minutes=5)):
                store.mark_sent(row.id, "<id@x>", now)
        return stored
    finally:
        store.close()


def test_the_email_links_to_its_page_and_the_page_has_no_personal_part(project):
    sent = _cli(project, "send", "daily", "--slot", SLOT, "--yes")
    assert sent.exit_code == 0, sent.output
    message = _sent_mail(project)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    url = f"{PUBLIC}/editions/daily/2026-12-01/"
    assert f'href="{url}"' in html and "View in browser" in html
    assert f"View in browser: {url}" in text
    token = re.search(r"/unsubscribe/([^\s\"<>]+)", text).group(1)

    app = create_app(Project.load(project, env={}))
    (page,) = _get(app, url.removeprefix(PUBLIC))
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Harbour reopens" in page.text and "Hello reader" in page.text
    for personal in ("ada@example.org", "Ada", "Lovelace", token, "/unsubscribe/", "/preferences/"):
        assert personal not in page.text, personal
    assert "__SYNDICATE" not in page.text
    assert "View in browser" not in page.text  # a link to itself would be noise
    # What the template marks as for the inbox only is hidden on the web.
    assert 'class="email-only"' in page.text and ".email-only { display: none" in page.text

    # Conditional GET: the ETag answers 304.
    (again,) = _get(app, url.removeprefix(PUBLIC), headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304


def test_only_sent_editions_of_public_digests_are_listed(project):
    sent = _cli(project, "send", "daily", "--slot", SLOT, "--yes")
    assert sent.exit_code == 0, sent.output
    day = datetime(2026, 12, 1, tzinfo=UTC)
    _stored(project, "daily", day + timedelta(days=1, hours=7), EditionState.DRAFT, False)
    _stored(project, "daily", day + timedelta(days=2, hours=7), EditionState.HELD, False)
    _stored(project, "daily", day + timedelta(days=3, hours=7), EditionState.SKIPPED, False)
    _stored(project, "daily", day + timedelta(days=4, hours=7), EditionState.READY, False)
    _stored(project, "private", day + timedelta(hours=8), EditionState.READY, True)
    app = create_app(Project.load(project, env={}))
    listing, one, private, draft, held, unsent, secret, unknown, bad = _get(
        app,
        "/editions/",
        "/editions/daily/",
        "/editions/private/",
        "/editions/daily/2026-12-02/",
        "/editions/daily/2026-12-03/",
        "/editions/daily/2026-12-05/",
        "/editions/private/2026-12-01/",
        "/editions/daily/2031-01-01/",
        "/editions/daily/yesterday/",
    )
    assert listing.status_code == 200 and one.status_code == 200
    for page in (listing, one):
        links = re.findall(r'href="(/editions/daily/[^"]+/)"', page.text)
        assert links == ["/editions/daily/2026-12-01/"], links
        assert "Daily briefing" in page.text
        for state in ("draft", "held", "skipped", "ready"):
            assert f"{state} edition" not in page.text
    assert "Insiders" not in listing.text
    feeds = re.findall(r'<link rel="alternate" type="application/atom\+xml"[^>]*>', listing.text)
    assert len(feeds) == 1 and 'href="/editions/daily/feed.atom"' in feeds[0]
    for page in (private, draft, held, unsent, secret, unknown, bad):
        assert page.status_code == 404, page.url


def test_listing_pages_and_the_feed(project):
    start = datetime(2026, 10, 1, 7, tzinfo=UTC)
    for day in range(25):
        _stored(project, "daily", start + timedelta(days=day), EditionState.READY, True)
    app = create_app(Project.load(project, env={}))
    first, second, third, feed = _get(
        app, "/editions/", "/editions/?page=2", "/editions/?page=3", "/editions/daily/feed.atom"
    )
    firsts = re.findall(r'href="(/editions/daily/\d[^"]+/)"', first.text)
    seconds = re.findall(r'href="(/editions/daily/\d[^"]+/)"', second.text)
    assert len(firsts) == 20 and len(seconds) == 5
    assert firsts[0] == "/editions/daily/2026-10-25/"  # newest first
    assert seconds[-1] == "/editions/daily/2026-10-01/"
    assert 'href="/editions/?page=2"' in first.text and 'href="/editions/?page=1"' in second.text
    assert third.status_code == 404

    assert feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert len(parsed.entries) == 20
    assert parsed.entries[0].link == f"{PUBLIC}/editions/daily/2026-10-25/"
    (entry,) = _get(app, parsed.entries[0].link.removeprefix(PUBLIC))
    assert entry.status_code == 200 and "ready body" in entry.text


def test_slot_dates_are_unique_for_sub_daily_digests():
    tz = UTC
    daily = Schedule("daily", "digest", cron="0 7 * * *", title="D")
    twice = Schedule("twice", "digest", cron="0 7,19 * * *", title="T")
    hourly = Schedule("hourly", "digest", every="6h", title="H")
    seven = datetime(2026, 12, 3, 7, tzinfo=UTC)
    assert slot_key(daily, seven, tz) == "2026-12-03"
    assert slot_key(daily, seven.replace(minute=30), tz) == "2026-12-03-0730"  # send --slot
    assert slot_key(twice, seven, tz) == "2026-12-03-0700"
    assert slot_key(hourly, seven.replace(hour=6), tz) == "2026-12-03-0600"
    assert parse_slot_key("2026-12-03-0700") == (seven.date(), seven.time())
    assert parse_slot_key("2026-02-30") is None


def test_a_sub_daily_edition_has_its_time_in_the_url_and_other_forms_redirect(project):
    (project / "schedules" / "hourly.toml").write_text(
        'kind = "digest"\nevery = "6h"\ntitle = "Every six hours"\n'
    )
    six = datetime(2026, 12, 1, 6, tzinfo=UTC)
    _stored(project, "hourly", six, EditionState.READY, True)
    _stored(project, "hourly", six + timedelta(hours=6), EditionState.READY, True)
    app = create_app(Project.load(project, env={}))

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
            return [
                await client.get("/editions/hourly/2026-12-01-0600/"),
                await client.get("/editions/hourly/2026-12-01-1200/"),
                await client.head("/editions/hourly/2026-12-01-1200/"),
                await client.get("/editions/hourly/2026-12-01/"),  # two that day: which?
                await client.get("/editions/hourly/2026-12-01-060000/"),
            ]

    six_am, noon, head, ambiguous, long_form = asyncio.run(go())
    assert six_am.status_code == 200
    assert "ready body" in six_am.text and "Tuesday 1 December 2026, 06:00" in six_am.text
    assert noon.status_code == 200 and head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == noon.headers["etag"]
    assert ambiguous.status_code == 404
    assert long_form.status_code == 301
    assert long_form.headers["location"] == "/editions/hourly/2026-12-01-0600/"


def test_sent_editions_in_the_store(store_url):
    """The store's side, on SQLite and PostgreSQL: only sendable editions with a copy
    sent, newest first, paged, within a slot range."""
    store = open_store(store_url)
    try:
        reader = Subscriber("ada@example.org", "Ada", "active", ["d"])
        store.save_subscriber(reader)
        start = datetime(2026, 12, 1, 7, tzinfo=UTC)
        states = [EditionState.READY, EditionState.DRAFT, EditionState.HELD, EditionState.READY]
        for day, state in enumerate(states):
            slot = start + timedelta(days=day)
            edition = Edition("d", slot, None, slot, subject=str(day), state=state)
            stored, _ = store.save_edition(edition, [reader] if state.sendable else None)
            if day != 3:  # the last one is sendable but nothing of it was sent yet
                now = datetime.now(UTC)
                for row in store.claim(stored.id, "t", 10, now, timedelta(minutes=1)):
                    store.mark_sent(row.id, "<x@y>", now)
        store.save_edition(Edition("other", start, None, start, state=EditionState.READY))
        found, total = store.sent_editions(["d"], 10)
        assert [e.subject for e in found] == ["0"] and total == 1
        assert found[0].html == "" and found[0].stories == []
        assert store.sent_editions(["d"], 10, 1) == ([], 1)
        later = store.sent_editions(["d"], 10, 0, start + timedelta(hours=1))
        assert later == ([], 0)
        assert store.sent_editions([], 10) == ([], 0)
    finally:
        store.close()
