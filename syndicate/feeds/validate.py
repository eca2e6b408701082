"""Check built feeds against the rules the W3C Feed Validation Service and readers apply.

RSS 2.0: required channel elements, RFC 822 dates, one atom:link rel="self", unique guids,
enclosures with an http URL, a positive length and a MIME type. Atom 1.0 (RFC 4287): id,
title and updated on the feed and every entry, RFC 3339 dates, one self link, an author
for every entry, unique ids. JSON Feed 1.1: version, title, items with unique ids and
content, RFC 3339 dates. In all three: content that stays inert (no script, no event
handlers, no javascript: URLs) and absolute links; and feedparser must read XML unbothered.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import lxml.html
from lxml import etree

from syndicate.errors import ConfigError

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

_DAY = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
RFC822 = re.compile(
    rf"^(?:{_DAY}, )?\d{{1,2}} {_MONTH} \d{{4}} \d{{2}}:\d{{2}}(?::\d{{2}})? "
    r"(?:[+-]\d{4}|GMT|UT|UTC|EST|EDT|CST|CDT|MST|MDT|PST|PDT)$"
)
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
MIME = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$", re.IGNORECASE)


def validate_dir(out: Path) -> tuple[int, list[str]]:
    """Check every feed file under ``out``; return (files checked, one line per problem)."""
    files = sorted(
        p
        for p in out.rglob("*")
        if p.suffix in (".rss", ".atom", ".json", ".opml")
        and p.is_file()
        and not p.name.startswith(".")  # the build's own manifest
    )
    if not files:
        raise ConfigError(f"{out}: no built feeds to check", "run 'syndicate feeds build' first")
    problems: list[str] = []
    for path in files:
        rel = path.relative_to(out).as_posix()
        checker = {".rss": check_rss, ".atom": check_atom, ".json": check_json_feed}.get(
            path.suffix, check_opml
        )
        problems += [f"{rel}: {p}" for p in checker(path.read_bytes())]
    return len(files), problems


def _xml(data: bytes, problems: list[str]):
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        problems.append(f"not well-formed XML ({exc})")
        return None


def _absolute(url: str | None) -> bool:
    """An absolute http(s) URI: an IRI (non-ASCII, spaces) is an error for validators."""
    if not url or not url.isascii() or any(c in url for c in ' <>"{}|\\^`'):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def inert_problems(html: str) -> list[str]:
    """What in an HTML fragment could run in a reader: scripts, handlers, javascript: URLs."""
    if not html.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, etree.ParserError):
        return ["content is not parseable HTML"]
    found = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in ("script", "iframe", "object", "embed", "form", "style", "base", "meta"):
            found.append(f"content has a <{el.tag}> element")
        for name, value in el.attrib.items():
            if name.lower().startswith("on"):
                found.append(f"content has an event handler ({name} on <{el.tag}>)")
            elif name in ("href", "src", "poster", "cite", "action"):
                scheme = value.strip().lower().split(":", 1)[0] if ":" in value else ""
                if scheme in ("javascript", "vbscript", "data"):
                    found.append(f"content has a {scheme}: URL in {name}")
                elif name in ("href", "src") and not scheme and not value.startswith("#"):
                    found.append(f"content has a relative URL {value!r} in {name}")
    return sorted(set(found))


def _bozo(data: bytes) -> list[str]:
    parsed = feedparser.parse(data)
    if parsed.bozo:
        return [f"feedparser cannot read it cleanly ({parsed.bozo_exception})"]
    return []


def check_rss(data: bytes) -> list[str]:
    """Problems of an RSS 2.0 document (empty when it is valid)."""
    problems: list[str] = []
    root = _xml(data, problems)
    if root is None:
        return problems
    if root.tag != "rss" or root.get("version") != "2.0":
        return ['the root element is not <rss version="2.0">']
    channel = root.find("channel")
    if channel is None:
        return ["no <channel>"]
    for name in ("title", "link", "description"):
        if not (channel.findtext(name) or "").strip():
            problems.append(f"channel: <{name}> is missing or empty")
    selfs = [x for x in channel.findall(f"{ATOM}link") if x.get("rel") == "self"]
    if len(selfs) != 1:
        problems.append(f'channel: {len(selfs)} atom:link rel="self"; there must be one')
    elif not _absolute(selfs[0].get("href")):
        problems.append("channel: the self link is not an absolute URL")
    for name in ("lastBuildDate", "pubDate"):
        value = channel.findtext(name)
        if value is not None and not RFC822.match(value.strip()):
            problems.append(f"channel: <{name}> {value!r} is not an RFC 822 date")
    problems += _misplaced(channel, "item", "channel")
    guids: set[str] = set()
    for i, item in enumerate(channel.findall("item"), 1):
        where = f"item {i}"
        if not (item.findtext("title") or item.findtext("description")):
            problems.append(f"{where}: neither <title> nor <description>")
        link = item.findtext("link")
        if link is not None and not _absolute(link.strip()):
            problems.append(f"{where}: <link> {link!r} is not an absolute URL")
        pub = item.findtext("pubDate")
        if pub is not None and not RFC822.match(pub.strip()):
            problems.append(f"{where}: <pubDate> {pub!r} is not an RFC 822 date")
        guid = item.find("guid")
        if guid is not None:
            value = (guid.text or "").strip()
            if value in guids:
                problems.append(f"{where}: guid {value!r} is used twice")
            guids.add(value)
            if guid.get("isPermaLink", "true") == "true" and not _absolute(value):
                problems.append(f"{where}: permalink guid {value!r} is not an absolute URL")
        enclosures = item.findall("enclosure")
        if len(enclosures) > 1:
            problems.append(f"{where}: {len(enclosures)} enclosures; RSS allows one")
        for enc in enclosures:
            if not _absolute(enc.get("url")):
                problems.append(f"{where}: enclosure url {enc.get('url')!r} is not http(s)")
            length = enc.get("length", "")
            if not length.isdigit() or int(length) <= 0:
                problems.append(f"{where}: enclosure length {length!r} is not a positive integer")
            if not MIME.match(enc.get("type", "")):
                problems.append(f"{where}: enclosure type {enc.get('type')!r} is not a MIME type")
        for text in (item.findtext(CONTENT), item.findtext("description")):
            problems += [f"{where}: {p}" for p in inert_problems(text or "")]
    return problems or _bozo(data)


def check_atom(data: bytes) -> list[str]:
    """Problems of an Atom 1.0 document (empty when it is valid)."""
    problems: list[str] = []
    root = _xml(data, problems)
    if root is None:
        return problems
    if root.tag != f"{ATOM}feed":
        return ["the root element is not an Atom <feed>"]
    problems += _atom_common(root, "feed")
    selfs = [x for x in root.findall(f"{ATOM}link") if x.get("rel") == "self"]
    if len(selfs) != 1:
        problems.append(f'feed: {len(selfs)} link rel="self"; there must be one')
    problems += _misplaced(root, f"{ATOM}entry", "feed")
    feed_author = root.find(f"{ATOM}author") is not None
    ids: set[str] = set()
    for i, entry in enumerate(root.findall(f"{ATOM}entry"), 1):
        where = f"entry {i}"
        problems += _atom_common(entry, where)
        value = (entry.findtext(f"{ATOM}id") or "").strip()
        if value in ids:
            problems.append(f"{where}: id {value!r} is used twice")
        ids.add(value)
        if not feed_author and entry.find(f"{ATOM}author") is None:
            problems.append(f"{where}: no <author>, and the feed has none")
        published = entry.findtext(f"{ATOM}published")
        if published is not None and not RFC3339.match(published.strip()):
            problems.append(f"{where}: <published> {published!r} is not an RFC 3339 date")
        alternates = [
            (x.get("type"), x.get("hreflang"))
            for x in entry.findall(f"{ATOM}link")
            if x.get("rel", "alternate") == "alternate"
        ]
        if len(alternates) != len(set(alternates)):
            problems.append(f"{where}: two alternate links with the same type and hreflang")
        for link in entry.findall(f"{ATOM}link"):
            if not _absolute(link.get("href")):
                problems.append(f"{where}: link href {link.get('href')!r} is not absolute")
            length = link.get("length")
            if length is not None and not length.isdigit():
                problems.append(f"{where}: link length {length!r} is not a number")
            if link.get("rel") == "enclosure" and not MIME.match(link.get("type", "")):
                problems.append(f"{where}: enclosure link without a MIME type")
        content = entry.find(f"{ATOM}content")
        if content is not None and content.get("type") == "html":
            problems += [f"{where}: {p}" for p in inert_problems(content.text or "")]
    return problems or _bozo(data)


def _misplaced(parent, entry_tag: str, where: str) -> list[str]:
    """Feed-level elements must come before the first entry (Atom: an error; RSS: readers
    that stream the document miss them)."""
    seen_entry = False
    for child in parent:
        if child.tag == entry_tag:
            seen_entry = True
        elif seen_entry and isinstance(child.tag, str):
            name = etree.QName(child).localname
            return [f"{where}: <{name}> comes after the entries; it must come before them"]
    return []


def _atom_common(el, where: str) -> list[str]:
    problems = []
    for name in ("id", "title", "updated"):
        if not (el.findtext(f"{ATOM}{name}") or "").strip():
            problems.append(f"{where}: <{name}> is missing or empty")
    updated = el.findtext(f"{ATOM}updated")
    if updated and not RFC3339.match(updated.strip()):
        problems.append(f"{where}: <updated> {updated!r} is not an RFC 3339 date")
    if len(el.findall(f"{ATOM}id")) > 1:
        problems.append(f"{where}: more than one <id>")
    return problems


def check_json_feed(data: bytes) -> list[str]:
    """Problems of a JSON Feed 1.1 document (empty when it is valid)."""
    try:
        feed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [f"not valid UTF-8 JSON ({exc})"]
    if not isinstance(feed, dict):
        return ["the top level is not an object"]
    problems = []
    if feed.get("version") != JSON_FEED_VERSION:
        problems.append(f"version is {feed.get('version')!r}, not {JSON_FEED_VERSION!r}")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("title is missing")
    for key in ("home_page_url", "feed_url", "icon", "favicon"):
        if key in feed and not _absolute(feed[key]):
            problems.append(f"{key} {feed[key]!r} is not an absolute URL")
    if "feed_url" not in feed:
        problems.append("feed_url is missing (readers need it to follow a moved feed)")
    items = feed.get("items")
    if not isinstance(items, list):
        return [*problems, "items is missing or not a list"]
    ids: set[str] = set()
    for i, item in enumerate(items, 1):
        where = f"item {i}"
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object")
            continue
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{where}: id must be a non-empty string")
        elif item["id"] in ids:
            problems.append(f"{where}: id {item['id']!r} is used twice")
        ids.add(item.get("id"))
        if not item.get("content_html") and not item.get("content_text"):
            problems.append(f"{where}: neither content_html nor content_text")
        for key in ("date_published", "date_modified"):
            if key in item and not RFC3339.match(str(item[key])):
                problems.append(f"{where}: {key} {item[key]!r} is not an RFC 3339 date")
        for key in ("url", "external_url", "image", "banner_image"):
            if key in item and not _absolute(item[key]):
                problems.append(f"{where}: {key} {item[key]!r} is not an absolute URL")
        for att in item.get("attachments", []):
            if not _absolute(att.get("url")) or not att.get("mime_type"):
                problems.append(f"{where}: an attachment needs an absolute url and a mime_type")
        problems += [f"{where}: {p}" for p in inert_problems(item.get("content_html") or "")]
    return problems


def check_opml(data: bytes) -> list[str]:
    """Problems of the OPML index: well-formed, version 2.0, every feed with an xmlUrl."""
    problems: list[str] = []
    root = _xml(data, problems)
    if root is None:
        return problems
    if root.tag != "opml" or root.find("body") is None:
        return ["not an OPML document with a <body>"]
    for outline in root.iter("outline"):
        if outline.get("type") == "rss" and not _absolute(outline.get("xmlUrl")):
            problems.append(f"outline {outline.get('text')!r}: xmlUrl is not an absolute URL")
    return problems
