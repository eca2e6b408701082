"""The `feed` source: a WordPress RSS feed read with feedparser, full text from content:encoded."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from support.cli import run_cli, stories_json
from support.projects import site_project

FEED_SOURCE = '\n[sources.wordpress]\nkind = "feed"\nurl = "{base}/feed/"\nallow_private = true\n'


def test_feed_source_gathers_full_stories(tmp_path, site_a, truth):
    base, server = site_a
    project = site_project(tmp_path, base, extra=FEED_SOURCE.format(base=base))
    server.reset()  # init read the home page for the site's name; the gather starts here
    proc = run_cli("gather", "--source", "wordpress", project=project)
    assert proc.returncode == 0, proc.stderr
    assert "20 new" in proc.stdout
    assert {t for _, t, _ in server.requests} == {"/feed/"}  # nothing crawled
    stories = {urlsplit(s["url"]).path: s for s in stories_json(project)}
    items = truth["feed"]["items"]
    assert set(stories) == {i["url"] for i in items}
    body_ok = 0
    for item in items:
        story, article = stories[item["url"]], truth["articles"][item["url"]]
        assert story["title"] == item["title"]
        assert datetime.fromisoformat(story["published"]) == datetime.fromisoformat(
            item["published"]
        )
        assert story["author"] == item["author"]
        assert [c["title"] for c in story["also_read"]] == [
            c["title"] for c in article["also_read"]
        ]
        for link in story["also_read"]:
            # Relative hrefs in content:encoded come out absolute.
            assert link["url"] is None or link["url"].startswith(("http://", "https://"))
        body_ok += story["body_text"] == article["body_text"]
    assert body_ok >= 0.95 * len(items)
    again = run_cli("gather", "--source", "wordpress", project=project)
    assert "0 new, 0 updated" in again.stdout
    assert server.requests[-1][2] == 304  # conditional GET of the feed
