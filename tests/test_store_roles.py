"""The store's roles and its one exception for a database that is gone: a Source is given
the story role only (and gathers with nothing else), a store operation on a database that
cannot be reached raises StoreUnavailable on SQLite and on PostgreSQL, other database
failures are StoreErrors, and nothing outside syndicate/store/ imports SQLAlchemy."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.projects import site_project

from syndicate.errors import StoreError, StoreUnavailable, SyndicateError, db_reason
from syndicate.models import Edition, GatherReport, Story, Subscriber
from syndicate.project.settings import load_config
from syndicate.sources import SOURCES, Source, source_for
from syndicate.store import StoryStore, open_store

PACKAGE = Path(__file__).resolve().parents[1] / "syndicate"
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def test_a_source_is_annotated_with_the_story_role():
    from syndicate.sources import feed, site  # noqa: F401  (they register themselves)

    assert set(SOURCES) >= {"feed", "site"}
    for made in [Source, *SOURCES.values()]:
        assert typing.get_type_hints(made.__init__)["store"] is StoryStore, made
    assert typing.get_type_hints(source_for)["store"] is StoryStore


class _StoryRoleOnly:
    """A store that answers only the StoryStore role's methods (from a real store) and
    remembers any other method a source asks for."""

    def __init__(self, store) -> None:
        self._store, self.asked = store, []
        self._role = {n for n in vars(StoryStore) if not n.startswith("_")}

    def __getattr__(self, name: str):
        if name not in self._role:
            self.asked.append(name)
            raise AttributeError(f"{name} is not in the StoryStore role")
        return getattr(self._store, name)


class _Quiet:
    def add(self, n: int = 1) -> None: ...
    def done(self, n: int = 1) -> None: ...
    def failure(self, line: str) -> None: ...


@pytest.mark.parametrize("kind", ["feed", "site"])
def test_a_source_gathers_with_the_story_role_alone(tmp_path, site_a, kind):
    base, _ = site_a
    extra = f'\n[sources.wordpress]\nkind = "feed"\nurl = "{base}/feed/"\nallow_private = true\n'
    project = site_project(tmp_path, base, extra=extra)
    config = load_config(project)
    name = "wordpress" if kind == "feed" else "site"
    assert config.sources[name].kind == kind
    store = open_store(config.store_url)
    try:
        narrow = _StoryRoleOnly(store)
        report = GatherReport(started=datetime.now(UTC))
        source_for(config.sources[name], config.site, narrow).gather(report, _Quiet())
        assert narrow.asked == []
        # site-a has broken pages of its own (a 404, an image for a page): those are the
        # failures; none is a method the role lacks (a source catches per-page errors).
        assert not [f for f in report.failures if "StoryStore" in f]
        assert report.new > 0
        assert len(store.story_urls()) == report.new
    finally:
        store.close()


def _story() -> Story:
    return Story(url="https://news.example/a/", title="A", published=NOW, body_text=["One."])


def _unreachable(store_url: str, tmp_path: Path):
    """Make the store's database unreachable; returns a function that brings it back."""
    if store_url.startswith("sqlite"):
        # The directory goes (as a lost mount would): SQLite cannot open the file, and
        # root's permissions cannot get round it the way they would a chmod.
        shutil.move(tmp_path / "db", tmp_path / "db-away")
        return lambda: shutil.move(tmp_path / "db-away", tmp_path / "db")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    # As tests/test_workers.py's outage: every connection dropped, new ones refused.
    database = make_url(store_url).database
    admin = create_engine(
        make_url(store_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
            {"db": database},
        )

    def back() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()

    return back


@pytest.fixture
def url(request, tmp_path):
    """A store on SQLite (in a directory of its own) or PostgreSQL."""
    if request.param == "sqlite":
        (tmp_path / "db").mkdir()
        return f"sqlite:///{tmp_path / 'db' / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.mark.parametrize("url", ["sqlite", "postgresql"], indirect=True)
def test_a_store_whose_database_is_gone_raises_store_unavailable(url, tmp_path):
    store = open_store(url)
    try:
        edition, _ = store.save_edition(Edition("daily", NOW, None, NOW, [], subject="S"))
        store.save_subscriber(Subscriber("reader@example.org", "R", "active", ["daily"]))
        store.add_deliveries(edition.id, store.subscribers(digest="daily"))
        [row] = store.claim(edition.id, "h:1:1", 10, NOW, timedelta(minutes=5))
        store.mark_deferred(row.id, "451 busy", NOW)  # the marks' connection is open now
        if url.startswith("sqlite"):
            store.close()  # SQLite keeps its files open: a new connection is what fails
        back = _unreachable(url, tmp_path)
        try:
            for operation in (
                store.story_urls,
                lambda: store.save_story(_story()),
                lambda: store.subscriber("reader@example.org"),
                lambda: store.delivery_counts(edition.id),
                # On PostgreSQL this mark meets its dropped connection, is tried once more
                # on a new one, which is refused: then it is StoreUnavailable.
                lambda: store.mark_sent(row.id, "<m@x>", NOW),
                lambda: store.beat("h:1:t", "worker", NOW, NOW, "running"),
            ):
                with pytest.raises(StoreUnavailable) as raised:
                    operation()
                assert isinstance(raised.value, SyndicateError)
                assert isinstance(raised.value, StoreError)
                assert raised.value.hint
                # The driver's words, as the send's and the worker's reports gave them.
                assert not db_reason(raised.value).startswith("the store is unavailable")
                assert "sqlalchemy" not in type(raised.value).__module__
        finally:
            back()
        # Back: the next operations succeed on new connections.
        store.mark_sent(row.id, "<m@x>", NOW)
        assert store.delivery_counts(edition.id) == {"sent": 1}
    finally:
        store.close()


def test_a_mark_on_a_dropped_connection_is_tried_once_more(pg_url):
    """PostgreSQL: the server dropped every connection (a restart) but takes new ones: a
    mark on a dead pooled connection goes through on a new one, no error."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    store = open_store(pg_url)
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        edition, _ = store.save_edition(Edition("daily", NOW, None, NOW, [], subject="S"))
        store.save_subscriber(Subscriber("reader@example.org", "R", "active", ["daily"]))
        store.add_deliveries(edition.id, store.subscribers(digest="daily"))
        [row] = store.claim(edition.id, "h:1:1", 10, NOW, timedelta(minutes=5))
        store.mark_deferred(row.id, "451 busy", NOW)
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
                {"db": make_url(pg_url).database},
            )
        store.mark_sent(row.id, "<m@x>", NOW)
        assert store.delivery_counts(edition.id) == {"sent": 1}
    finally:
        admin.dispose()
        store.close()


def test_other_database_failures_are_store_errors(store_url):
    """A failure that is one operation's trouble (a constraint, a bad value) is a
    StoreError, not StoreUnavailable: a send takes it as one row's, not a lost store."""
    store = open_store(store_url)
    try:
        naive = _story()
        naive.published = datetime(2024, 5, 1, 9, 30)
        with pytest.raises(StoreError, match="naive") as raised:
            store.save_story(naive)
        assert not isinstance(raised.value, StoreUnavailable)
        # No such edition: the ledger's foreign key refuses the rows (twice: add_deliveries
        # takes a first IntegrityError for a racing sender's rows and looks again).
        sub = Subscriber("reader@example.org", "R", "active", ["daily"])
        store.save_subscriber(sub)
        with pytest.raises(StoreError) as raised:
            store.add_deliveries(4242, [sub])
        assert not isinstance(raised.value, StoreUnavailable)
        assert "IntegrityError" in type(raised.value.__cause__).__name__
        # The race add_deliveries expects is still handled inside the store.
        edition, _ = store.save_edition(Edition("daily", NOW, None, NOW, [], subject="S"))
        assert store.add_deliveries(edition.id, [sub]) == 1
        assert store.add_deliveries(edition.id, [sub]) == 0
    finally:
        store.close()


def test_nothing_outside_the_store_imports_sqlalchemy():
    """SQLAlchemy is the store's business: the rest of syndicate catches StoreUnavailable
    and StoreError, and importing the errors and the store's front loads no SQLAlchemy."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "store" in path.relative_to(PACKAGE).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n == "sqlalchemy" or n.startswith("sqlalchemy.") for n in names):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert found == []
    code = (
        "import sys; import syndicate.errors, syndicate.store; "
        "assert not [m for m in sys.modules if m.startswith('sqlalchemy')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
