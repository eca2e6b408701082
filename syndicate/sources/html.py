"""HTML parsing and text helpers shared by the extractor and the link finder."""

from __future__ import annotations

import codecs
import re
import unicodedata
from html import escape
from html.parser import HTMLParser

import lxml.html
from lxml import etree

# Elements whose text is never what a reader reads as the story.
INVISIBLE = frozenset(
    (
        "script style noscript template svg iframe object embed button select textarea "
        "input head title "
    ).split()
)
# Elements that end a line of text when rendered.
BLOCKS = frozenset(
    (
        "p div li ul ol h1 h2 h3 h4 h5 h6 blockquote figure figcaption section article "
        "header footer table tr td th pre dd dt aside nav main br hr "
    ).split()
)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.I)


# Characters that are never seen: a soft hyphen shows only where a line breaks, and the
# zero-width space, word joiner and a BOM inside the text show not at all. Left in, they
# split words for search, snippets and feed readers ("Ita\xadliens").
_UNSEEN = re.compile("[\u00ad\u200b\u2060\ufeff]")


def norm(text: str | None) -> str:
    """Whitespace-normalise text the way readers see it (NBSP counts as a space, a soft
    hyphen or a zero-width space as nothing)."""
    if not text:
        return ""
    if not text.isascii():
        if _UNSEEN.search(text):  # rare; str.translate on every text costs a tenth of a read
            text = _UNSEEN.sub("", text)
        # One spelling of each letter (a page written in decomposed Bengali or accents
        # matches searches and snippets in the composed form everyone types).
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


# Byte-order marks and the encodings they announce, longest first (UTF-32 LE starts
# like UTF-16 LE).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(body: bytes, header_charset: str | None) -> str:
    """Decode a page: a byte-order mark, else the HTTP charset, else the page's
    <meta charset>, else UTF-8.

    A BOM wins over the header, as browsers do (the HTML standard's encoding sniffing):
    servers often send a default charset that the file itself contradicts.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    charset = header_charset
    if not charset:
        m = _META_CHARSET.search(body[:4096])
        charset = m.group(1).decode("ascii") if m else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse(text: str) -> lxml.html.HtmlElement:
    """Parse a (possibly broken or truncated) HTML document into an lxml tree."""
    # Comments can be megabytes of padding; they carry nothing we read.
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, recover=True)
    # Every element an HtmlElement, chosen in C: lxml.html's own lookup calls Python for
    # each element proxy (a fifth of the extractor's time), to give <form>s and <input>s
    # classes of their own that nothing here uses.
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement))
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    # Control characters and lone surrogates (a page in a broken encoding) are no text;
    # lxml parses them but refuses them when the tree is edited.
    text = _NOT_TEXT.sub("", text)
    try:
        doc = lxml.html.document_fromstring(text, parser=parser)
        if any("Excessive depth" in e.message for e in parser.error_log):
            # libxml2 stops reading at 256 open elements and drops the rest of the page
            # (a story under 10,000 wrappers would be lost): read it again with the
            # wrappers beyond a sane depth taken out, their contents kept.
            try:
                flat = flatten(text, MAX_DEPTH)
            except Exception:  # noqa: BLE001 - Python's HTMLParser asserts on odd markup
                flat = None  # then the page is what libxml2 read of it
            if flat is not None:
                doc = lxml.html.document_fromstring(flat, parser=parser)
    except (etree.ParserError, ValueError):
        doc = lxml.html.document_fromstring("<html><body></body></html>")
    _mark_story_articles(doc)
    return doc


# Elements whose whole subtree no reading of the body looks into: scripts (but JSON-LD,
# where trafilatura finds an articleBody when the page shows none), styles, templates and
# inline drawings (an SVG icon is dozens of <path>s).
_INERT = ("script", "style", "template", "svg")
_JSON_LD = "application/ld+json"


def drop_inert(doc: etree._Element) -> None:
    """Remove scripts, styles, templates and SVG drawings from the tree, their tails kept
    (JSON-LD stays).

    Neither reading of the body looks inside them, but both pay for them: trafilatura
    copies and prunes the whole tree, our walks step over them element by element."""
    for el in list(doc.iter(*_INERT)):
        parent = el.getparent()
        if parent is None or (el.tag == "script" and el.get("type") == _JSON_LD):
            continue
        if el.tail:
            prev = el.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)


# Deeper than any page a person reads, and well inside libxml2's 256 and Python's recursion
# limit for the tree walks here.
MAX_DEPTH = 180
_VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
_RAW = frozenset(("script", "style"))
_SHAPE = frozenset(
    "article main p h1 h2 h3 h4 h5 h6 a ul ol li blockquote figure figcaption table tr td th "
    "pre strong em b i time".split()
)
_SHAPE_ROOM = 40


class _Flattener(HTMLParser):
    """Re-write markup with the start and end tags beyond a depth left out."""

    def __init__(self, depth: int) -> None:
        super().__init__(convert_charrefs=True)
        self.depth, self.out, self.stack = depth, [], []  # stack: (tag, written, beyond)
        self.written = 0  # how many of the open elements were written
        self.deep: dict[str, int] = {}  # shape tags written beyond the depth, by name

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self.out.append(self.get_starttag_text() or "")
            return
        self._close_implied(tag)
        # Beyond the depth only the tags that give text its shape are written (a
        # paragraph, a heading, a link, an <article>), one of each name at a time, never
        # the wrappers around them, and nothing at all beyond a hard limit.
        open_ = self.written
        beyond = open_ >= self.depth
        written = (
            not beyond
            or (open_ < self.depth + _SHAPE_ROOM and tag in _SHAPE and not self.deep.get(tag))
            or tag in _RAW
        )
        if written:
            self.out.append(self.get_starttag_text() or "")
            self.written += 1
            if beyond:
                self.deep[tag] = self.deep.get(tag, 0) + 1
        elif tag in BLOCKS:
            self.out.append(" ")  # the edge of a block left out still parts its words
        self.stack.append((tag, written, beyond))

    def _close_implied(self, tag: str) -> None:
        """Close what a browser closes when tag opens: an open <p> before a block, the
        previous <li>, <td> or <tr> before another."""
        while self.stack:
            top = self.stack[-1][0]
            implied = (
                (top == "p" and tag in BLOCKS)
                or (top == tag and tag in _SELF_CLOSING)
                or (top in ("td", "th") and tag in ("td", "th", "tr"))
            )
            if not implied:
                return
            self._pop()

    def _pop(self) -> str:
        tag, written, beyond = self.stack.pop()
        if written:
            self.out.append(f"</{tag}>")
            self.written -= 1
            if beyond:
                self.deep[tag] -= 1
        elif tag in BLOCKS:
            self.out.append(" ")
        return tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _, _ in self.stack):
            return  # a stray end tag: nothing to close
        while self.stack and self._pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        raw = self.stack and self.stack[-1][0] in _RAW
        self.out.append(data if raw else escape(data, quote=False))

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def unknown_decl(self, data: str) -> None:
        pass  # a <![CDATA[ or marked section in HTML: no text of a page's story


# Tags that close an open one of their own name (a browser's implied end tags).
_SELF_CLOSING = frozenset("li p tr dd dt option".split())
# A "<" that no ">" follows before the next "<": Python's HTMLParser rescans the rest of the
# page for each one (minutes for a page of "<a <a <a …"), so it is escaped first.
_LONE_LT = re.compile(r"<(?=[^<>]*(?:<|$))")


def flatten(text: str, depth: int) -> str:
    """The markup with every element nested deeper than depth unwrapped (its text and
    children kept in place), so a parser with a depth limit reads all of it."""
    flattener = _Flattener(depth)
    flattener.feed(_LONE_LT.sub("&lt;", text))
    flattener.close()
    return "".join(flattener.out)


# Set on a top-level <article> that holds a headline or a schema.org articleBody: the
# story's own region (body.is_region), judged once here rather than on every ancestor walk.
STORY_ARTICLE = "data-syndicate-story"


def _mark_story_articles(doc: etree._Element) -> None:
    for article in doc.iter("article"):
        if next(article.iterancestors("article"), None) is not None:
            continue
        if article.find(".//h1") is not None or article.xpath(
            './/*[@itemprop="articleBody" or @property="articleBody"]'
        ):
            article.set(STORY_ARTICLE, "1")


def raw_text(el: etree._Element) -> str:
    """Visible text of an element as written (not normalised), <br> and block edges as spaces.

    Its tail is not included: that text belongs to the parent.
    """
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in INVISIBLE:
            return
        if tag in BLOCKS:
            parts.append(" ")
        if node.text and tag:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in BLOCKS:
            parts.append(" ")

    walk(el)
    return "".join(parts)


def text_of(el: etree._Element) -> str:
    """Visible text of an element: script-free, <br> and block edges as spaces, normalised."""
    return norm(raw_text(el))


# Class words that negate themselves ("no-share", "has-sidebar") say nothing about the element.
_NEGATED = ("no-", "no_", "has-", "has_", "with-", "with_", "without-")


def classes(el: etree._Element) -> str:
    """An element's class and id as one lower-cased string, for pattern checks."""
    cls, ident = el.get("class"), el.get("id")
    if not cls and not ident:
        return ""  # most elements: skip the string work, this runs for every ancestor
    words = f"{cls or ''} {ident or ''}".lower().split()
    return " ".join(w for w in words if not w.startswith(_NEGATED))


def ancestors(el: etree._Element, stop: etree._Element | None = None):
    """Yield the ancestors of an element, nearest first, up to (not including) stop."""
    node = el.getparent()
    while node is not None and node is not stop:
        yield node
        node = node.getparent()
