"""/healthz tells the truth about the store: 200 "ok" while it answers, 503 with the
reason in one line when its database is gone (a load balancer stops sending readers and
subscribers to an app that cannot record them)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from support.cli import run_cli

from syndicate.project import Project
from syndicate.web.app import create_app


def _get(app, path: str, times: int = 1) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get(path) for _ in range(times)]

    return asyncio.run(go())


def _project(tmp_path: Path, store_url: str) -> Path:
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", "--name", "N", check=0)
    cfg = project / "syndicate.toml"
    cfg.write_text(
        re.sub(r'(?m)^url = "sqlite:.*$', f'url = "{store_url}"', cfg.read_text(), count=1)
    )
    return project


def test_healthz_is_503_with_a_reason_when_the_database_is_gone(tmp_path, pg_admin_url, pg_url):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    app = create_app(Project.load(_project(tmp_path, pg_url), env={}))
    [healthy] = _get(app, "/healthz")
    assert (healthy.status_code, healthy.text) == (200, "ok\n")
    # The database goes away under the running app: its connections are cut, and new
    # ones are refused.
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = make_url(pg_url).database
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
    for gone in _get(app, "/healthz", times=2):  # the same answer again, no stale "ok"
        assert gone.status_code == 503
        assert gone.text.startswith("the store is unavailable (") and gone.text.endswith(")\n")
        assert gone.text.count("\n") == 1  # one line: a monitor shows it as it is
        assert name in gone.text  # what PostgreSQL said: that database does not exist
        assert "hint" not in gone.text  # the reason, not advice for a terminal


def test_healthz_is_ok_on_a_sqlite_store(tmp_path):
    app = create_app(Project.load(_project(tmp_path, "sqlite:///syndicate.db"), env={}))
    [health] = _get(app, "/healthz")
    assert (health.status_code, health.text) == (200, "ok\n")
