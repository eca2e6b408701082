"""The story's body as trafilatura reads it, turned back into HTML blocks we walk ourselves.

trafilatura finds the body's text better than our own container scoring on markup nobody
here wrote (measured on the real-page corpus, see bench/extract.py and the note of issue
13), but it returns text, not the story: no ALSO READ entries, no positions, no embeds. So
it only chooses the blocks. Its XML (p, head, list/item, quote, table/row/cell, hi, ref,
graphic) becomes ordinary HTML blocks in a <div>, which the extractor then reads exactly as
it reads a container of the page: the ALSO READ lines become CrossLinks, furniture lines
go, and body_html is built and sanitized by the same code.
"""

from __future__ import annotations

import logging

import lxml.html
import trafilatura
from lxml import etree

# trafilatura logs a warning for every page it finds too short or empty; the extractor
# reports such pages itself, in one line.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

# trafilatura's comparison of its reading with its readability and jusText fallbacks
# doubles its time; it pays on pages where its own reading comes out short (a teaser
# block, a few paragraphs of a long story), so it runs only there: a reading of fewer
# characters than this is read again with the fallbacks.
RECHECK_BELOW = 1000
BLOB_OVER = 3000

_BLOCK_TAGS = {"p": "p", "quote": "blockquote", "list": "ul", "item": "li", "table": "table"}
_CELL_TAGS = {"row": "tr", "cell": "td"}
_HEADS = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h5", "h6": "h6"}
_HTML = frozenset("tr td th thead tbody ul ol li blockquote pre a strong em b i br".split())
_INLINE = {"#b": "strong", "#i": "em", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}


def read(doc: etree._Element, url: str) -> etree._Element | None:
    """The story's body blocks as a <div>, or None when trafilatura finds no body.

    doc is left as it was (trafilatura prunes a copy of the tree it is given).
    Comments are left out: a reader's comment is not the story.
    """
    tree = _bare(doc, fast=True)
    if tree is None or _doubtful(tree):
        again = _bare(doc, fast=False)
        tree = again if again is not None else tree
    if tree is None or not "".join(tree.itertext()).strip():
        return None
    box = lxml.html.Element("div")
    for child in tree:
        converted = _convert(child)
        if converted is not None:
            box.append(converted)
    return box if len(box) else None


def _doubtful(tree: etree._Element) -> bool:
    """True for a reading worth a second look: short, or one block of thousands of
    characters (a page's menus and teasers run together with the story)."""
    sizes = [len("".join(child.itertext())) for child in tree]
    return sum(sizes) < RECHECK_BELOW or max(sizes, default=0) > BLOB_OVER


def _bare(doc: etree._Element, fast: bool) -> etree._Element | None:
    """trafilatura's XML body of a page, or None."""
    try:
        found = trafilatura.bare_extraction(
            doc,  # it reads a copy of a tree it is given (and prunes that)
            # Without the page's URL links stay as written: trafilatura resolves "../x/"
            # against the site's root, the extractor resolves them as a browser does.
            url=None,
            fast=fast,
            include_comments=False,
            include_links=True,
            include_formatting=True,
            # Pictures come with their captions, which are no body text (and read as page
            # chrome on the real-page corpus); body_html takes pictures from the page.
            include_images=False,
            with_metadata=False,
            # Any format but "python" spares the text rendering of its result we never read.
            output_format="xml",
        )
    except (ValueError, TypeError, etree.LxmlError, RecursionError):
        return None  # a tree it cannot read; the extractor's own reading takes over
    return getattr(found, "body", None)


def _convert(el: etree._Element) -> etree._Element | None:
    """One trafilatura element as HTML (its children converted too)."""
    tag = el.tag if isinstance(el.tag, str) else ""
    rend = el.get("rend") or ""
    if tag == "head":
        out = lxml.html.Element(_HEADS.get(rend, "h3"))
    elif tag in _BLOCK_TAGS:
        out = lxml.html.Element("ol" if tag == "list" and rend == "ol" else _BLOCK_TAGS[tag])
    elif tag in _CELL_TAGS:
        out = lxml.html.Element("th" if el.get("role") == "head" else _CELL_TAGS[tag])
    elif tag == "ref":
        out = lxml.html.Element("a")
        if el.get("target"):
            out.set("href", el.get("target"))
    elif tag == "hi":
        out = lxml.html.Element(_INLINE.get(rend, "span"))
    elif tag == "lb":
        out = lxml.html.Element("br")
    elif tag == "graphic":
        if not el.get("src"):
            return None
        out = lxml.html.Element("img", {"src": el.get("src")})
        if el.get("alt"):
            out.set("alt", el.get("alt"))
    elif tag == "code":
        out = lxml.html.Element("pre")
    elif tag in _HTML:
        # trafilatura passes some markup through as it found it (a <table> inside a <p>
        # keeps its <tr>s and <td>s).
        out = lxml.html.Element(tag)
        if tag == "a" and el.get("href"):
            out.set("href", el.get("href"))
    else:
        out = lxml.html.Element("span")
    out.text = el.text
    for child in el:
        converted = _convert(child)
        if converted is None:
            _append_text(out, child.tail)
            continue
        out.append(converted)
        converted.tail = child.tail
    if tag in ("list", "table") and not len(out):
        return None
    return out


def _append_text(el: etree._Element, text: str | None) -> None:
    """Add text at the end of el's content (after its last child, if any)."""
    if not text:
        return
    if len(el):
        el[-1].tail = (el[-1].tail or "") + text
    else:
        el.text = (el.text or "") + text
