"""The bundled sample news site: pages, ground truth and a loopback HTTP server (stdlib only).

Its markup is deliberately unlike WordPress: semantic HTML5 (``<article>``, ``<address>``,
``<figure>``, ``itemprop="articleBody"``), so the extractor is shown working on a site it was
not tuned for. Pages and truth are both made from :mod:`syndicate.demo.stories`, so they
cannot drift apart.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import posixpath
import re
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from syndicate.demo.images import HEIGHT, WIDTH, lead_image
from syndicate.demo.stories import (
    ARTICLES,
    FORMS,
    POSTAL_ADDRESS,
    SECTIONS,
    SITE_NAME,
    Also,
    Article,
    by_slug,
    listed,
    slugify,
)

Pages = dict[str, tuple[bytes, str, datetime]]

PER_PAGE = 5
HOME_COUNT = 8
HTML = "text/html; charset=utf-8"
_INLINE_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def _image_path(a: Article) -> str:
    return f"/images/2024/05/{a.slug}.png"


def _image_url(base: str, a: Article) -> str | None:
    return base + _image_path(a)[1:] if a.image else None


def _norm(text: str) -> str:
    return " ".join(_INLINE_LINK.sub(r"\1", text).split())


def _also_href(base: str, page: Article, also: Also, absolute_only: bool = False) -> str | None:
    if also.link == "none":
        return None
    if also.external:
        return also.target
    target = by_slug(also.target).path
    if also.link == "utm":
        return f"{base}{target[1:]}?utm_source=x&utm_medium=also-read"
    if also.link == "relative" and not absolute_only:
        return posixpath.relpath(target, page.path) + "/"
    return base + target[1:]


# ---- HTML -------------------------------------------------------------------------------


def _e(text: str) -> str:
    return escape(text, quote=True)


def _inline(text: str) -> str:
    """Escape a paragraph, turning its ``[label](url)`` links into anchors."""
    out, pos = [], 0
    for m in _INLINE_LINK.finditer(text):
        out += [_e(text[pos : m.start()]), f'<a href="{_e(m[2])}">{_e(m[1])}</a>']
        pos = m.end()
    return "".join([*out, _e(text[pos:])])


def _visible_date(d: datetime) -> str:
    return f"{d.day} {d:%B %Y, %H:%M}"


def _body_html(base: str, a: Article, absolute_only: bool = False) -> str:
    parts = []
    for block in a.body:
        if isinstance(block, Also):
            href = _also_href(base, a, block, absolute_only)
            title = _e(block.label)
            link = f'<a href="{_e(href)}">{title}</a>' if href else title
            parts.append(f"<p>{FORMS[block.form].format(a=link)}</p>")
        elif block[0] == "ul":
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block[1]) + "</ul>")
        elif block[0] == "quote":
            inner = "".join(f"<p>{_inline(p)}</p>" for p in block[1])
            parts.append(f"<blockquote>{inner}</blockquote>")
        else:
            tag = block[0]
            parts.append(f"<{tag}>{_inline(block[1])}</{tag}>")
    return "\n".join(parts)


def _shell(base: str, title: str, canonical: str, main: str, head: str = "") -> str:
    nav = "".join(f'<li><a href="{base}{slug}/">{name}</a></li>' for slug, name in SECTIONS.items())
    # The 404 page has no address of its own, so no canonical link.
    canon = f'<link rel="canonical" href="{_e(canonical)}">\n' if canonical else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n{canon}"
        f'<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" '
        f'href="{base}feed/">\n{head}</head>\n<body>\n'
        f'<header class="masthead"><a class="brand" href="{base}">{SITE_NAME}</a>\n'
        f'<nav aria-label="Sections"><ul>{nav}</ul></nav></header>\n'
        f"<main>\n{main}\n</main>\n"
        f'<footer class="site-footer"><p>{SITE_NAME}, {POSTAL_ADDRESS}. '
        f"A sample site bundled with syndicate; every story in it is invented but one.</p>"
        f"</footer>\n</body>\n</html>\n"
    )


def _teaser(base: str, a: Article, heading: str = "h2") -> str:
    d = a.published_at
    return (
        f'<li><article class="teaser"><{heading}><a href="{base + a.path[1:]}">{_e(a.title)}</a>'
        f"</{heading}><p>{_e(a.standfirst)}</p>"
        f'<p><time datetime="{d.isoformat()}">{_visible_date(d)}</time> · {_e(a.author)}</p>'
        f"</article></li>"
    )


def _meta(base: str, a: Article) -> str:
    """JSON-LD on most stories, OpenGraph + article:* meta on the rest, as sites vary."""
    url, image = base + a.path[1:], _image_url(base, a)
    if a.json_ld:
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "mainEntityOfPage": url,
            "headline": a.title,
            "description": a.standfirst,
            "datePublished": a.published_at.isoformat(),
            "dateModified": a.changed_at.isoformat(),
            "author": {
                "@type": "Person",
                "name": a.author,
                "url": f"{base}people/{slugify(a.author)}/",
            },
            "publisher": {"@type": "Organization", "name": SITE_NAME},
            "articleSection": SECTIONS[a.section],
            "keywords": list(a.tags),
        }
        if image:
            data["image"] = [image]
        # "</" inside a script would end it early; JSON allows the escaped slash.
        text = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
        return f'<script type="application/ld+json">\n{text}\n</script>\n'
    props = [
        ("og:type", "article"),
        ("og:site_name", SITE_NAME),
        ("og:title", a.title),
        ("og:description", a.standfirst),
        ("og:url", url),
        *([("og:image", image)] if image else []),
        ("article:published_time", a.published_at.isoformat()),
        *([("article:modified_time", a.changed_at.isoformat())] if a.modified else []),
        ("article:section", SECTIONS[a.section]),
        *[("article:tag", t) for t in a.tags],
    ]
    return "".join(f'<meta property="{p}" content="{_e(v)}">\n' for p, v in props)


def _article_page(base: str, a: Article) -> str:
    url, d, image = base + a.path[1:], a.published_at, _image_url(base, a)
    person = f"{base}people/{slugify(a.author)}/"
    figure = ""
    if image:
        caption = f"<figcaption>{_e(a.caption)}</figcaption>" if a.caption else ""
        figure = (
            f'<figure><img src="{image}" alt="{_e(a.caption or a.title)}" width="{WIDTH}" '
            f'height="{HEIGHT}">{caption}</figure>\n'
        )
    more = [x for x in listed(a.section) if x is not a][:3]
    main = (
        f"<article>\n<header>\n"
        f'<p class="kicker"><a href="{base}{a.section}/">{SECTIONS[a.section]}</a></p>\n'
        f"<h1>{_e(a.title)}</h1>\n"
        f'<p class="standfirst">{_e(a.standfirst)}</p>\n'
        f'<address class="byline">by <a rel="author" href="{person}">{_e(a.author)}</a>'
        f"</address>\n"
        f'<time datetime="{d.isoformat()}">{_visible_date(d)}</time>\n</header>\n{figure}'
        f'<div class="article-body" itemprop="articleBody">\n{_body_html(base, a)}\n</div>\n'
        f"<footer><p>Filed under: {_e(', '.join(a.tags))}</p></footer>\n"
        f'<aside aria-label="More from {SECTIONS[a.section]}">'
        f"<h2>More from {SECTIONS[a.section]}</h2>\n"
        f"<ul>{''.join(_teaser(base, x, 'h3') for x in more)}</ul></aside>\n</article>"
    )
    return _shell(base, f"{a.title} | {SITE_NAME}", url, main, _meta(base, a))


def _listing(base: str, path: str, heading: str, items: list[Article], pager: str = "") -> str:
    main = (
        f'<h1>{_e(heading)}</h1>\n<ol class="river">\n'
        + "\n".join(_teaser(base, a) for a in items)
        + f"\n</ol>\n{pager}"
    )
    return _shell(base, f"{heading} | {SITE_NAME}", base + path.lstrip("/"), main)


def _section_pages(base: str, section: str) -> dict[str, tuple[str, list[Article]]]:
    items = listed(section)
    chunks = [items[i : i + PER_PAGE] for i in range(0, len(items), PER_PAGE)]
    paths = [f"/{section}/"] + [f"/{section}/page/{n}/" for n in range(2, len(chunks) + 1)]
    pages = {}
    for n, (path, chunk) in enumerate(zip(paths, chunks, strict=True)):
        links = []
        if n > 0:
            links.append(f'<a rel="prev" href="{base}{paths[n - 1][1:]}">Newer stories</a>')
        links.append(f"<span>Page {n + 1} of {len(paths)}</span>")
        if n + 1 < len(paths):
            links.append(f'<a rel="next" href="{base}{paths[n + 1][1:]}">Older stories</a>')
        pager = f'<nav class="pager" aria-label="Pages">{" ".join(links)}</nav>'
        pages[path] = (_listing(base, path, SECTIONS[section], chunk, pager), chunk)
    return pages


# ---- feed, sitemap, robots ----------------------------------------------------------------


def _rss(base: str, items: list[Article]) -> str:
    entries = []
    for a in items:
        url = base + a.path[1:]
        entries.append(
            f"<item><title>{_e(a.title)}</title><link>{url}</link>"
            f'<guid isPermaLink="true">{url}</guid>'
            f"<pubDate>{format_datetime(a.published_at)}</pubDate>"
            f"<dc:creator>{_e(a.author)}</dc:creator>"
            f"<category>{SECTIONS[a.section]}</category>"
            f"<description>{_e(a.standfirst)}</description>"
            # Feed readers resolve relative links unreliably, so the feed copy is absolute.
            f"<content:encoded><![CDATA[{_body_html(base, a, absolute_only=True)}]]>"
            f"</content:encoded></item>"
        )
    newest = max(a.changed_at for a in items)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        f"<title>{SITE_NAME}</title><link>{base}</link>"
        f"<description>News from Porthaven and the sea beyond</description>"
        f"<language>en-gb</language><lastBuildDate>{format_datetime(newest)}</lastBuildDate>\n"
        + "\n".join(entries)
        + "\n</channel>\n</rss>\n"
    )


def _sitemap(base: str, items: list[Article]) -> str:
    urls = "".join(
        f"<url><loc>{base + a.path[1:]}</loc>"
        f"<lastmod>{a.changed_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}</lastmod></url>\n"
        for a in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n'
    )


def build_site(base_url: str) -> Pages:
    """Every page of the site: URL path → (body, content type, last modified).

    Deterministic: the same base URL always gives the same bytes, and Last-Modified comes
    from the stories' own times, never from the clock.
    """
    base = base_url.rstrip("/") + "/"
    latest = listed()
    newest = max(a.changed_at for a in latest)
    pages: dict[str, tuple[str, str, datetime]] = {}

    def listing_time(items: list[Article]) -> datetime:
        return max(a.changed_at for a in items)

    home = latest[:HOME_COUNT]
    pages["/"] = (_listing(base, "/", f"{SITE_NAME}: latest", home), HTML, listing_time(home))
    for section in SECTIONS:
        for path, (html, items) in _section_pages(base, section).items():
            pages[path] = (html, HTML, listing_time(items))
    for author in dict.fromkeys(a.author for a in ARTICLES):
        if items := listed(author=author):
            path = f"/people/{slugify(author)}/"
            pages[path] = (_listing(base, path, author, items), HTML, listing_time(items))
    for a in ARTICLES:
        pages[a.path] = (_article_page(base, a), HTML, a.changed_at)
    pages["/feed/"] = (_rss(base, latest), "application/rss+xml; charset=utf-8", newest)
    pages["/sitemap.xml"] = (_sitemap(base, latest), "application/xml; charset=utf-8", newest)
    robots = f"User-agent: *\nAllow: /\n\nSitemap: {base}sitemap.xml\n"
    pages["/robots.txt"] = (robots, "text/plain; charset=utf-8", newest)
    served = {
        path: (text.encode("utf-8"), ctype, when) for path, (text, ctype, when) in pages.items()
    }
    for a in ARTICLES:  # the lead images, as a site serves them beside its pages
        if a.image:
            served[_image_path(a)] = (lead_image(a.slug, a.section), "image/png", a.published_at)
    return served


# ---- truth --------------------------------------------------------------------------------


def _reader_text(a: Article) -> tuple[list[str], list[int]]:
    """Paragraphs as a reader sees them, and where each ALSO READ line sits among them."""
    text: list[str] = []
    positions: list[int] = []
    for block in a.body:
        if isinstance(block, Also):
            positions.append(len(text))
        elif block[0] in ("ul", "quote"):
            text += [_norm(s) for s in block[1]]
        else:
            text.append(_norm(block[1]))
    return text, positions


def truth(base_url: str) -> list[dict[str, Any]]:
    """What a perfect gatherer reads from each article, oldest first (orphan included).

    Keys follow `syndicate stories --json`; ``also_read`` URLs are absolute and canonical
    (tracking parameters dropped, the relative href resolved, the unlinked title matched to
    its story), and ``listed`` is False for the orphan.
    """
    base = base_url.rstrip("/") + "/"
    out = []
    for a in sorted(ARTICLES, key=lambda a: a.published_at):
        body_text, positions = _reader_text(a)
        also = [x for x in a.body if isinstance(x, Also)]
        image = _image_url(base, a)
        out.append(
            {
                "url": base + a.path[1:],
                "title": a.title,
                "published": a.published_at.isoformat(),
                # What the page declares: JSON-LD always has dateModified, OpenGraph only
                # when the story was changed.
                "modified": a.changed_at.isoformat() if a.json_ld or a.modified else None,
                "author": a.author,
                "section": a.section,
                "tags": list(a.tags),
                "image": {"url": image, "caption": a.caption} if image else None,
                "summary": _norm(a.standfirst),
                "body_text": body_text,
                "also_read": [
                    {
                        "title": x.label,
                        "url": x.target if x.external else base + by_slug(x.target).path[1:],
                        "external": x.external,
                        "linked": x.link != "none",
                        "after_paragraph": pos,
                    }
                    for x, pos in zip(also, positions, strict=True)
                ],
                "listed": a.listed,
            }
        )
    return out


# ---- server -------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as a crawler would meet on a real site

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo's own output is the story list, not an access log

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, send_body: bool) -> None:
        path, _, query = self.path.partition("?")  # a query never selects another page
        page = self.server.pages.get(path)
        if page is None and not path.endswith("/") and path + "/" in self.server.pages:
            location = self.server.base_url + path[1:] + "/" + (f"?{query}" if query else "")
            self._send(301, b"", "text/plain; charset=utf-8", {"Location": location}, send_body)
            return
        if page is None:
            body = self.server.not_found
            self._send(404, body, HTML, {}, send_body)
            return
        body, ctype, modified = page
        etag = f'"{hashlib.sha1(body).hexdigest()}"'
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified.astimezone(UTC), True)}
        status = 304 if self._not_modified(etag, modified) else 200
        self._send(status, body, ctype, headers, send_body and status == 200)

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
        if (inm := self.headers.get("If-None-Match")) is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or etag in tags
        if (ims := self.headers.get("If-Modified-Since")) is not None:
            try:
                return modified.replace(microsecond=0) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False

    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str], send_body: bool
    ) -> None:
        # Logged before answering: the client may send its next request as soon as it has the
        # answer, and the log should keep the order in which requests were answered.
        with self.server.lock:
            self.server.requests.append((self.command, self.path, status))
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pages: Pages
    base_url: str
    not_found: bytes
    requests: list[tuple[str, str, int]]
    lock: threading.Lock


class _Server6(_Server):
    address_family = socket.AF_INET6


class SampleSite:
    """A running sample site: ``base_url``, ``requests`` [(method, path, status)], ``stop()``."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.base_url = server.base_url
        self.requests = server.requests
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()

    def __enter__(self) -> SampleSite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    base_pages_builder: Callable[[str], Pages] = build_site,
    host: str = "127.0.0.1",
    port: int = 0,
) -> tuple[str, SampleSite]:
    """Serve the site on a loopback address in a daemon thread; port 0 picks a free port.

    Returns the base URL (with a trailing slash) and the running site's handle. The pages are
    built after binding, so their absolute links carry the real port.
    """
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the sample site serves on loopback only, not {host!r}")
    server = (_Server6 if ":" in host else _Server)((host, port), _Handler)
    bound_port = server.server_address[1]
    server.base_url = f"http://{f'[{host}]' if ':' in host else host}:{bound_port}/"
    server.pages = base_pages_builder(server.base_url)
    server.requests, server.lock = [], threading.Lock()
    main = "<h1>Page not found</h1>\n<p>That page is not here. Try the latest stories.</p>"
    server.not_found = _shell(server.base_url, f"Not found | {SITE_NAME}", "", main).encode()
    return server.base_url, SampleSite(server)
