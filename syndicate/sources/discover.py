"""Where articles are listed: robots.txt, sitemaps (plain, index, Google News) and pages."""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree

from syndicate.sources.body import is_chrome
from syndicate.sources.html import ancestors, classes, parse
from syndicate.urls import canonical_url, host_of, is_http

_ASSET = re.compile(
    r"\.(jpe?g|png|gif|webp|avif|svg|ico|css|js|json|xml|rss|atom|txt|pdf|zip|gz|mp3|mp4|m4a"
    r"|webm|mov|avi|woff2?|ttf|eot|docx?|xlsx?|pptx?)$",
    re.I,
)
_NOT_PAGES = re.compile(
    r"/(feed|rss|atom|wp-admin|wp-json|wp-content|wp-includes|wp-login\.php|xmlrpc\.php"
    r"|cdn-cgi|cart|checkout|login|signin|signup|register|account|search|amp)(/|$)",
    re.I,
)
_ARCHIVE = re.compile(
    r"/(category|categories|section|sections|topic|topics|tag|tags|author|authors|archive"
    r"|archives|page|series|hub)(/|$)|/page/\d+/?$",
    re.I,
)
_SECTION = re.compile(r"/(category|categories|section|sections|topic|topics)/", re.I)


@dataclass
class SitemapEntry:
    """One URL a sitemap lists, with what the sitemap says of it."""

    url: str
    lastmod: str | None = None
    published: str | None = None  # Google News publication_date
    title: str | None = None


def sitemap_entries(body: bytes) -> tuple[list[SitemapEntry], list[str]]:
    """Read a sitemap: (its URL entries, the child sitemaps of a sitemap index)."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    parser = etree.XMLParser(recover=True, huge_tree=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(body, parser=parser)
    if root is None:
        return [], []
    entries, children = [], []
    for el in root:
        if not isinstance(el.tag, str):
            continue
        name = etree.QName(el).localname
        # Direct children only: <image:image> and <video:video> hold <loc>s of their own.
        fields = {etree.QName(c).localname: c for c in el if isinstance(c.tag, str)}
        news = fields.get("news")
        if news is not None:
            for c in news.iter():
                if isinstance(c.tag, str) and etree.QName(c).localname in (
                    "publication_date",
                    "title",
                ):
                    fields[etree.QName(c).localname] = c
        loc = (fields["loc"].text or "").strip() if "loc" in fields else ""
        if not loc:
            continue
        if name == "sitemap":
            children.append(loc)
        elif name == "url":
            entries.append(
                SitemapEntry(
                    url=loc,
                    lastmod=_text(fields.get("lastmod")),
                    published=_text(fields.get("publication_date")),
                    title=_text(fields.get("title")),
                )
            )
    return entries, children


def _text(el) -> str | None:
    return el.text.strip() if el is not None and el.text and el.text.strip() else None


_NEXT_TEXT = {
    "next",
    "next page",
    "next »",
    "next ›",
    "older",
    "older posts",
    "older stories",
    "older entries",
    "more stories",
    "»",
    "›",
    "→",
}


def looks_like_article(url: str) -> bool:
    """True for URLs shaped like a story's: a date in the path, or a long slug or id."""
    path = urlsplit(url).path
    last = [p for p in path.split("/") if p][-1:] or [""]
    return bool(
        re.search(r"/(19|20)\d\d/", path)
        or last[0].count("-") >= 3
        or re.search(r"\d{5,}", last[0])
    )


def is_archive(url: str) -> bool:
    """True for listing-like URLs: sections, tags, authors, pagination."""
    return bool(_ARCHIVE.search(urlsplit(url).path)) or "page=" in urlsplit(url).query


def crawlable(url: str | None, hosts: set[str]) -> bool:
    """True for a same-site URL that may be a page of the site (not an asset, feed or admin)."""
    if not url or not is_http(url) or host_of(url) not in hosts:
        return False
    parts = urlsplit(url)
    if _ASSET.search(parts.path) or _NOT_PAGES.search(parts.path):
        return False
    return not re.search(r"(^|&)(s|replytocom|share|print|amp)=", parts.query)


@dataclass
class PageLinks:
    """What a listing page points to."""

    sections: list[str]
    next_page: str | None
    candidates: list[str]
    feeds: list[str] = field(default_factory=list)


def page_links(url: str, html_text: str, hosts: set[str]) -> PageLinks:
    """Split a listing page's links into section listings, its next page and candidates."""
    doc = parse(html_text)
    sections: dict[str, None] = {}
    candidates: dict[str, None] = {}
    next_page = None
    for link in doc.xpath(
        './/link[@rel="next"] | .//a[contains(concat(" ", @rel, " "), " next ")]'
    ):
        if link.get("href"):
            next_page = canonical_url(link.get("href"), url)
            break
    for a in doc.iter("a"):
        href = a.get("href")
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        target = canonical_url(href, url)
        if target is None or target == canonical_url(url) or not crawlable(target, hosts):
            continue
        label = " ".join(a.text_content().split()).lower()
        if next_page is None and ("next" in classes(a).split() or label in _NEXT_TEXT):
            next_page = target
            continue
        in_menu = any(x.tag == "nav" or re.search(r"menu|nav", classes(x)) for x in ancestors(a))
        if _SECTION.search(urlsplit(target).path) and not re.search(r"/page/\d+", target):
            sections[target] = None
        elif in_menu and not is_archive(target) and not looks_like_article(target):
            # A menu link that is not a story ("/world/", "/news/business/") is a section.
            sections[target] = None
        elif not is_archive(target) and not (in_menu and is_chrome(a)):
            candidates[target] = None
    feeds = [
        canonical_url(link.get("href"), url)
        for link in doc.xpath('.//link[@rel="alternate"][@href]')
        if (link.get("type") or "").lower() in ("application/rss+xml", "application/atom+xml")
    ]
    feeds = [f for f in dict.fromkeys(feeds) if f and host_of(f) in hosts and "comments" not in f]
    return PageLinks(list(sections), next_page, list(candidates), feeds)
