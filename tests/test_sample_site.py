"""The bundled sample site: served over real HTTP, and its truth agrees with its pages."""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.request
import zlib
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import html as lxml_html

from syndicate.demo.sample_site import build_site, serve, truth

pytestmark = pytest.mark.fast

BASE = "http://127.0.0.1:8765/"
ALSO_READ = re.compile(r"^\W{0,3}(also read|read also)\b", re.I)


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    """(status, headers, body) of one request; urllib raises on 3xx/4xx, so catch those."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.fixture
def site():
    """The sample site on a free loopback port: (base URL, handle)."""
    base, handle = serve()
    with handle:
        yield base, handle


def _text(el) -> str:
    return " ".join(el.text_content().split())


def _page(pages: dict, url: str):
    return lxml_html.fromstring(pages[urlsplit(url).path][0])


def test_pages_are_deterministic_and_links_absolute() -> None:
    pages = build_site(BASE)
    assert pages == build_site(BASE)
    assert build_site("http://127.0.0.1:8765") == pages  # a missing trailing slash is fine
    relative = []
    for path, (body, ctype, modified) in pages.items():
        assert modified.tzinfo is not None
        if not ctype.startswith("text/html"):
            continue
        for href in lxml_html.fromstring(body).xpath("//a/@href | //link/@href"):
            if not href.startswith((BASE, "https://www.example.org/")):
                relative.append((path, href))
    # Only the one ALSO READ written relative to its page, as some sites do.
    assert relative == [
        (
            "/2024/05/14/world/grain-ships-resume-sailings-after-port-strike-ends/",
            "../../../10/world/ferry-operators-agree-shared-timetable-for-island-routes/",
        )
    ]


def test_site_shape() -> None:
    pages, stories = build_site(BASE), truth(BASE)
    assert len(stories) == 14
    assert {s["section"] for s in stories} == {"world", "business", "culture"}
    days = [datetime.fromisoformat(s["published"]).date() for s in stories]
    assert len(set(days)) == len(days) and {(d.year, d.month) for d in days} == {(2024, 5)}
    assert all(s["published"].endswith("+01:00") for s in stories)  # BST in May
    assert all(len(s["body_text"]) >= 4 for s in stories)
    home = lxml_html.fromstring(pages["/"][0])
    assert len(home.xpath("//main//h2/a")) == 8
    world = lxml_html.fromstring(pages["/world/"][0])
    assert len(world.xpath("//main//h2/a")) == 5
    assert world.xpath("//a[@rel='next']/@href") == [BASE + "world/page/2/"]
    page2 = lxml_html.fromstring(pages["/world/page/2/"][0])
    assert page2.xpath("//a[@rel='prev']/@href") == [BASE + "world/"]
    json_ld = [p for p, (b, _, _) in pages.items() if b"application/ld+json" in b]
    assert 8 <= len(json_ld) <= 10  # about two thirds; the rest carry OpenGraph
    robots = pages["/robots.txt"][0].decode()
    assert f"Sitemap: {BASE}sitemap.xml" in robots


def test_truth_matches_the_pages() -> None:
    pages, stories = build_site(BASE), truth(BASE)
    for story in stories:
        doc = _page(pages, story["url"])
        assert _text(doc.find(".//h1")) == story["title"]
        assert doc.xpath("//link[@rel='canonical']/@href") == [story["url"]]
        assert _text(doc.find_class("standfirst")[0]) == story["summary"]
        assert _text(doc.find(".//address")) == f"by {story['author']}"
        assert doc.xpath("//article/header/time/@datetime") == [story["published"]]
        caption = doc.xpath("//figure/figcaption")
        assert (story["image"] or {}).get("caption") == (_text(caption[0]) if caption else None)
        body = doc.xpath("//div[@itemprop='articleBody']")[0]
        blocks = [_text(b) for b in body.xpath("./p | ./h2 | ./ul/li | ./blockquote/p")]
        assert [b for b in blocks if not ALSO_READ.match(b)] == story["body_text"]
        lines = [p for p in body.xpath("./p") if ALSO_READ.match(_text(p))]
        assert len(lines) == len(story["also_read"])
        for p, also in zip(lines, story["also_read"], strict=True):
            assert _text(p).endswith(also["title"])
            hrefs = p.xpath(".//a/@href")
            assert also["linked"] == bool(hrefs)
            if hrefs:
                resolved = urljoin(story["url"], hrefs[0])
                assert resolved.split("?")[0] == also["url"]


def test_also_read_targets_and_the_orphan() -> None:
    pages, stories = build_site(BASE), truth(BASE)
    by_url = {s["url"]: s for s in stories}
    links = [a for s in stories for a in s["also_read"]]
    internal = [a for a in links if not a["external"]]
    assert all(by_url[a["url"]]["title"] == a["title"] for a in internal)
    assert [a["url"] for a in links if a["external"]] == [
        "https://www.example.org/asia/kim-jong-un-impressed-by-russian-aerospace-tech/"
    ]
    assert sum(not a["linked"] for a in links) == 1  # one title with no link, resolved by title
    mid_body = [
        s for s in stories for a in s["also_read"] if a["after_paragraph"] < len(s["body_text"])
    ]
    assert mid_body
    # Every form the extractor has to know appears at least once.
    raw = b"".join(pages[urlsplit(s["url"]).path][0] for s in stories).decode()
    for form in (
        "<strong>ALSO READ:</strong> <a",
        "READ ALSO – <a",
        "Also Read | <a",
        "ALSO READ-<a",
    ):
        assert form in raw
    assert "?utm_source=x" in raw

    (orphan,) = [s for s in stories if not s["listed"]]
    linkers = {urlsplit(s["url"]).path for s in stories if orphan["url"] in str(s["also_read"])}
    assert len(linkers) == 1
    # Nothing else names it: not the home page, sections, people pages or asides. The feed
    # carries the linking story's body, ALSO READ included, but has no item of its own for it.
    mentions = {path for path, (body, _, _) in pages.items() if orphan["url"].encode() in body}
    assert mentions == linkers | {urlsplit(orphan["url"]).path, "/feed/"}
    assert f"<link>{orphan['url']}</link>" not in pages["/feed/"][0].decode()
    sitemap = pages["/sitemap.xml"][0].decode()
    assert orphan["url"] not in sitemap
    assert all(s["url"] in sitemap for s in stories if s["listed"])


def test_serves_pages_over_http(site) -> None:
    base, handle = site
    assert base.startswith("http://127.0.0.1:") and base.endswith("/")
    status, headers, body = _get(base)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'href="{base}world/"'.encode() in body  # links carry the real port
    assert headers["ETag"] == f'"{hashlib.sha1(body).hexdigest()}"'
    for path, ctype in [
        ("feed/", "application/rss+xml; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("robots.txt", "text/plain; charset=utf-8"),
    ]:
        status, headers, _ = _get(base + path)
        assert (status, headers["Content-Type"]) == (200, ctype)
    story = truth(base)[0]["url"]
    status, _, body = _get(story + "?utm_source=x")
    assert status == 200 and story.encode() in body  # a query string still finds the page
    status, _, body = _get(base + "no/such/page/")
    assert status == 404 and b"Page not found" in body
    status, headers, _ = _get(base + "world", headers={})  # directory without its slash
    assert status == 200  # urllib followed the 301
    assert ("GET", "/world", 301) in handle.requests


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, after checking that it is one that decodes: its chunks
    walked, its pixel rows decompressed to the size its header promises (8-bit RGB)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, at = {}, 8
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert zlib.crc32(kind + body) == int.from_bytes(data[at + 8 + length : at + 12 + length])
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + length
    width, height = int.from_bytes(chunks[b"IHDR"][:4]), int.from_bytes(chunks[b"IHDR"][4:8])
    assert chunks[b"IHDR"][8:10] == b"\x08\x02" and b"IEND" in chunks
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + width * 3)
    return width, height


def test_lead_images_are_real_pictures_of_the_size_the_page_says(site) -> None:
    """Every story with an image shows a PNG the site serves, as big as its <img> says,
    each story its own picture, the same bytes on every build."""
    base, _ = site
    stories = [s for s in truth(base) if s["image"]]
    assert len(stories) >= 10
    seen = set()
    for story in stories:
        status, headers, body = _get(story["image"]["url"])
        assert (status, headers["Content-Type"]) == (200, "image/png"), story["url"]
        [img] = _page(build_site(base), story["url"]).xpath("//figure/img")
        assert img.get("src") == story["image"]["url"]
        assert _png_size(body) == (int(img.get("width")), int(img.get("height")))
        seen.add(hashlib.sha256(body).hexdigest())
    assert len(seen) == len(stories)  # no two stories share a picture
    again = build_site(base)
    path = urlsplit(stories[0]["image"]["url"]).path
    assert again[path][0] == build_site(base)[path][0]


def test_conditional_get_and_head(site) -> None:
    base, handle = site
    status, headers, body = _get(base + "world/")
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert _get(base + "world/", {"If-None-Match": etag})[0] == 304
    assert _get(base + "world/", {"If-Modified-Since": modified})[0] == 304
    # If-None-Match wins: a stale tag means the page changed, whatever the date says.
    assert (
        _get(base + "world/", {"If-None-Match": '"stale"', "If-Modified-Since": modified})[0] == 200
    )
    status, headers, head_body = _get(base + "world/", method="HEAD")
    assert status == 200 and head_body == b"" and headers["Content-Length"] == str(len(body))
    assert handle.requests[:3] == [
        ("GET", "/world/", 200),
        ("GET", "/world/", 304),
        ("GET", "/world/", 304),
    ]
    handle.stop()
    handle.stop()  # stopping twice is harmless
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base, timeout=2)


def test_serves_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        serve(host="0.0.0.0")
