"""Machine-readable facts a page declares: JSON-LD (schema.org) and <meta> tags."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from typing import Any

from dateutil import parser as dateparser
from lxml import etree

from syndicate.sources.html import norm

ARTICLE_TYPES = {
    "newsarticle",
    "article",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "liveblogposting",
    "scholarlyarticle",
    "techarticle",
    "socialmediaposting",
    "report",
}


def clean(value: Any) -> str:
    """A declared string made readable: entities decoded (WordPress leaves some), spaced."""
    if value is None:
        return ""
    return norm(html.unescape(str(value)))


def parse_date(value: str | None, tz: tzinfo) -> datetime | None:
    """Parse a declared date; a date written without an offset is read in the site's zone."""
    value = clean(value)
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = dateparser.parse(value)
        except (ValueError, OverflowError):
            return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt


def parse_visible_date(text: str, tz: tzinfo) -> datetime | None:
    """A date shown to readers ("September 17, 2023"): midnight in the site's zone."""
    text = clean(text)
    if not text or not re.search(r"\d{4}", text) or len(text) > 60:
        return None
    try:
        dt = dateparser.parse(text, fuzzy=True, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError):
        return None
    if dt.year == 2000 and "2000" not in text:
        return None
    if dt.tzinfo is None:
        dt = datetime.combine(dt.date(), dt.time() or time(0), tzinfo=tz)
    return dt


@dataclass
class Declared:
    """What a page's metadata says about its story, before the visible page is read."""

    article: bool = False
    headline: str = ""
    description: str = ""
    published: str | None = None
    modified: str | None = None
    authors: list[str] = field(default_factory=list)
    section: str = ""
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    image_caption: str | None = None
    url: str | None = None
    site_name: str = ""
    # The page has JSON-LD, and whether an Article-type node is in it: a graph that says
    # only WebPage outweighs an og:type=article that SEO plugins put on every page.
    json_ld: bool = False
    ld_article: bool = False


def _walk(node: Any):
    if isinstance(node, list):
        for x in node:
            yield from _walk(x)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in node:
                yield from _walk(node[key])


def _types(node: dict) -> set[str]:
    t = node.get("@type", [])
    return {str(x).lower() for x in (t if isinstance(t, list) else [t])}


def _name(value: Any, ids: dict[str, dict]) -> list[str]:
    if isinstance(value, list):
        return [n for v in value for n in _name(v, ids)]
    if isinstance(value, dict):
        if "@id" in value and "name" not in value:
            value = ids.get(value["@id"], value)
        return [clean(value.get("name"))] if value.get("name") else []
    return [clean(value)] if value and not str(value).startswith("http") else []


def _url(value: Any, ids: dict[str, dict]) -> tuple[str | None, str | None]:
    """(url, caption) of a schema.org image-ish value."""
    if isinstance(value, list):
        return _url(value[0], ids) if value else (None, None)
    if isinstance(value, dict):
        if "@id" in value and "url" not in value and "contentUrl" not in value:
            value = ids.get(value["@id"], value)
        url = value.get("url") or value.get("contentUrl")
        cap = value.get("caption")
        return (str(url) if url else None, clean(cap) if isinstance(cap, str) else None)
    return (str(value), None) if value else (None, None)


def _json_ld(doc: etree._Element) -> list[dict]:
    nodes: list[dict] = []
    for script in doc.iterfind('.//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        raw = re.sub(r"^\s*(?://)?\s*<!\[CDATA\[|(?://)?\s*\]\]>\s*$", "", raw)
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        nodes.extend(_walk(data))
    return nodes


def read_declared(doc: etree._Element) -> Declared:
    """Read JSON-LD first, then OpenGraph / article meta, filling only what is still missing."""
    d = Declared()
    nodes = _json_ld(doc)
    ids = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    art = next((n for n in nodes if _types(n) & ARTICLE_TYPES), None)
    d.json_ld = bool(nodes)
    if art:
        d.article = d.ld_article = True
        d.headline = clean(art.get("headline") or art.get("name"))
        d.description = clean(art.get("description"))
        d.published = art.get("datePublished") or art.get("dateCreated")
        d.modified = art.get("dateModified")
        d.authors = _name(art.get("author"), ids)
        sec = art.get("articleSection")
        d.section = clean(sec[0] if isinstance(sec, list) and sec else sec)
        kw = art.get("keywords")
        if isinstance(kw, str):
            d.tags = [clean(k) for k in kw.split(",") if clean(k)]
        elif isinstance(kw, list):
            d.tags = [clean(k) for k in kw if clean(k)]
        d.image, d.image_caption = _url(art.get("image"), ids)
        main = art.get("mainEntityOfPage")
        d.url = art.get("url") or (main.get("@id") if isinstance(main, dict) else main)
        pub = art.get("publisher")
        d.site_name = (_name(pub, ids) or [""])[0]
    _read_meta(doc, d)
    return d


def _read_meta(doc: etree._Element, d: Declared) -> None:
    meta: dict[str, list[str]] = {}
    for m in doc.iterfind(".//meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        if key and m.get("content") is not None:
            meta.setdefault(key, []).append(m.get("content"))

    def first(*keys: str) -> str | None:
        for k in keys:
            for v in meta.get(k, []):
                if v.strip():
                    return v.strip()
        return None

    if first("og:type") == "article" or first("article:published_time"):
        d.article = True
    d.headline = d.headline or clean(first("og:title", "twitter:title", "dc.title"))
    d.description = d.description or clean(
        first("og:description", "description", "twitter:description", "dc.description")
    )
    d.published = d.published or first(
        "article:published_time",
        "datepublished",
        "og:published_time",
        "pubdate",
        "publishdate",
        "parsely-pub-date",
        "sailthru.date",
        "dc.date.issued",
        "dc.date",
        "date",
    )
    d.modified = d.modified or first(
        "article:modified_time", "datemodified", "og:updated_time", "lastmod"
    )
    if not d.authors:
        a = first("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
        if a and not a.startswith("http"):
            d.authors = [clean(a)]
    d.section = d.section or clean(first("article:section", "parsely-section", "section"))
    if not d.tags:
        d.tags = [clean(t) for t in meta.get("article:tag", []) if clean(t)]
        if not d.tags and first("news_keywords", "keywords"):
            d.tags = [clean(t) for t in first("news_keywords", "keywords").split(",") if clean(t)]
    d.image = d.image or first("og:image", "og:image:url", "twitter:image")
    d.url = d.url or first("og:url")
    d.site_name = d.site_name or clean(first("og:site_name", "application-name"))
