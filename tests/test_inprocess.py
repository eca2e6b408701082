"""The fast tier's faces: the CLI through click's CliRunner and the web app through an ASGI
transport, in this process (no subprocess, no port), so `pytest -m fast` runs in seconds.
The subprocess tests beside them run the same commands as a user does."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from syndicate.cli.main import cli
from syndicate.project import Project
from syndicate.web.app import create_app

pytestmark = pytest.mark.fast


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = CliRunner().invoke(
        cli, ["init", str(tmp_path / "proj"), "--site-url", "https://news.example.com/"]
    )
    assert result.exit_code == 0, result.output
    return tmp_path / "proj"


def _run(project: Path, *args: str):
    return CliRunner().invoke(cli, ["--project", str(project), *args], env={})


def test_init_stories_and_status_in_process(project):
    stories = _run(project, "stories", "--json")
    assert stories.exit_code == 0 and stories.output == ""
    status = _run(project, "status")
    assert status.exit_code == 0
    assert "last gather:  never" in status.output
    assert "daily" in status.output


def test_a_bad_setting_is_one_line_and_exit_status_2(project):
    cfg = project / "syndicate.toml"
    cfg.write_text(re.sub(r"(?m)^port = .*$", "port = 99999", cfg.read_text()))
    result = _run(project, "stories")
    assert result.exit_code == 2
    assert "'web.port' must be between 0 and 65535, not 99999" in result.output


def test_send_dry_run_in_process(project, monkeypatch):
    from syndicate.models import Story, Subscriber
    from syndicate.store import open_store

    store = open_store(Project.load(project, env={}).config.store_url)
    store.save_story(Story(url="https://news.example.com/a/", title="A story", body_text=["Body."]))
    store.save_subscriber(Subscriber("ada@example.org", "Ada", "active", ["daily"]))
    store.close()
    result = _run(project, "send", "daily", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: 1 messages written" in result.output
    assert len(list((project / "public" / "dry-run" / "daily").glob("*.eml"))) == 1


def _get(app, *requests: tuple[str, str]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.request(method, url) for method, url in requests]

    return asyncio.run(go())


def test_web_app_in_process(project):
    app = create_app(Project.load(project, env={}))
    health, missing, forged = _get(
        app, ("GET", "/healthz"), ("GET", "/feeds/nothing.rss"), ("GET", "/unsubscribe/forged")
    )
    assert health.status_code == 200 and health.text == "ok\n"
    assert missing.status_code == 404
    assert forged.status_code == 400 and "Link not valid" in forged.text
