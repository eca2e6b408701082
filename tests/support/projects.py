"""Project builders, one per purpose, made with the real `syndicate init`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smtp_server import SMTPServer

from support.cli import run_cli
from syndicate.models import Image, Story, Subscriber
from syndicate.project.settings import load_config
from syndicate.store import open_store

BASE = "https://news.example.com"


def site_project(
    tmp_path: Path, base: str, extra: str = "", timezone: str = "Asia/Kolkata", **source: object
) -> Path:
    """`syndicate init` a project for a served site, allowed to crawl loopback. Init reads
    the site's name from its home page: one GET of / before anything the test runs."""
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", base + "/", "--timezone", timezone, check=0)
    cfg = project / "syndicate.toml"
    source = {"allow_private": True, **source}
    text = cfg.read_text()
    for key in source:
        text = re.sub(rf"(?m)^{key} = .*\n", "", text)
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in source.items())
    cfg.write_text(text.replace("[sources.site]\n", "[sources.site]\n" + lines) + extra)
    return project


def mail_project(
    tmp_path: Path, smtp: SMTPServer, subscribers: int, extra: str = "", pool: int = 2
) -> Path:
    """A project with three stories, N active subscribers of 'daily', mail to the server."""
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", f"{BASE}/", "--name", "Harbour News", check=0)
    cfg = project / "syndicate.toml"
    text = cfg.read_text().replace(
        'url = "maildir:public/outbox"',
        f'url = "smtp://127.0.0.1:{smtp.port}?pool={pool}"\n'
        "retry_base = 0.05\nsend_wait = 20\npause_after = 50\n"
        'sender = "Harbour News <news@news.example.com>"',
    )
    cfg.write_text(
        text.replace('public_url = ""', 'public_url = "https://news.example.com"') + extra
    )
    (project / ".secret-key").write_text("test-key\n")
    add_stories(project, range(3))
    store = open_store(load_config(project).store_url)
    for i in range(subscribers):
        store.save_subscriber(
            Subscriber(f"reader{i}@example.org", f"Reader {i}", "active", ["daily"])
        )
    store.close()
    return project


def add_stories(project: Path, numbers) -> None:
    """Store stories number N (Story N, /2024/world/story-N/), dated N hours after ten ago."""
    store = open_store(load_config(project).store_url)
    for i in numbers:
        store.save_story(
            Story(
                url=f"{BASE}/2024/world/story-{i}/",
                title=f"Story {i}",
                published=datetime.now(UTC) - timedelta(hours=10 - i),
                section="world",
                section_name="World",
                image=Image(f"{BASE}/img/{i}.jpg", "A caption"),
                summary=f"Lede {i}.",
                body_text=["Body."],
                body_html="<p>Body.</p>",
            )
        )
    store.close()
