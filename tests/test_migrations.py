"""Migrations: a store made by the previous release's schema is refused until
`syndicate db upgrade`, which brings it up in place without losing a row; on SQLite and on
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, text
from support.cli import run_cli

from syndicate.store import open_store
from syndicate.store import schema as s
from syndicate.store.migrate import _config, head


def _old_store(url: str, made_by: str) -> None:
    """A store at revision 0001 (release 0.1) holding a story, a subscriber, an edition and
    a ledger row (these tables have not changed shape since)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0001")
        if made_by == "release-0.1":  # release 0.1 itself made its tables without Alembic
            conn.execute(text("DROP TABLE alembic_version"))
    now = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(s.stories).values(
                id="s1", url="https://n.example/a/", title="Old story", section="world",
                section_name="World", tags=[], summary="Lede", body_text=["Body"],
                body_html="<p>Body</p>", content_hash="h", first_seen=now, updated_at=now,
                published=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(s.subscribers).values(
                id="u1", email="ann@example.org", name="Ann", status="active", created_at=now,
                soft_bounces=0,
            )
        )  # fmt: skip
        conn.execute(
            insert(s.editions).values(
                id=1, schedule="daily", slot=now, window_end=now, subject="S", html="",
                text="", created_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(s.deliveries).values(
                edition_id=1, subscriber_id="u1", email="ann@example.org", name="Ann",
                status="sent", attempts=1,
            )
        )  # fmt: skip
    engine.dispose()


@pytest.mark.parametrize("made_by", ["release-0.1", "alembic"])
def test_an_old_store_is_refused_then_upgraded_in_place(tmp_path, store_url, made_by):
    _old_store(store_url, made_by)
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://n.example/", check=0)
    env = {"SYNDICATE_STORE__URL": store_url, "SYNDICATE_SECRET_KEY": "k"}
    refused = run_cli("stories", project=project, env=env)
    assert refused.returncode == 2
    assert "revision 0001" in refused.stderr and "syndicate db upgrade" in refused.stderr
    daemon = run_cli("run", "--port", "0", project=project, env=env)
    assert daemon.returncode == 2 and "syndicate db upgrade" in daemon.stderr

    done = run_cli("db", "upgrade", project=project, env=env, check=0)
    assert f"0001 -> {head()}" in done.stdout
    again = run_cli("db", "upgrade", project=project, env=env, check=0)
    assert "already at" in again.stdout

    store = open_store(store_url)
    try:
        assert [s.title for s in store.stories()] == ["Old story"]
        assert store.subscriber("ann@example.org").name == "Ann"
        assert store.delivery_counts() == {"sent": 1}
        assert "workers" in inspect(store.engine).get_table_names()
        columns = {c["name"] for c in inspect(store.engine).get_columns("deliveries")}
        assert "sent_by" in columns
    finally:
        store.close()


def test_a_new_store_starts_at_the_newest_revision(store_url):
    store = open_store(store_url)
    try:
        with store.engine.connect() as conn:
            got = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert got == head()
    finally:
        store.close()


def test_the_migrations_build_exactly_the_schema_the_code_uses(store_url):
    """What autogenerate would write for the newest schema.py against a migrated store:
    nothing. A column added to schema.py without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = open_store(store_url)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), s.metadata)
        assert diff == []
    finally:
        store.close()


def test_a_store_from_a_newer_release_is_refused_with_the_right_advice(tmp_path):
    from syndicate.errors import ConfigError

    url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(ConfigError) as refused:
        open_store(url)
    assert "newer syndicate" in str(refused.value)
    assert "db upgrade" not in str(refused.value)


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path, store_url):
    """A fleet (or `run` and `worker` started together) opening a new store at once."""
    import subprocess
    import sys

    code = "import sys; from syndicate.store import open_store; open_store(sys.argv[1]).close()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, store_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
