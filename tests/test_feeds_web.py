"""Feeds of hostile stories stay inert; the web app serves them as readers expect; WebSub."""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import httpx
import pytest
from lxml import etree
from support.cli import run_cli
from support.web import serving

from syndicate.models import CrossLink, Image, Story

HOSTILE = (
    '<p onclick="steal()">Opening <a href="/2024/world/other-story/">relative link</a> and '
    '<a href="javascript:alert(1)">a trap</a>.</p><script>alert("x")</script>'
    '<p><img src="/img/inline.jpg" onerror="steal()"></p>'
    '<iframe src="https://www.youtube.com/embed/abc"></iframe><style>body{}</style>'
)


def _project(tmp_path: Path, extra: str = "") -> Path:
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", check=0)
    cfg = project / "syndicate.toml"
    text = cfg.read_text().replace("probe_images = true", "probe_images = false")
    cfg.write_text(text + extra)
    from syndicate.project.settings import load_config
    from syndicate.store import open_store

    store = open_store(load_config(project).store_url)
    for i, section in enumerate(["world", "world", "sport"]):
        store.save_story(
            Story(
                url=f"https://news.example.com/2024/{section}/story-{i}/",
                title=f"Story {i} <b>bold</b> & co",
                published=datetime(2024, 5, 1 + i, 9, 30, tzinfo=UTC),
                author="Reporter" if i else None,
                section=section,
                section_name=section.title(),
                tags=["Tag A"],
                image=Image("https://cdn.example.com/a.jpg?w=800", "A caption"),
                summary=f"Lede {i}",
                body_text=["Opening relative link and a trap."],
                body_html=HOSTILE,
                also_read=[
                    CrossLink("Other story", "https://news.example.com/2024/world/other/"),
                    CrossLink("Elsewhere", "https://elsewhere.org/x", external=True),
                ],
                first_seen=datetime(2024, 5, 1, tzinfo=UTC),
            )
        )
    store.resolve_crosslinks()
    store.close()
    return project


def test_untrusted_html_stays_inert_and_links_become_absolute(tmp_path):
    project = _project(tmp_path)
    run_cli("feeds", "build", project=project, check=0)
    out = project / "public" / "feeds"
    for name in ("all.rss", "all.atom", "all.json", "sections/world.rss"):
        raw = (out / name).read_text()
        if name.endswith(".json"):
            raw = " ".join(i["content_html"] for i in json.loads(raw)["items"])
        text = raw.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        assert "<script" not in text and "onclick" not in text and "onerror" not in text
        assert "javascript:" not in text and "<iframe" not in text and "<style" not in text
        assert 'href="https://news.example.com/2024/world/other-story/"' in text
        assert 'src="https://news.example.com/img/inline.jpg"' in text
        assert 'href="https://www.youtube.com/embed/abc"' in text  # the embed, as a link
    assert run_cli("feeds", "validate", project=project).returncode == 0
    # No size known (probing off): no RSS enclosure, but the image is still carried.
    entry = feedparser.parse(str(out / "all.rss")).entries[0]
    assert not entry.get("enclosures")
    assert entry.media_content[0]["url"] == "https://cdn.example.com/a.jpg?w=800"
    # Titles are text: markup in them is escaped, not interpreted.
    assert entry.title == "Story 2 <b>bold</b> & co"


def test_per_section_feeds_have_stable_paths_and_titles(tmp_path):
    project = _project(tmp_path)
    run_cli("feeds", "build", project=project, check=0)
    out = project / "public" / "feeds"
    world = feedparser.parse(str(out / "sections" / "world.atom"))
    # `init` found no name (news.example.com does not answer here): the host names the feeds.
    assert world.feed.title == "news.example.com — World"
    assert [e.link for e in world.entries] == [
        "https://news.example.com/2024/world/story-1/",
        "https://news.example.com/2024/world/story-0/",
    ]
    sport = feedparser.parse(str(out / "sections" / "sport.rss"))
    assert sport.feed.title == "news.example.com — Sport" and len(sport.entries) == 1


def test_feed_titles_and_opml_folders_carry_the_publication_name(tmp_path):
    """In a reader's list beside other publications, "World" alone could be anyone's."""
    project = _project(tmp_path)
    cfg = project / "syndicate.toml"
    cfg.write_text(re.sub(r'(?m)^name = ".*"$', 'name = "Asian Lite"', cfg.read_text()))
    (project / "feeds" / "briefs.toml").write_text('title = "Asian Lite briefs"\n')
    run_cli("feeds", "build", project=project, check=0)
    out = project / "public" / "feeds"
    titles = {
        "all.rss": "Asian Lite — All stories",
        "all.atom": "Asian Lite — All stories",
        "sections/world.atom": "Asian Lite — World",
        "sections/sport.rss": "Asian Lite — Sport",
        "briefs.rss": "Asian Lite briefs",  # it names the publication already
    }
    for name, title in titles.items():
        assert feedparser.parse(str(out / name)).feed.title == title, name
    assert json.loads((out / "all.json").read_text())["title"] == "Asian Lite — All stories"
    opml = etree.parse(str(out / "index.opml")).getroot()
    [folder] = [o for o in opml.iter("outline") if o.get("xmlUrl") is None]
    assert folder.get("text") == folder.get("title") == "Asian Lite — Sections"
    assert [o.get("text") for o in folder] == ["Asian Lite — Sport", "Asian Lite — World"]
    listed = {o.get("text") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert {"Asian Lite — All stories", "Asian Lite briefs"} <= listed
    assert 'title="Asian Lite — World"' in (out / "autodiscovery.html").read_text()
    assert run_cli("feeds", "validate", project=project).returncode == 0


def test_summary_feeds_carry_the_lede_and_also_read_but_not_the_body(tmp_path):
    project = _project(tmp_path)
    (project / "feeds" / "briefs.toml").write_text(
        'title = "Briefs"\ncontent = "summary"\nformats = ["atom"]\nentries = 2\n'
    )
    run_cli("feeds", "build", project=project, check=0)
    out = project / "public" / "feeds"
    assert not (out / "briefs.rss").exists() and not (out / "briefs.json").exists()
    entries = feedparser.parse(str(out / "briefs.atom")).entries
    assert len(entries) == 2
    content = entries[0].content[0].value
    assert "<p>Lede 2</p>" in content and "Also read" in content
    assert "relative link" not in content


def test_odd_stories_and_sections_never_break_a_build(tmp_path):
    project = _project(tmp_path)
    from syndicate.project.settings import load_config
    from syndicate.store import open_store

    store = open_store(load_config(project).store_url)
    odd = [
        ("https://news.example.com/2024/desh/खबर-एक/", "देश", "A \x0b control \x02 title"),
        ("https://news.example.com/2024/videsh/my story/", "विदेश", "Spaces in the URL"),
        ("https://news.example.com/2024/w/upper/", "World", "Upper-case slug"),
        ("https://news.example.com/2024/e/empty/", "world", "Nothing but a title"),
    ]
    for i, (url, section, title) in enumerate(odd):
        store.save_story(
            Story(
                url=url,
                title=title,
                author="X\x01Y",
                section=section,
                section_name=section,
                tags=["a\x0cb"],
                image=Image(f"https://cdn.example.com/my photo é {i}.jpg"),
                body_html=""
                if "Nothing" in title
                else '<p><video poster="/p.jpg"></video>'
                '<picture><source srcset="/a.webp 1x, /b.webp 2x"></picture> text</p>',
                published=datetime(2024, 6, 1 + i, tzinfo=UTC),
                first_seen=datetime(2024, 6, 1, tzinfo=UTC),
            )
        )
    store.close()
    first = run_cli("feeds", "build", project=project, check=0)
    assert "0 failed" in first.stdout
    check = run_cli("feeds", "validate", project=project)
    assert check.returncode == 0, check.stderr
    out = project / "public" / "feeds"
    section_files = sorted(p.name for p in (out / "sections").glob("*.rss"))
    assert len(section_files) == 5, section_files  # world, sport, two Devanagari, World
    again = run_cli("feeds", "build", project=project, check=0)
    assert " 0 written" in again.stdout
    rss = (out / "all.rss").read_text()
    assert "%E0%A4%96" in rss and "my%20story" in rss and "my%20photo%20%C3%A9" in rss
    assert 'poster="https://news.example.com/p.jpg"' in rss.replace("&quot;", '"')
    assert "https://news.example.com/a.webp 1x, https://news.example.com/b.webp 2x" in rss
    items = json.loads((out / "all.json").read_text())["items"]
    assert all(item["content_html"] for item in items)
    # A format dropped from a definition: its files go, they would never change again.
    (project / "feeds" / "all.toml").write_text(
        (project / "feeds" / "all.toml")
        .read_text()
        .replace('formats = ["rss", "atom", "json"]', 'formats = ["rss"]')
    )
    dropped = run_cli("feeds", "build", project=project, check=0)
    assert "2 removed" in dropped.stdout
    assert (out / "all.rss").exists() and not (out / "all.atom").exists()


@pytest.fixture
def served(tmp_path):
    """The project's web app run by `syndicate serve` on a free port: its base URL."""
    project = _project(tmp_path)
    run_cli("feeds", "build", project=project, check=0)
    with serving(project) as base:
        yield base, project


def test_web_app_serves_the_kept_images_at_media(served):
    """public/media/ (the images a project keeps for its emails) is served at /media/ with
    validators, as is, and nothing else of the project is."""
    base, project = served
    media = project / "public" / "media"
    media.mkdir(parents=True)
    picture = b"\x89PNG\r\n\x1a\n" + bytes(2000)
    (media / "0123abcd.png").write_bytes(picture)
    (media / "notes.txt").write_text("not an image")
    with httpx.Client(base_url=base) as client:
        got = client.get("/media/0123abcd.png", headers={"Accept-Encoding": "gzip"})
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert got.content == picture and "content-encoding" not in got.headers
        again = client.get("/media/0123abcd.png", headers={"If-None-Match": got.headers["etag"]})
        assert again.status_code == 304
        for path in ("/media/notes.txt", "/media/../syndicate.toml", "/media/missing.png"):
            assert client.get(path).status_code == 404, path


def test_the_listening_socket_queues_early_clients_and_names_a_taken_port():
    from syndicate.errors import SyndicateError
    from syndicate.web.sockets import listen_socket

    sock = listen_socket("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        # Listening already: a client is queued before anything accepts, not refused.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with pytest.raises(SyndicateError) as taken:
            listen_socket("127.0.0.1", port)
        assert str(taken.value).startswith(f"cannot listen on 127.0.0.1:{port} (")
        assert "--port" in taken.value.hint
    finally:
        sock.close()


def test_web_app_serves_feeds_with_validators_gzip_and_head(served):
    base, project = served
    with httpx.Client(base_url=base) as client:
        types = {
            "all.rss": "application/rss+xml",
            "all.atom": "application/atom+xml",
            "all.json": "application/feed+json",
            "sections/world.rss": "application/rss+xml",
        }
        for name, media_type in types.items():
            r = client.get(f"/feeds/{name}", headers={"Accept-Encoding": "identity"})
            assert r.status_code == 200
            assert r.headers["content-type"].split(";")[0] == media_type
            assert r.content == (project / "public" / "feeds" / name).read_bytes()
        r = client.get("/feeds/all.rss", headers={"Accept-Encoding": "identity"})
        etag, modified = r.headers["etag"], r.headers["last-modified"]
        assert etag.startswith('"') and modified.endswith("GMT")
        again = client.get("/feeds/all.rss", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        since = client.get(
            "/feeds/all.rss",
            headers={"If-Modified-Since": modified, "Accept-Encoding": "identity"},
        )
        assert since.status_code == 304
        other = client.get("/feeds/all.rss", headers={"If-None-Match": '"other"'})
        assert other.status_code == 200
        head = client.head("/feeds/all.atom", headers={"Accept-Encoding": "identity"})
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(
            (project / "public" / "feeds" / "all.atom").read_bytes()
        )
        raw = httpx.get(f"{base}/feeds/all.json", headers={"Accept-Encoding": "gzip"})
        assert raw.headers["content-encoding"] == "gzip"
        plain = client.get("/feeds/all.json", headers={"Accept-Encoding": "identity"})
        assert raw.headers["etag"] != plain.headers["etag"]  # one tag per representation
        assert "Accept-Encoding" in raw.headers["vary"]
        expected = (project / "public" / "feeds" / "all.json").read_bytes()
        assert raw.content == expected  # httpx decodes; the wire was gzip
        (project / "public" / "feeds" / "dir.json").mkdir()
        for missing in (
            "/feeds/nope.rss",
            "/feeds/../syndicate.toml",
            "/feeds/.manifest.json",
            "/feeds/dir.json",
        ):
            assert client.get(missing).status_code == 404
        asctime = "Sun Nov  6 08:49:37 2099"  # RFC 9110 wants the old forms read too
        old_form = client.get("/feeds/all.rss", headers={"If-Modified-Since": asctime})
        assert old_form.status_code == 304
        assert client.get("/healthz").text == "ok\n"


def test_gzip_is_real_on_the_wire(served):
    base, project = served
    with (
        httpx.Client() as client,
        client.stream("GET", f"{base}/feeds/all.rss", headers={"Accept-Encoding": "gzip"}) as r,
    ):
        wire = b"".join(r.iter_raw())
    assert gzip.decompress(wire) == (project / "public" / "feeds" / "all.rss").read_bytes()
    assert r.headers["etag"].endswith('-gz"')


class _Hub(BaseHTTPRequestHandler):
    pings: list[str] = []
    status = 204

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.pings.append(self.rfile.read(length).decode())
        self.send_response(self.status)
        self.end_headers()


def test_websub_hub_is_advertised_and_pinged_for_changed_feeds(tmp_path):
    hub = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=hub.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{hub.server_address[1]}/hub"
    try:
        project = _project(tmp_path)
        cfg = project / "syndicate.toml"
        cfg.write_text(cfg.read_text().replace('hub = ""', f'hub = "{url}"'))
        run_cli("feeds", "build", project=project, check=0)
        run_cli("feeds", "validate", project=project, check=0)  # hub link well placed
        first = list(_Hub.pings)
        run_cli("feeds", "build", project=project, check=0)
        assert _Hub.pings == first  # nothing changed: nobody is told
        _Hub.status = 500
        (project / "public" / "feeds" / ".manifest.json").unlink()
        (project / "public" / "feeds" / "all.rss").unlink()
        failed = run_cli("feeds", "build", project=project)
        # The hub is back: the next build, with nothing new, tells it what it missed.
        _Hub.status, before = 204, len(_Hub.pings)
        retried = run_cli("feeds", "build", project=project, check=0)
        missed = _Hub.pings[before:]
        later = run_cli("feeds", "build", project=project, check=0)
        after = len(_Hub.pings)
    finally:
        hub.shutdown()
    # Only all.rss was rewritten by the failed build; that one ping is made up for, once.
    assert " 0 written" in retried.stdout and len(missed) == 1 and "all.rss" in missed[0]
    assert after == before + 1 and "0 failed" in later.stdout
    assert len(first) == 9  # 3 feeds (all, world, sport) × 3 formats
    assert all(p.startswith("hub.mode=publish&hub.url=http") for p in first)
    assert failed.returncode == 1
    assert "answered HTTP 500" in failed.stderr
    out = project / "public" / "feeds"
    rss = (out / "all.rss").read_text()
    assert f'<atom:link rel="hub" href="{url}"/>' in rss
    assert rss.index('rel="hub"') < rss.index("<item>")
    assert f'"url": "{url}"' in (out / "all.json").read_text()
