"""`syndicate init` without --name reads the publication's name from the home page:
og:site_name, then a JSON-LD WebSite's name, then the <title> without its " - Home" part;
when the page cannot be read, the host, said in one line."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support.cli import run_cli

from syndicate.project.settings import load_config
from syndicate.sources.html import parse
from syndicate.sources.sitename import clean_title, name_from_page


def _page(head: str) -> str:
    return f"<!doctype html><html><head>{head}</head><body><h1>Top story</h1></body></html>"


WEBSITE = json.dumps({"@context": "https://schema.org", "@type": "WebSite", "name": "Dawn"})
GRAPH = json.dumps(
    {"@graph": [{"@type": "Organization", "name": "Org"}, {"@type": "WebSite", "name": "Mint"}]}
)


@pytest.mark.fast
@pytest.mark.parametrize(
    ("head", "host", "name", "where"),
    [
        (
            '<meta property="og:site_name" content="The Hindu"><title>Home | x</title>'
            f'<script type="application/ld+json">{WEBSITE}</script>',
            "thehindu.com",
            "The Hindu",
            "og:site_name",
        ),
        (
            f'<script type="application/ld+json">{WEBSITE}</script><title>Dawn - Home</title>',
            "dawn.com",
            "Dawn",
            "JSON-LD WebSite",
        ),
        (f'<script type="application/ld+json">{GRAPH}</script>', "livemint.com", "Mint", None),
        (
            "<title>Asian Lite - News from Britain, India and the Asian world</title>",
            "asianlite.com",
            "Asian Lite",
            "<title>",
        ),
        ("<title>Home - The Harbour Gazette</title>", "127.0.0.1", "The Harbour Gazette", None),
        ("<title>BBC News | Homepage</title>", "bbc.co.uk", "BBC News", None),
        (
            "<title>Latest News, Breaking News, India News | Hindustan Times</title>",
            "www.hindustantimes.com",
            "Hindustan Times",
            None,
        ),
        ("<title>Home</title>", "example.com", "", ""),
        ("", "example.com", "", ""),
    ],
)
def test_the_name_a_home_page_gives(head, host, name, where):
    got = name_from_page(parse(_page(head)), host)
    assert got[0] == name
    if where is not None:
        assert got[1] == where


@pytest.mark.fast
def test_a_title_that_is_only_the_name_is_kept_whole():
    assert clean_title("Asian Lite") == "Asian Lite"
    # A hyphen or a colon inside a word or a time is no separator.
    assert clean_title("Hindustan-Times: the 10:30 morning edition") == "Hindustan-Times"


class _Home(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


def test_init_reads_og_site_name_from_the_served_home_page(tmp_path):
    """The name is written to [site] name, TOML-escaped (a page's name may hold quotes)."""
    handler = type("Home", (_Home,), {})
    handler.body = _page('<meta property="og:site_name" content="Zoë &quot;Z&quot; News">').encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        proc = run_cli("init", str(tmp_path / "p"), "--site-url", base, check=0)
    finally:
        server.shutdown()
        server.server_close()
    assert 'name: "Zoë "Z" News", from the home page\'s og:site_name' in proc.stdout
    assert load_config(tmp_path / "p", env={}).site.name == 'Zoë "Z" News'


def test_init_falls_back_to_the_host_in_one_line_when_the_page_cannot_be_read(tmp_path):
    with socket_nobody_listens_on() as port:
        base = f"http://127.0.0.1:{port}/"
        proc = run_cli("init", str(tmp_path / "p"), "--site-url", base, check=0)
    [line] = [x for x in proc.stdout.splitlines() if x.startswith("name:")]
    assert line.startswith("name: could not read the home page (")
    assert 'using the host "127.0.0.1"' in line
    assert load_config(tmp_path / "p", env={}).site.name == "127.0.0.1"
    # Told to pass --name, init asks nothing of the site.
    named = run_cli("init", str(tmp_path / "q"), "--site-url", base, "--name", "N", check=0)
    assert "name:" not in named.stdout


class socket_nobody_listens_on:
    """A loopback port that was free a moment ago: a connection to it is refused."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        pass
