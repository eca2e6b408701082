"""Bad URLs, slow servers, odd stores: each costs at most its own page, never the run."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support.cli import run_cli, stories_json
from support.projects import site_project


def _article(title: str, canonical: str) -> bytes:
    paras = "".join(
        f"<p>Paragraph {i} of {title}, long enough to read as the body of a news story.</p>"
        for i in range(6)
    )
    return (
        f'<html><head><title>{title}</title><link rel="canonical" href="{canonical}">'
        f'<meta property="og:type" content="article">'
        f'<meta property="article:published_time" content="2024-05-01T10:00:00Z"></head>'
        f"<body><article><h1>{title}</h1>{paras}</article></body></html>"
    ).encode()


class _Site(BaseHTTPRequestHandler):
    """A tiny news site whose pages are set per test: path → (status, type, body, drip)."""

    pages: dict[str, tuple[int, str, bytes, float]] = {}
    hits: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.hits.append(self.path)
        base = f"http://{self.headers['Host']}"
        if self.path not in self.pages:
            self.send_error(404)
            return
        status, ctype, body, drip = self.pages[self.path]
        body = body.replace(b"{base}", base.encode())
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if not drip:
                self.wfile.write(body)
                return
            for i in range(0, len(body), 64):  # a byte stream slower than any deadline
                self.wfile.write(body[i : i + 64])
                self.wfile.flush()
                time.sleep(drip)


@pytest.fixture
def tiny_site() -> Iterator[tuple[str, type[_Site]]]:
    """A fresh _Site on a free loopback port: (base URL, handler class with pages/hits)."""
    handler = type("Site", (_Site,), {"pages": {}, "hits": []})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", handler
    finally:
        srv.shutdown()


HOME = (
    b'<html><body><h1>Home</h1><a href="http://[bad/x">broken</a>'
    b'<a href="{base}/news/first-story-of-the-day/">First</a>'
    b'<a href="{base}/news/first-story-of-the-day/?ref=home">First again</a>'
    b'<a href="{base}/news/second-story-of-the-day/">Second</a></body></html>'
)


def _plain_site(site: type[_Site]) -> None:
    site.pages.update(
        {
            "/robots.txt": (200, "text/plain", b"User-agent: *\nAllow: /\n", 0),
            "/": (200, "text/html", HOME, 0),
            "/news/first-story-of-the-day/": (
                200,
                "text/html",
                _article("First", "{base}/news/first-story-of-the-day/"),
                0,
            ),
            "/news/first-story-of-the-day/?ref=home": (
                200,
                "text/html",
                _article("First", "{base}/news/first-story-of-the-day/"),
                0,
            ),
            "/news/second-story-of-the-day/": (
                200,
                "text/html",
                _article("Second", "{base}/news/second-story-of-the-day/"),
                0,
            ),
        }
    )


def test_malformed_links_and_a_missing_guessed_sitemap_are_no_failures(tmp_path, tiny_site):
    base, site = tiny_site
    _plain_site(site)
    project = site_project(tmp_path, base)
    first = run_cli("gather", project=project)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "/sitemap.xml" in site.hits  # guessed, absent, and not called a failure
    assert "failed" not in first.stderr
    assert "2 new" in first.stdout and "0 failed" in first.stdout
    assert sorted(s["title"] for s in stories_json(project)) == ["First", "Second"]
    # Two URLs of one story (an alias with ?ref=) count it once on the next run.
    second = run_cli("gather", project=project, check=0)
    assert "0 new, 0 updated, 2 unchanged" in second.stdout, second.stdout


def test_malformed_sitemap_entry_costs_only_itself(tmp_path, tiny_site):
    base, site = tiny_site
    _plain_site(site)
    sitemap = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://[bad/x</loc></url><url><loc>http://127.0.0.1:notaport/y</loc></url>"
        b"<url><loc>{base}/news/second-story-of-the-day/</loc></url></urlset>"
    )
    site.pages["/robots.txt"] = (
        200,
        "text/plain",
        b"User-agent: *\nAllow: /\nSitemap: http://[broken\nSitemap: {base}/map.xml\n",
        0,
    )
    site.pages["/map.xml"] = (200, "application/xml", sitemap, 0)
    project = site_project(tmp_path, base)
    proc = run_cli("gather", project=project)
    assert proc.returncode == 0, proc.stderr
    assert "2 new" in proc.stdout


def test_a_dripping_server_is_cut_off_at_the_whole_request_deadline(tmp_path, tiny_site):
    base, site = tiny_site
    _plain_site(site)
    body = _article("Slow", "{base}/news/slow-drip-story-of-the-day/") * 4
    site.pages["/news/slow-drip-story-of-the-day/"] = (200, "text/html", body, 0.05)
    site.pages["/"] = (
        200,
        "text/html",
        HOME.replace(b"</body>", b'<a href="/news/slow-drip-story-of-the-day/">S</a></body>'),
        0,
    )
    # Each chunk comes well within httpx's per-read time-out; the whole never within 1 s.
    project = site_project(tmp_path, base, timeout=1, retries=1)
    started = time.monotonic()
    proc = run_cli("gather", project=project)
    elapsed = time.monotonic() - started
    assert proc.returncode == 1
    line = next(x for x in proc.stderr.splitlines() if "slow-drip" in x)
    assert "timed out after 1s after 2 tries" in line
    assert elapsed < 15
    assert "2 new" in proc.stdout


def test_fetch_states_written_in_batches_keep_what_is_learnt_after(tmp_path, tiny_site):
    """A batch flushed while a page is being read must not lose what the page taught."""
    from syndicate.pipeline import gather
    from syndicate.project.settings import load_config
    from syndicate.sources import site as site_source
    from syndicate.store import open_store

    base, site = tiny_site
    _plain_site(site)
    project = site_project(tmp_path, base)

    class Quiet:
        def add(self, n: int = 1) -> None: ...
        def done(self, n: int = 1) -> None: ...
        def failure(self, line: str) -> None: ...

    old = site_source._Crawl.flush_every
    site_source._Crawl.flush_every = 1
    try:
        config = load_config(project)
        store = open_store(config.store_url)
        gather(config, store, Quiet())
        states = store.fetch_states([f"{base}/news/second-story-of-the-day/"])
        store.close()
    finally:
        site_source._Crawl.flush_every = old
    [state] = states.values()
    assert state.kind == "article" and state.content_hash
    assert state.canonical == f"{base}/news/second-story-of-the-day/"


def test_a_store_that_cannot_be_opened_is_one_clear_line(tmp_path, tiny_site):
    base, _ = tiny_site
    project = site_project(tmp_path, base)
    proc = run_cli(
        "stories",
        project=project,
        env={"SYNDICATE_STORE__URL": "sqlite:////nonexistent-dir/x/syndicate.db"},
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cannot open the store" in proc.stderr and "hint:" in proc.stderr


def test_a_malformed_site_url_is_a_config_error(tmp_path):
    project = site_project(tmp_path, "http://127.0.0.1:1")
    proc = run_cli("gather", project=project, env={"SYNDICATE_SITE__URL": "http://[bad"})
    assert proc.returncode == 2
    assert "'site.url' must be an http:// or https:// address" in proc.stderr


def test_an_article_without_a_body_is_one_failure_line_and_not_stored(tmp_path, tiny_site):
    base, site = tiny_site
    _plain_site(site)
    # Declared an article, dated, headlined, and nothing in it but a share bar.
    empty = (
        b'<html><head><title>Second</title><meta property="og:type" content="article">'
        b'<meta property="article:published_time" content="2024-05-01T10:00:00Z"></head>'
        b"<body><article><h1>Second</h1><div class='share-bar'><a href='/s'>Share</a>"
        b"</div></article></body></html>"
    )
    site.pages["/news/second-story-of-the-day/"] = (200, "text/html", empty, 0)
    project = site_project(tmp_path, base)
    proc = run_cli("gather", project=project, check=1)
    lines = [x for x in proc.stderr.splitlines() if "no article body found" in x]
    assert len(lines) == 1, proc.stderr
    assert f"{base}/news/second-story-of-the-day/: no article body found (" in lines[0]
    assert lines[0].endswith("not stored")
    assert "1 new" in proc.stdout and "1 failed" in proc.stdout, proc.stdout
    assert [s["title"] for s in stories_json(project)] == ["First"]
