"""RSS 2.0 and Atom 1.0 bytes through feedgen, with its known traps worked around.

feedgen 1.0.0 traps, each handled here and checked by the tests on the output:
- its Atom entries drop rel, type, length and title from every link (upstream
  lkiesow/python-feedgen#135): `_Entry.atom_entry` writes the links again, properly;
- `add_entry` prepends by default: entries are appended, in our explicit order;
- `updated` defaults to now: every date is set from the stories, never left to feedgen;
- RSS takes the *last* link as the channel's <link>: the self link goes first.
"""

from __future__ import annotations

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.feeds.document import Channel, Entry

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "http://search.yahoo.com/mrss/"
DC = "http://purl.org/dc/elements/1.1/"


class _Entry(FeedEntry):
    """A feedgen entry whose Atom links keep their attributes, with our extra elements."""

    def __init__(self, entry: Entry) -> None:
        super().__init__()
        self.ours = entry

    def atom_entry(self, extensions: bool = True):
        # feedgen builds Atom without namespaces on the elements (the root carries a literal
        # xmlns attribute), so our elements are plain "link" too.
        element = super().atom_entry(extensions)
        for link in element.findall("link"):
            element.remove(link)
        e = self.ours
        _sub(element, "link", rel="alternate", type="text/html", href=e.url)
        if e.image is not None:
            attrs = {"rel": "enclosure", "type": e.image.type, "href": e.image.url}
            if e.image.length:
                attrs["length"] = str(e.image.length)
            _sub(element, "link", **attrs)
        for r in e.related:
            if r.url:
                title = f"{r.title} (external)" if r.external else r.title
                _sub(element, "link", rel="related", href=r.url, title=title)
        return element

    def rss_entry(self, extensions: bool = True):
        element = super().rss_entry(extensions)
        e = self.ours
        if e.author:
            _sub(element, f"{{{DC}}}creator").text = e.author
        if e.image is not None:
            # media:content carries the image for readers that ignore enclosures, and
            # its caption; it needs no length, so it is there even when none is known.
            media = _sub(element, f"{{{MEDIA}}}content", url=e.image.url, medium="image")
            media.set("type", e.image.type)
            if e.image.caption:
                _sub(media, f"{{{MEDIA}}}description").text = e.image.caption
        return element


def _sub(parent, tag: str, **attrs: str):
    return etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})


def _after_self(parent, tag: str, hub: str) -> None:
    """Put the hub link beside the self link: metadata after the entries is invalid Atom
    (and misplaced in RSS), so it cannot simply be appended."""
    selfs = [i for i, el in enumerate(parent) if el.tag == tag and el.get("rel") == "self"]
    link = etree.Element(tag, rel="hub", href=hub)
    parent.insert(selfs[0] + 1 if selfs else 0, link)


def _generator(channel: Channel, fmt: str) -> FeedGenerator:
    fg = FeedGenerator()
    self_url = channel.self_urls[fmt]
    fg.id(self_url)
    fg.title(channel.title)
    fg.subtitle(channel.description or channel.title)  # also RSS's <description>
    fg.link(href=self_url, rel="self", type=_TYPES[fmt])
    fg.link(href=channel.link, rel="alternate", type="text/html")  # last: RSS's <link>
    fg.language(channel.language)
    name, _, version = channel.generator.partition(" ")
    fg.generator(name, version=version or None)
    fg.author({"name": channel.author})
    fg.updated(channel.updated)
    fg.lastBuildDate(channel.updated)
    if channel.icon:
        fg.icon(channel.icon)
    if channel.logo:
        fg.logo(channel.logo)
        fg.image(channel.logo, title=channel.title, link=channel.link)
    for e in channel.entries:
        fe = _Entry(e)
        fe.id(e.id)
        fe.guid(e.id, permalink=True)
        fe.title(e.title)
        fe.link(href=e.url, rel="alternate")
        fe.updated(e.updated)
        if e.published:
            fe.published(e.published)
            fe.pubDate(e.published)
        if e.author:
            fe.author({"name": e.author})
        for c in e.categories:
            fe.category(term=c, label=c)
        if e.summary:
            fe.summary(e.summary)
            fe.description(e.summary)
        fe.content(e.content_html, type="html")
        if fmt == "rss" and e.image is not None and e.image.length:
            fe.enclosure(e.image.url, str(e.image.length), e.image.type)
        fg.add_entry(fe, order="append")
    return fg


_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


def rss_bytes(channel: Channel) -> bytes:
    """The channel as RSS 2.0 (content:encoded, dc:creator, media:content, enclosure)."""
    fg = _generator(channel, "rss")
    # The private builder gives the tree, so hub links and namespaces are added without
    # parsing feedgen's output again.
    root, _ = fg._create_rss()
    if channel.hub:
        _after_self(root.find("channel"), f"{{{ATOM}}}link", channel.hub)
    return _serialize(root, {"media": MEDIA, "dc": DC})


def atom_bytes(channel: Channel) -> bytes:
    """The channel as Atom 1.0 (related and enclosure links with their attributes)."""
    fg = _generator(channel, "atom")
    root, _ = fg._create_atom()
    if channel.hub:
        _after_self(root, "link", channel.hub)
    return _serialize(root, {})


def _serialize(root, extra_ns: dict[str, str]) -> bytes:
    if extra_ns:
        # Declare the extension namespaces once on the root, not on every element.
        nsmap = {**(root.nsmap or {}), **extra_ns}
        new = etree.Element(root.tag, root.attrib, nsmap=nsmap)
        new.text = root.text
        new.extend(list(root))
        root = new
        etree.cleanup_namespaces(root, top_nsmap=nsmap)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
