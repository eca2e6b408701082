"""Every command works the same on PostgreSQL: the fixture site gathered through the real
CLI into SQLite and into PostgreSQL gives the same stories and byte-identical feeds, and
subscribing, sending and status work on PostgreSQL (SYNDICATE_STORE__URL)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from processes import KEY
from support.cli import run_cli
from support.projects import site_project


def _days() -> list[str]:
    now = datetime.now(UTC)
    return [(now - timedelta(days=n)).date().isoformat() for n in (0, 1)]


def _pipeline(project: Path, env: dict) -> tuple[list[dict], dict[str, bytes]]:
    """gather, stories --json, feeds build: (stories, feed files by relative path)."""
    gathered = run_cli("gather", project=project, env=env)
    assert gathered.returncode in (0, 1), gathered.stderr  # 1: the site's broken pages
    out = run_cli("stories", "--json", project=project, env=env, check=0).stdout
    stories = [json.loads(line) for line in out.splitlines() if line.strip()]
    run_cli("feeds", "build", project=project, env=env, check=0)
    root = project / "public" / "feeds"
    feeds = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.*"))}
    return stories, feeds


def test_sqlite_and_postgresql_give_the_same_stories_and_feeds(tmp_path, site_a, pg_url, smtp):
    base, handle = site_a
    lite = site_project(tmp_path / "lite", base)
    lite_stories, lite_feeds = _pipeline(lite, {})
    handle.reset()  # the site as new: its changing pages start over
    pg = site_project(tmp_path / "pg", base)
    env = {"SYNDICATE_STORE__URL": pg_url, **KEY}
    pg_stories, pg_feeds = _pipeline(pg, env)

    assert len(pg_stories) >= 40
    assert pg_stories == lite_stories
    assert sorted(pg_feeds) == sorted(lite_feeds)
    # Deterministic feeds: the same bytes whatever the store, but for the one time that is
    # the crawl's own: an undated story's entry is dated when it was first seen (today).
    days = "|".join(_days())  # today, and yesterday for a run across midnight
    today = re.compile(rb"(%s)[T ][0-9:.]+(Z|[+-]\d\d:\d\d)?" % days.encode())
    different = [
        name
        for name in pg_feeds
        if name != ".manifest.json"  # ETags of the above
        and today.sub(b"T", pg_feeds[name]) != today.sub(b"T", lite_feeds[name])
    ]
    assert not different
    assert pg_feeds["all.rss"] == lite_feeds["all.rss"]

    env["SYNDICATE_MAIL__URL"] = f"smtp://127.0.0.1:{smtp.port}?pool=2"
    for who in ("ann@example.org", "bo@example.org"):
        run_cli("subscribers", "add", who, "--confirmed", project=pg, env=env, check=0)
    listed = run_cli("subscribers", "list", project=pg, env=env, check=0).stdout
    assert "ann@example.org" in listed and "bo@example.org" in listed
    preview = tmp_path / "daily.html"
    run_cli("digest", "preview", "daily", "--out", str(preview), project=pg, env=env, check=0)
    assert preview.stat().st_size > 1000
    sent = run_cli("send", "daily", project=pg, env=env, check=0)
    assert "2 sent" in sent.stdout + sent.stderr
    assert sorted(r.recipients[0] for r in smtp.received) == ["ann@example.org", "bo@example.org"]
    again = run_cli("send", "daily", project=pg, env=env)
    assert again.returncode in (0, 1) and len(smtp.received) == 2  # never twice
    status = run_cli("status", project=pg, env=env, check=0).stdout
    assert "2 sent" in status and "subscribers:  2 (2 active)" in status
    # The SQLite project's store was never touched by the PostgreSQL one.
    shutil.rmtree(pg)
    assert run_cli("stories", project=lite, check=0).stdout.count("\n") >= 40
