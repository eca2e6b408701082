"""Crawler policies against real local servers: robots, size cap, private hosts, retries."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from support.cli import SITE_A, run_cli, stories_json
from support.projects import site_project


def test_size_cap_skips_and_reports_larger_pages(tmp_path, site_a, truth):
    base, _ = site_a
    project = site_project(tmp_path, base, max_bytes=1_000_000)
    proc = run_cli("gather", project=project)
    assert proc.returncode == 1
    big = truth["edge_cases"]["oversized"]
    line = next(x for x in proc.stderr.splitlines() if big in x)
    assert "1,000,000-byte cap" in line
    assert "39 new" in proc.stdout and "4 failed" in proc.stdout


def test_a_fresh_init_project_crawls_its_own_loopback_site_and_no_other_private_host(tmp_path):
    """`init` for a site on 127.0.0.1 makes a project that gathers it as it is (no
    allow_private): the configured site's host is allowed. SSRF protection still refuses
    every other private host, even one listed in allowed_hosts: here an ALSO READ link to
    localhost, a name of the same loopback server that the project did not configure."""
    from serve_site import serve

    site = tmp_path / "site"
    shutil.copytree(SITE_A, site)
    base, server = serve(str(site))
    base = base.rstrip("/")
    port = base.rsplit(":", 1)[1]
    page = site / "2023/world/japan-to-host-regional-summit-on-trade/index.html"
    target = "/2023/lifestyle/chandigarhs-folk-music-scene-comes-of-age/"
    html = page.read_text(encoding="utf-8")
    assert f"http://127.0.0.1:8765{target}" in html
    page.write_text(
        html.replace(f"http://127.0.0.1:8765{target}", f"http://localhost:{port}{target}"),
        encoding="utf-8",
    )
    try:
        project = tmp_path / "proj"
        made = run_cli("init", str(project), "--site-url", base + "/", check=0)
        assert 'name: "Asian Lite"' in made.stdout  # read from the served home page
        assert "crawled, other private hosts stay refused" in made.stdout
        cfg = project / "syndicate.toml"
        assert "\nallow_private" not in cfg.read_text()  # nothing to edit
        cfg.write_text(
            cfg.read_text().replace(
                "[sources.site]\n", f'[sources.site]\nallowed_hosts = ["localhost:{port}"]\n'
            )
        )
        proc = run_cli("gather", project=project)
    finally:
        server.stop()
    assert proc.returncode == 1  # the fixture's own failures, and the refused host
    assert "40 new" in proc.stdout, proc.stdout + proc.stderr
    refused = [x for x in proc.stderr.splitlines() if "refusing a loopback/private" in x]
    assert len(refused) == 1 and f"http://localhost:{port}{target}" in refused[0], proc.stderr
    assert "4 failed" in proc.stdout
    assert len(stories_json(project)) == 40


def test_loopback_refused_for_a_project_of_another_site(tmp_path, site_a):
    """A project whose site is elsewhere is not allowed the loopback server it is pointed
    at (a source URL on another host is no 'own host' of [site] url)."""
    base, server = site_a
    project = site_project(tmp_path, "https://news.example.com", allow_private=False)
    cfg = project / "syndicate.toml"
    cfg.write_text(
        cfg.read_text().replace("[sources.site]\n", f'[sources.site]\nurl = "{base}/"\n', 1)
    )
    proc = run_cli("gather", project=project)
    assert proc.returncode == 1
    assert "refusing a loopback/private address" in proc.stderr
    assert "allow_private" in proc.stderr
    assert server.requests == []  # not one request reached the server


def test_robots_rules_and_crawl_delay_are_obeyed(tmp_path):
    from serve_site import serve

    site = tmp_path / "site"
    shutil.copytree(SITE_A, site)
    robots = (site / "robots.txt").read_text()
    (site / "robots.txt").write_text(
        robots.replace(
            "Disallow: /wp-admin/",
            "Disallow: /wp-admin/\nDisallow: /2023/world/\nCrawl-delay: 0.05",
        )
    )
    base, server = serve(str(site))
    try:
        project = site_project(tmp_path, base.rstrip("/"))
        server.reset()  # init read the home page for the site's name; the crawl starts here
        started = time.monotonic()
        proc = run_cli("gather", project=project)
        elapsed = time.monotonic() - started
        paths = [t for _, t, _ in server.requests]
    finally:
        server.stop()
    assert not [p for p in paths if p.startswith("/2023/world/")]
    assert "disallowed by robots.txt" in proc.stdout
    assert all(s["url"].split("/")[4] != "world" for s in stories_json(project))
    # Crawl-delay spaces the requests: ~N × 0.05 s at least.
    assert elapsed >= 0.05 * (len(paths) - 1)


class _Flaky(BaseHTTPRequestHandler):
    """A site whose article stalls past the client's time-out once, then answers."""

    calls: dict[str, int] = {}

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        n = self.calls[self.path] = self.calls.get(self.path, 0) + 1
        base = f"http://{self.headers['Host']}"
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path == "/sitemap.xml":
            body = (
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                f'sitemap/0.9"><url><loc>{base}/news/slow-story/</loc></url></urlset>'
            ).encode()
            ctype = "application/xml"
        elif self.path == "/news/slow-story/":
            if n == 1:
                time.sleep(1.5)
            paras = "".join(
                f"<p>Paragraph {i} of a story that took its time, with enough "
                f"words to read as an article body.</p>"
                for i in range(8)
            )
            body = (
                f'<html><head><title>Slow Story</title><meta property="og:type" '
                f'content="article"><meta property="article:published_time" '
                f'content="2024-05-01T10:00:00"></head><body><article><h1>Slow Story</h1>'
                f"{paras}</article></body></html>"
            ).encode()
            ctype = "text/html; charset=utf-8"
        elif self.path == "/":
            body, ctype = b"<html><body><h1>Home</h1></body></html>", "text/html"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):
            self.wfile.write(body)


def test_timeouts_are_retried_and_naive_dates_read_in_site_zone(tmp_path):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{srv.server_address[1]}"
        project = site_project(tmp_path, base, timezone="Europe/London", timeout=0.5)
        proc = run_cli("gather", project=project)
    finally:
        srv.shutdown()
    assert proc.returncode == 0, proc.stderr
    assert _Flaky.calls["/news/slow-story/"] == 2
    [story] = stories_json(project)
    assert story["title"] == "Slow Story"
    assert story["published"] == "2024-05-01T10:00:00+01:00"  # BST, from a naive date


def test_recheck_sitemap_trusts_lastmod(tmp_path, site_a, truth):
    base, server = site_a
    project = site_project(tmp_path, base, recheck="sitemap")
    run_cli("gather", project=project)
    before = len(server.requests)
    second = run_cli("gather", project=project)
    articles = {p for p, a in truth["articles"].items() if a["extractable"]}
    listed = {u for u in truth["sitemap"]["urls"] if u in articles}
    trusted = listed - {truth["edge_cases"]["no_date"]}  # the one entry without <lastmod>
    fetched = {t for m, t, _ in server.requests[before:] if m == "GET"}
    assert trusted and not trusted & fetched
    # The trade-off, documented: a page changed under an old lastmod is not seen.
    assert "0 new, 0 updated, 39 unchanged" in second.stdout, second.stdout


def test_dates_from_the_sites_feed_when_a_page_declares_none(tmp_path, truth):
    """Without the news sitemap, an undated page's date comes from the home page's feed."""
    from serve_site import serve

    site = tmp_path / "site"
    shutil.copytree(SITE_A, site)
    robots = (site / "robots.txt").read_text()
    (site / "robots.txt").write_text(
        "\n".join(x for x in robots.splitlines() if "news-sitemap" not in x) + "\n"
    )
    path = "/2023/top-news/gang-violence-khalistan-extremism-put-canada-on-edge/"
    meta = truth["articles"][path]["metadata"]
    assert not meta["json_ld"] and not meta["published_meta"]
    base, server = serve(str(site))
    try:
        project = site_project(tmp_path, base.rstrip("/"))
        run_cli("gather", project=project)
        requested = [t for _, t, _ in server.requests]
    finally:
        server.stop()
    assert "/news-sitemap.xml" not in requested and "/feed/" in requested
    story = next(s for s in stories_json(project) if s["url"].endswith(path))
    assert story["published"] == truth["articles"][path]["published"]
