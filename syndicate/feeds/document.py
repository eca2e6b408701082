"""The neutral form of a feed: a channel and its entries, made from stored stories.

Every format (RSS, Atom, JSON Feed) is written from this one form, so the three carry the
same stories, dates, links and content. Its JSON dump is also the feed's fingerprint:
when it has not changed, neither have the files.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import lxml.html
import nh3
from lxml import etree

from syndicate.models import Story

# What a feed reader may render from a story body. Anything else (script, style, forms,
# iframes, event handlers, javascript: URLs) is dropped here, whatever the store holds.
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div",
    "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "picture", "pre", "q", "s", "small", "source",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
    "tr", "u", "ul", "video", "audio",
}  # fmt: skip
_ATTRS = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "source": {"src", "srcset", "type", "media"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
_SCHEMES = {"http", "https", "mailto"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# What image servers said of each image URL: (MIME type, size in bytes), either unknown.
Media = dict[str, tuple[str | None, int | None]]


@dataclass
class Related:
    """One ALSO READ link of an entry."""

    title: str
    url: str | None
    external: bool


@dataclass
class Enclosure:
    """The lead image: its type always, its size in bytes when the server said."""

    url: str
    type: str
    length: int | None = None
    caption: str | None = None


@dataclass
class Entry:
    """One story as every feed format carries it."""

    id: str  # the canonical URL
    url: str
    title: str
    published: datetime | None
    updated: datetime
    author: str | None
    categories: list[str]
    summary: str
    content_html: str
    image: Enclosure | None
    related: list[Related] = field(default_factory=list)


@dataclass
class Channel:
    """What a feed says about itself."""

    title: str
    description: str
    link: str  # the site's home page
    self_urls: dict[str, str]  # format → the absolute URL of this feed in that format
    language: str
    generator: str
    author: str
    updated: datetime
    logo: str | None = None
    icon: str | None = None
    hub: str | None = None
    entries: list[Entry] = field(default_factory=list)


def entry_for(story: Story, full: bool, media: Media) -> Entry:
    """One stored story as a feed entry; ``media`` holds probed (type, length) by image URL."""
    related = [
        Related(text(c.label), uri(c.target_url or c.href), c.external)
        for c in story.also_read
        if c.label or c.target_url or c.href
    ]
    image = None
    if story.image:
        probed_type, length = media.get(story.image.url, (None, None))
        guessed = mimetypes.guess_type(story.image.url.split("?")[0])[0]
        image = Enclosure(
            uri(story.image.url) or story.image.url,
            probed_type or guessed or "image/jpeg",
            length,
            text(story.image.caption) or None,
        )
    summary = text(story.summary or (story.body_text[0] if story.body_text else ""))
    url = uri(story.url) or story.url
    title = text(story.title) or url
    content = content_html(story, full, image, related)
    if not content.strip():  # nothing gathered but a title: still something to read
        content = f'<p><a href="{escape(url)}">{escape(title)}</a></p>'
    return Entry(
        id=url,
        url=url,
        title=title,
        published=_seconds(story.published),
        updated=_seconds(story.modified or story.published or story.first_seen or EPOCH),
        author=text(story.author) or None,
        categories=[text(c) for c in _categories(story) if text(c)],
        summary=summary,
        content_html=content,
        image=image,
        related=related,
    )


# Characters XML 1.0 cannot carry at all (C0 controls but tab, CR, LF; lone surrogates;
# U+FFFE/U+FFFF). One in a stored title would make lxml refuse the whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: str | None) -> str:
    """A string as a feed may carry it: XML-safe, on one line."""
    return " ".join(_NOT_XML.sub(" ", value).split()) if value else ""


def uri(url: str | None) -> str | None:
    """An IRI as a URI: non-ASCII and spaces percent-encoded, the host in IDNA.

    Feed ids, links and enclosures must be URIs (the W3C validator calls an IRI there an
    error); what is already encoded stays as it is.
    """
    if not url:
        return None
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        netloc = parts.netloc.replace(host, host.encode("idna").decode("ascii"))
        parts = parts._replace(netloc=netloc)
    safe = "/:@!$&'()*+,;=-._~%"
    return urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            quote(parts.path, safe=safe),
            quote(parts.query, safe=safe + "?"),
            quote(parts.fragment, safe=safe + "?"),
        )
    )


def _seconds(when: datetime | None) -> datetime | None:
    """A time to the second: what RSS can say, so every format says the same."""
    return when.replace(microsecond=0) if when else None


def _categories(story: Story) -> list[str]:
    names = [story.section_name or story.section or "", *story.tags]
    return list(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def content_html(story: Story, full: bool, image: Enclosure | None, related: list[Related]) -> str:
    """The entry's HTML: lead image, body (or summary), then the "Also read" list.

    Links and sources are made absolute against the story's URL, then everything is
    sanitized again: story HTML is untrusted and must stay inert in any reader.
    """
    parts = []
    if image is not None:
        caption = f"<figcaption>{escape(image.caption)}</figcaption>" if image.caption else ""
        alt = escape(image.caption or story.title)
        parts.append(f'<figure><img src="{escape(image.url)}" alt="{alt}">{caption}</figure>')
    if full and story.body_html.strip():
        parts.append(_absolute(story.body_html, story.url))
    elif story.summary or story.body_text:
        parts.append(f"<p>{escape(story.summary or story.body_text[0])}</p>")
    if related:
        items = []
        for r in related:
            mark = " <small>(external)</small>" if r.external else ""
            label = escape(r.title or r.url or "")
            item = f'<a href="{escape(r.url)}">{label}</a>' if r.url else label
            items.append(f"<li>{item}{mark}</li>")
        parts.append(f"<h3>Also read</h3><ul>{''.join(items)}</ul>")
    return nh3.clean(
        _NOT_XML.sub(" ", "".join(parts)),
        tags=_TAGS,
        attributes=_ATTRS,
        url_schemes=_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    )


def _absolute(fragment: str, base: str) -> str:
    """Make every link and source in an HTML fragment absolute; embeds become links."""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, etree.ParserError):
        return ""
    root.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    for el in root.iter("source", "img", "video"):
        # Attributes make_links_absolute does not know.
        if el.get("poster"):
            el.set("poster", urljoin(base, el.get("poster")))
        if el.get("srcset"):
            el.set("srcset", _absolute_srcset(el.get("srcset"), base))
    for frame in list(root.iter("iframe", "embed", "object")):
        # Readers drop frames (and validators call them a risk); a link still leads there.
        src = frame.get("src") or frame.get("data")
        link = lxml.html.Element("p")
        if src and src.startswith(("http://", "https://")):
            a = etree.SubElement(link, "a", href=src)
            a.text = "Embedded content"
        link.tail = frame.tail
        frame.getparent().replace(frame, link)
    html = lxml.html.tostring(root, encoding="unicode")
    return html[len("<div>") : -len("</div>")]


def _absolute_srcset(srcset: str, base: str) -> str:
    """Each candidate URL of a srcset made absolute, its width or density kept."""
    out = []
    for candidate in srcset.split(","):
        bits = candidate.split()
        if bits:
            out.append(" ".join([urljoin(base, bits[0]), *bits[1:]]))
    return ", ".join(out)
