"""The store's schema, kept by Alembic migrations (syndicate/store/migrations/versions).

A new store is created at the newest revision. A store made by release 0.1 (before Alembic)
is recognized and stamped 0001. A store behind this release is refused with the command
that upgrades it, rather than changed behind the operator's back: upgrading a shared
PostgreSQL store is a decision for whoever runs the fleet, not for the first process that
happens to start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from syndicate.errors import ConfigError

_SCRIPTS = Path(__file__).resolve().parent / "migrations"
FIRST = "0001"
# An arbitrary constant naming "syndicate creates its schema" among advisory locks.
_LOCK_KEY = 0x5E7D1CA7E


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = conn
    return cfg


def _one_at_a_time(conn: Connection) -> None:
    """On PostgreSQL, wait for any other process changing the schema (until this
    transaction ends); SQLite's single writer needs no such lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def head() -> str:
    """The revision this release needs."""
    return ScriptDirectory(str(_SCRIPTS)).get_current_head()


def current(engine: Engine) -> str | None:
    """The store's revision: None for an empty store; FIRST for a release-0.1 store."""
    with engine.connect() as conn:
        return _current(conn)


def _current(conn: Connection) -> str | None:
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None and "stories" in inspect(conn).get_table_names():
        return FIRST  # made by release 0.1's create_all, before migrations
    return revision


def prepare(engine: Engine, shown_url: str) -> None:
    """Create an empty store at the newest revision; refuse one that is behind (or ahead)."""
    with _creating(engine):
        _prepare(engine, shown_url)


def _prepare(engine: Engine, shown_url: str) -> None:
    with engine.begin() as conn:
        # Several processes may open a new store at once (a fleet starting, or `run` and
        # `worker` started together): the first creates the tables, the others wait on
        # this lock and find them made. The revision is read under the lock too: read
        # before it, another process's commit could land between "no alembic_version"
        # and "a stories table", which reads as a release-0.1 store.
        _one_at_a_time(conn)
        revision = _current(conn)
        if revision is None:
            command.upgrade(_config(conn), "head")
            return
    if revision == head():
        return
    known = {r.revision for r in ScriptDirectory(str(_SCRIPTS)).walk_revisions()}
    if revision not in known:
        raise ConfigError(
            f"store {shown_url}: its schema is at revision {revision}, made by a newer "
            f"syndicate than this one (which knows up to {head()})",
            "upgrade syndicate on this machine to the release the store was upgraded with",
        )
    raise ConfigError(
        f"store {shown_url}: its schema is at revision {revision}, this syndicate needs {head()}",
        "back the store up, then run `syndicate db upgrade` (once, from one machine)",
    )


@contextlib.contextmanager
def _creating(engine: Engine) -> Iterator[None]:
    """On a SQLite file, an exclusive lock while the schema is read and, for a new store,
    created: SQLite's DDL is not transactional the way PostgreSQL's is, so a second
    process could otherwise see half a schema (and take it for an old release's). The
    lock is on the file's directory: never on the database file itself, since closing any
    handle on that file drops every POSIX lock SQLite holds on it in this process."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    try:
        handle = os.open(Path(path).resolve().parent, os.O_RDONLY)
    except OSError:  # no such directory: SQLite says so in its own words next
        yield
        return
    try:
        # A filesystem without flock on directories (NFS): go on unlocked.
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the flock


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the store to the newest revision: (revision before, after)."""
    with engine.begin() as conn:
        _one_at_a_time(conn)
        before = _current(conn)
        cfg = _config(conn)
        if before == FIRST and MigrationContext.configure(conn).get_current_revision() is None:
            command.stamp(cfg, FIRST)
        command.upgrade(cfg, "head")
    return before, head()
