"""The Store contract: every test runs on SQLite on disk and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from syndicate.models import CrossLink, FetchState, GatherReport, Image, Story
from syndicate.store import open_store

IST = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def story(slug: str, title: str, day: int | None, links: list[CrossLink] | None = None) -> Story:
    return Story(
        url=f"https://news.example/{slug}/",
        title=title,
        published=datetime(2024, 5, day, 9, 30, tzinfo=IST) if day else None,
        section="world",
        section_name="World",
        tags=["a", "b"],
        image=Image("https://news.example/i.jpg", "A caption"),
        summary="Lede.",
        body_text=["One.", "Two."],
        body_html="<p>One.</p><p>Two.</p>",
        also_read=links or [],
    )


def test_sqlite_store_uses_wal(store):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_new_unchanged_updated(store):
    s = story("a", "Alpha", 1)
    assert store.save_story(s) == "new"
    assert store.save_story(story("a", "Alpha", 1)) == "unchanged"
    s.body_text.append("Three.")
    s.body_html += "<p>Three.</p>"
    assert store.save_story(s) == "updated"
    [back] = store.stories()
    assert back.body_text == ["One.", "Two.", "Three."]
    assert back.published == datetime(2024, 5, 1, 4, 0, tzinfo=UTC)  # the same instant
    assert back.image == Image("https://news.example/i.jpg", "A caption")


def test_naive_datetimes_are_refused(store):
    s = story("a", "Alpha", 1)
    s.published = datetime(2024, 5, 1, 9, 30)
    with pytest.raises(Exception, match="naive"):
        store.save_story(s)


def test_listing_order_and_filters(store):
    for slug, day in (("a", 1), ("b", 3), ("c", None), ("d", 2)):
        store.save_story(story(slug, slug.upper(), day))
    assert [s.title for s in store.stories()] == ["B", "D", "A", "C"]  # undated last
    assert [s.title for s in store.stories(limit=2)] == ["B", "D"]
    since = datetime(2024, 5, 2, tzinfo=IST)
    assert [s.title for s in store.stories(since=since)] == ["B", "D", "C"]
    assert store.stories(section="sport") == []


def test_crosslinks_resolve_through_redirects_canonicals_and_titles(store):
    links = [
        CrossLink("Beta", href="https://news.example/old-b/"),
        CrossLink("Gamma’s Day", href=None),
        CrossLink(
            "Outside",
            href="https://else.example/x",
            external=True,
            target_url="https://else.example/x",
        ),
        CrossLink("Missing", href="https://news.example/gone/"),
        CrossLink("Unknown title", href=None),
    ]
    store.save_story(story("a", "Alpha", 1, links))
    store.save_story(story("b", "Beta", 2))
    store.save_story(story("c", "Gamma's  day", 3))
    store.save_fetch_states(
        [
            FetchState(
                url="https://news.example/old-b/",
                kind="redirect",
                redirect_to="https://news.example/b/?amp=1",
            ),
            FetchState(
                url="https://news.example/b/?amp=1",
                kind="article",
                canonical="https://news.example/b/",
            ),
        ]
    )
    assert store.resolve_crosslinks() == 5
    a = next(s for s in store.stories() if s.title == "Alpha")
    assert [c.target_url for c in a.also_read] == [
        "https://news.example/b/",
        "https://news.example/c/",
        "https://else.example/x",
        "https://news.example/gone/",
        None,
    ]
    assert [c.position for c in a.also_read] == [0, 1, 2, 3, 4]


def test_fetch_state_round_trip_and_gather_runs(store):
    st = FetchState(
        url="https://news.example/",
        etag='"x"',
        last_modified="Mon, 01 Jan 2024",
        status=200,
        kind="listing",
        links=[["s"], None, ["c"]],
        fetched_at=datetime.now(UTC),
    )
    store.save_fetch_states([st])
    st.etag = '"y"'
    store.save_fetch_states([st])
    assert store.fetch_states(["https://news.example/"])["https://news.example/"].etag == '"y"'
    now = datetime.now(UTC)
    store.record_gather("site", GatherReport(new=1, started=now, finished=now))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT new FROM gather_runs")).scalar() == 1


def test_the_store_protocol_lists_every_public_method_of_sqlstore():
    """The Protocol is what the rest of the code is written against: it must not fall
    behind the implementation (nor promise what it lacks)."""
    import inspect

    from syndicate.store import Store
    from syndicate.store.sql import SQLStore

    def public(cls) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")
        }

    promised, built = public(Store), public(SQLStore)
    assert sorted(set(built) - set(promised)) == []  # implemented, not in the Protocol
    assert sorted(set(promised) - set(built)) == []  # promised, not implemented
    different = [n for n in promised if str(promised[n]) != str(built[n])]
    assert different == []


def test_every_store_method_belongs_to_one_role():
    """Store is the union of small roles (and close): each role's methods are SQLStore's,
    with the same signatures, and each public method of SQLStore is in exactly one role,
    so a caller given a role is given all it needs of that part and nothing else."""
    import inspect
    from typing import Protocol

    import syndicate.store as front
    from syndicate.store import Store
    from syndicate.store.sql import SQLStore

    def own(cls) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in vars(cls).items()
            if inspect.isfunction(member) and not name.startswith("_")
        }

    roles = [b for b in Store.__bases__ if b is not Protocol]
    assert [r.__name__ for r in roles] == [
        "StoryStore",
        "ArchiveStore",
        "EditionStore",
        "PeopleStore",
        "LedgerStore",
        "TelemetryStore",
    ]
    assert all(getattr(front, r.__name__) is r for r in roles)  # importable from the front
    built = {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(SQLStore, inspect.isfunction)
        if not name.startswith("_")
    }
    owner: dict[str, list[str]] = {}
    for role in [*roles, Store]:
        for name, signature in own(role).items():
            assert name in built, f"{role.__name__}.{name} is not implemented"
            assert str(signature) == str(built[name]), f"{role.__name__}.{name}"
            owner.setdefault(name, []).append(role.__name__)
    assert owner.pop("close") == ["Store"]  # the one method of no role
    assert {name: who for name, who in owner.items() if len(who) != 1} == {}
    assert sorted(set(built) - set(owner) - {"close"}) == []  # in SQLStore, in no role
