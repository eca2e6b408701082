"""Machine-readable facts a page declares: JSON-LD (schema.org) and <meta> tags."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, tzinfo
from typing import Any
from urllib.parse import urlsplit

from dateutil import parser as dateparser
from lxml import etree

from syndicate.sources.html import norm
from syndicate.urls import canonical_url

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


def _dayfirst(text: str, tz: tzinfo) -> bool:
    """Whether a numeric date ("02/05/2024") is read day first: yes for a site outside the
    Americas' US-style zones (America/…, US/…), where 2 May is written 02/05.

    Never for a date that starts with its year: dateutil would read 2024/02/05 as
    year-day-month.
    """
    if re.match(r"\s*\d{4}", text):
        return False
    name = getattr(tz, "key", None) or str(tz)
    return not name.startswith(("America/", "US/"))


# Zone abbreviations pages write after a time, as offsets in seconds. Any other name
# ("ZZ", an ambiguous "IST") is read as the site's own zone, like a time without one.
_ZONES = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 3600, "BST": 3600,
    "CET": 3600, "CEST": 7200, "MEZ": 3600, "MESZ": 7200, "EET": 7200, "EEST": 10800,
    "MSK": 10800, "EST": -18000, "EDT": -14400, "CST": -21600, "CDT": -18000,
    "MST": -25200, "MDT": -21600, "PST": -28800, "PDT": -25200,
}  # fmt: skip


# Month names, one language (or spelling) a line, January to December.
_MONTH_LINES = (
    "jan feb mar apr may jun jul aug sep oct nov dec",
    "january february march april may june july august september october november december",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "jänner feber maerz apr mai jun jul aug sept okt nov dez",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "janv fevrier mars avr mai juin juil aout sept octobre novembre decembre",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "ene feb mar abr may jun jul agosto sep oct nov dic",
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "genn feb mar apr mag giu lug agosto sett ott nov dic",
    "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "januari februari maart april mei juni juli augustus september oktober november december",
    "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada"
    " grudnia",
    "styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad"
    " grudzień",
)


class _Months(dateparser.parserinfo):
    """dateutil's names of months and days, with those of the languages of the sites we
    read: "4. März 2021" is 4 March, where dateutil alone reads "4 2021" as April."""

    MONTHS = [
        tuple(dict.fromkeys(names))
        for names in zip(*(x.split() for x in _MONTH_LINES), strict=True)
    ]
    JUMP = [*dateparser.parserinfo.JUMP, "de", "del", "um", "le", "à", "alle", "ore", "r."]


_MONTH_NAMES = _Months()


def _zones(tz: tzinfo):
    """dateutil's tzinfos for a page of a site in zone tz."""

    def zone(name: str | None, offset: int | None) -> tzinfo | int:
        # dateutil asks for every date, with neither a name nor an offset for most.
        if offset is not None:
            return offset
        return _ZONES.get(name.upper(), tz) if name else tz

    return zone


def parse_date(value: str | None, tz: tzinfo) -> datetime | None:
    """Parse a declared date; a date written without an offset is read in the site's zone.

    A value that names no whole day ("Tuesday", "2024", "10:30") is no date: none is made
    up from today's."""
    value = clean(value)
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        dt = _whole_day(value, tz, fuzzy=False)
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt if _usable(dt) else None


def parse_visible_date(text: str, tz: tzinfo) -> datetime | None:
    """A date shown to readers ("September 17, 2023"): midnight in the site's zone."""
    text = clean(text)
    if not text or not re.search(r"\d{4}", text) or len(text) > 60:
        return None
    dt = _whole_day(text, tz, fuzzy=True)
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = datetime.combine(dt.date(), dt.time() or time(0), tzinfo=tz)
    return dt if _usable(dt) else None


# Two days that share no part: a part of a parsed date that differs between them came from
# the default, not from the text.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
# "GMT+3", "UTC-05:30": POSIX reads the sign the other way round, pages mean it as written.
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d\d))?\b")


def _whole_day(text: str, tz: tzinfo, fuzzy: bool) -> datetime | None:
    """dateutil's reading of a text when it gives a year, a month and a day, else None."""
    text = _GMT_OFFSET.sub(lambda m: f"{m[1]}{int(m[2]):02d}:{m[3] or '00'}", text)
    found, zones, dayfirst = [], _zones(tz), _dayfirst(text, tz)
    for default in _DEFAULTS:
        try:
            found.append(
                dateparser.parse(
                    text,
                    _MONTH_NAMES,
                    fuzzy=fuzzy,
                    default=default,
                    dayfirst=dayfirst,
                    tzinfos=zones,
                )
            )
        except (ValueError, OverflowError, TypeError):
            return None
    first, second = found
    if first is None or second is None or first.date() != second.date():
        return None
    return first


def _usable(dt: datetime) -> bool:
    """False for a date whose offset no clock has (+25:00) or that cannot be put in UTC."""
    try:
        dt.utcoffset()
        dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


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


# JSON-LD is written by hand and by plugins: any value may be a string, a number, a list
# or an object. Every read below checks the shape it gets, so an odd page costs a field,
# never the run.
_MAX_DEPTH = 20


def _walk(node: Any, listed: bool = False, depth: int = 0):
    """Every object of a JSON-LD document with whether it sits in an ItemList: (node,
    listed). The lists are other stories (related, most read), not the page's own."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for x in node:
            yield from _walk(x, listed, depth + 1)
    elif isinstance(node, dict):
        yield node, listed
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in node:
                yield from _walk(node[key], listed or key == "itemListElement", depth + 1)


def _types(node: dict) -> set[str]:
    t = node.get("@type", [])
    return {str(x).lower() for x in (t if isinstance(t, list) else [t])}


def _text(value: Any, depth: int = 0) -> str:
    """A JSON-LD value as one text: a list gives its first text, an object its @value or
    name ("headline": ["A", "B"] is "A", not "['A', 'B']")."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, bool) or value is None or depth > _MAX_DEPTH:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return next((t for v in value if (t := _text(v, depth + 1))), "")
    if isinstance(value, dict):
        return _text(value.get("@value") or value.get("name"), depth + 1)
    return ""


def _link(value: Any, depth: int = 0) -> str | None:
    """A JSON-LD URL value as one string: a list gives its first, an object its @id or url."""
    if isinstance(value, str):
        return value.strip() or None
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, list):
        return next((u for v in value if (u := _link(v, depth + 1))), None)
    if isinstance(value, dict):
        return _link(value.get("@id"), depth + 1) or _link(value.get("url"), depth + 1)
    return None


def _ref(value: dict, ids: dict[str, dict]) -> dict:
    """The full node an {"@id": …} reference points at, else the reference itself."""
    ref = value.get("@id")
    return ids.get(ref, value) if isinstance(ref, str) else value


def _name(value: Any, ids: dict[str, dict], depth: int = 0) -> list[str]:
    if depth > _MAX_DEPTH:
        return []
    if isinstance(value, list):
        return [n for v in value for n in _name(v, ids, depth + 1)]
    if isinstance(value, dict):
        if "name" not in value:
            value = _ref(value, ids)
        name = _text(value.get("name"))
        return [name] if name else []
    name = clean(value) if isinstance(value, str) else ""
    return [name] if name and not name.startswith("http") else []


def _url(value: Any, ids: dict[str, dict]) -> tuple[str | None, str | None]:
    """(url, caption) of a schema.org image-ish value."""
    if isinstance(value, list):
        return _url(value[0], ids) if value else (None, None)
    if isinstance(value, dict):
        if "url" not in value and "contentUrl" not in value:
            value = _ref(value, ids)
        url = _link(value.get("url")) or _link(value.get("contentUrl"))
        return url, _text(value.get("caption")) or None
    return _link(value), None


def _json_ld(doc: etree._Element) -> list[tuple[dict, bool]]:
    nodes: list[tuple[dict, bool]] = []
    for script in doc.iterfind('.//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        raw = re.sub(r"^\s*(?://)?\s*<!\[CDATA\[|(?://)?\s*\]\]>\s*$", "", raw)
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):
            continue
        nodes.extend(_walk(data))
    return nodes


def _page_key(url: str | None, base: str | None) -> str | None:
    """A URL reduced to what names a page: host, path without its trailing slash, query."""
    full = canonical_url(url, base) if url else None
    if not full:
        return None
    parts = urlsplit(full)
    host = parts.netloc[4:] if parts.netloc.startswith("www.") else parts.netloc
    return f"{host}{parts.path.rstrip('/')}?{parts.query}"


def _own_article(
    nodes: list[tuple[dict, bool]], doc: etree._Element, page_url: str | None
) -> dict | None:
    """The page's own Article node: the one whose url, mainEntityOfPage or @id is the page
    (its address or its canonical), else the first not listed in an ItemList of other
    stories. A page whose only articles are listed (a listing page) has none."""
    articles = [(n, listed) for n, listed in nodes if _types(n) & ARTICLE_TYPES]
    canonical = doc.xpath('.//link[@rel="canonical"]/@href')
    pages = {_page_key(u, page_url) for u in [page_url, *canonical[:1]]} - {None}
    for node, _ in articles:
        names = (node.get("url"), node.get("mainEntityOfPage"), node.get("@id"))
        if pages & {_page_key(_link(v), page_url) for v in names}:
            return node
    return next((n for n, listed in articles if not listed), None)


def read_declared(doc: etree._Element, page_url: str | None = None) -> Declared:
    """Read JSON-LD first, then OpenGraph / article meta, filling only what is still missing.

    page_url (the address the page was fetched from) picks the page's own Article node
    when the JSON-LD also describes other stories.
    """
    d = Declared()
    nodes = _json_ld(doc)
    ids = {n["@id"]: n for n, _ in nodes if isinstance(n.get("@id"), str)}
    art = _own_article(nodes, doc, page_url)
    d.json_ld = bool(nodes)
    if art:
        d.article = d.ld_article = True
        d.headline = _text(art.get("headline")) or _text(art.get("name"))
        d.description = _text(art.get("description"))
        d.published = _text(art.get("datePublished")) or _text(art.get("dateCreated")) or None
        d.modified = _text(art.get("dateModified")) or None
        d.authors = _name(art.get("author"), ids)
        d.section = _text(art.get("articleSection"))
        kw = art.get("keywords")
        if isinstance(kw, str):
            d.tags = [clean(k) for k in kw.split(",") if clean(k)]
        elif isinstance(kw, list):
            d.tags = [t for k in kw if (t := _text(k))]
        d.image, d.image_caption = _url(art.get("image"), ids)
        d.url = _link(art.get("url")) or _link(art.get("mainEntityOfPage"))
        d.site_name = (_name(art.get("publisher"), ids) or [""])[0]
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


def declared_site_name(doc: etree._Element) -> tuple[str, str]:
    """(name, where it was declared) of the site a page belongs to: its og:site_name, else
    the name of a JSON-LD WebSite node; ("", "") when it declares neither."""
    for m in doc.iterfind(".//meta"):
        key = (m.get("property") or m.get("name") or "").strip().lower()
        if key == "og:site_name" and (name := clean(m.get("content"))):
            return name, "og:site_name"
    for node, _ in _json_ld(doc):
        if "website" in _types(node) and (name := _text(node.get("name"))):
            return name, "JSON-LD WebSite"
    return "", ""
