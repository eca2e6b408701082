"""The store's schema, kept by Alembic migrations (syndicate/migrations/versions).

A new store is created at the newest revision. A store made by release 0.1 (before Alembic)
is recognized and stamped 0001. A store behind this release is refused with the command
that upgrades it, rather than changed behind the operator's back: upgrading a shared
PostgreSQL store is a decision for whoever runs the fleet, not for the first process that
happens to start.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from syndicate.errors import ConfigError

_SCRIPTS = Path(__file__).resolve().parent.parent / "migrations"
FIRST = "0001"
# An arbitrary constant naming "syndicate creates its schema" among advisory locks.
_LOCK_KEY = 0x5E7D1CA7E


def _config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    """The revision this release needs."""
    return ScriptDirectory(str(_SCRIPTS)).get_current_head()


def current(engine: Engine) -> str | None:
    """The store's revision: None for an empty store; FIRST for a release-0.1 store."""
    with engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
        if revision is None and "stories" in inspect(conn).get_table_names():
            return FIRST  # made by release 0.1's create_all, before migrations
        return revision


def prepare(engine: Engine, shown_url: str) -> None:
    """Create an empty store at the newest revision; refuse one that is behind."""
    revision = current(engine)
    if revision is None:
        with engine.begin() as conn:
            # Several processes may open a new PostgreSQL store at once (a fleet starting):
            # the first creates the tables, the others wait on this lock and find them made.
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
                revision = MigrationContext.configure(conn).get_current_revision()
            if revision is None:
                command.upgrade(_config(conn), "head")
                return
    if revision != head():
        raise ConfigError(
            f"store {shown_url}: its schema is at revision {revision}, this syndicate needs "
            f"{head()}",
            "back the store up, then run `syndicate db upgrade` (once, from one machine)",
        )


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the store to the newest revision: (revision before, after)."""
    before = current(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        cfg = _config(conn)
        if before == FIRST and MigrationContext.configure(conn).get_current_revision() is None:
            command.stamp(cfg, FIRST)
        command.upgrade(cfg, "head")
    return before, head()
