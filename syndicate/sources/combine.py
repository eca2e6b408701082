"""Two readings of one story's body, ours and trafilatura's, made into one.

Our own reading (body.find_container and its blocks) knows the page's structure: ALSO READ
entries with their places, pictures and allowed embeds, what is a lede or a byline. The
reading of trafilatura (reader.read) finds the body's text more often on markup nobody here
wrote. So: furniture the page marks as such is taken out of trafilatura's reading; when
both readings hold the same story ours is kept whole; otherwise trafilatura's paragraphs are
kept and our ALSO READ entries are placed among them.
"""

from __future__ import annotations

import re

from lxml import etree

from syndicate.models import CrossLink
from syndicate.sources import body
from syndicate.sources.html import BLOCKS, ancestors, text_of

# The blocks of a page a reading's paragraph is looked up among.
_LEAVES = ("p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "td", "th", "div", "span")
_READ_BLOCKS = ("p", "li", "h2", "h3", "h4", "blockquote")


def drop_furniture(reading: etree._Element, doc: etree._Element) -> etree._Element | None:
    """Take out of a reading the blocks that the page itself marks as furniture or as the
    story's metadata: a paragraph whose every copy on the page is a lede, caption or byline
    (kept as fields, not as text), sits in a comments box, a share bar, an <aside> or a
    social-media embed; and a short block that is a byline or a date.

    Returns the story's region on the page: the smallest element holding nine tenths of
    the text of the blocks kept (found by their copies), or None when none was found.

    A box counts as furniture only when it is smaller than half the story: themes put
    "share" or "social" on the wrapper of the whole story too ("entry themeform share").
    """
    wanted: dict[str, list[etree._Element]] = {}
    for block in reading.iter(_READ_BLOCKS):
        if text := text_of(block):
            wanted.setdefault(text, [])
    if not wanted:
        return None
    for el in doc.iter(_LEAVES):
        # A block holding other blocks is no paragraph's copy (and reading all of its
        # text for each such wrapper would cost the square of the page).
        if ((el.text and el.text.strip()) or len(el) == 0) and not any(
            isinstance(c.tag, str) and c.tag in BLOCKS for c in el
        ):
            text = text_of(el)
            if text in wanted:
                wanted[text].append(el)
    story = len(" ".join(wanted))
    sizes: dict[etree._Element, int] = {}
    furniture = {
        text
        for text, copies in wanted.items()
        if copies and all(_is_furniture_block(el, story, sizes) for el in copies)
    }
    kept: list[tuple[etree._Element, int]] = []
    for block in list(reading.iter(_READ_BLOCKS)):
        text = text_of(block)
        if block.getparent() is not None and (text in furniture or _meta_line(block, text)):
            block.drop_tree()
        elif wanted.get(text):
            kept.append((wanted[text][0], len(text)))
    return _region(kept)


def _region(copies: list[tuple[etree._Element, int]]) -> etree._Element | None:
    """The deepest element holding nine tenths of the text of copies (element, length)."""
    if not copies:
        return None
    held: dict[etree._Element, int] = {}
    depth: dict[etree._Element, int] = {}
    for el, size in copies:
        chain = [el, *ancestors(el)]
        for i, a in enumerate(chain):
            held[a] = held.get(a, 0) + size
            depth[a] = len(chain) - i
    total = sum(size for _, size in copies)
    enough = [a for a, size in held.items() if size >= 0.9 * total]
    if not enough:
        return None
    region = max(enough, key=depth.__getitem__)
    # One paragraph is no region: the box around it is (its paragraphs get split there).
    while region.tag in _NOT_REGIONS and region.getparent() is not None:
        region = region.getparent()
    return region


_NOT_REGIONS = frozenset("p li h1 h2 h3 h4 h5 h6 td th dd dt span a strong em b i u".split())


def _meta_line(block: etree._Element, text: str) -> bool:
    """True for a short block that is the story's byline or date ("By Jane Roe")."""
    if len(text) > 80:
        return False
    authored = any(
        a.get("rel") == "author" or "/author/" in (a.get("href") or "") for a in block.iter("a")
    )
    return authored or bool(body.META_LINE.match(text))


def _is_furniture_block(el: etree._Element, story: int, sizes: dict[etree._Element, int]) -> bool:
    """True when el is the story's metadata or sits in a furniture box smaller than half
    the story (sizes caches each box's text length)."""
    if body.is_chrome(el) and el.tag not in ("div", "span", "td", "th"):
        return True
    for a in ancestors(el):
        if body.is_embed(a):
            return True  # a social post quoted whole: someone else's words
        if body.is_region(a):
            return False
        if body.is_furniture(a) or a.tag in ("figure", "figcaption"):
            size = sizes.get(a)
            if size is None:
                size = sizes[a] = len("".join(a.itertext()))
            if size < story / 2:
                return True
    return False


def agree(own: list[str], read: list[str]) -> bool:
    """True when our own reading of a body holds the same story as trafilatura's, within
    the region trafilatura found it in: one holds every paragraph of the other and little
    more (a headline or byline it merged into a paragraph, loose text it missed)."""
    if not own or not read:
        return False
    if _within(own, read, 0.1):
        return True
    # Ours holds more: kept when what it adds reads as the story's prose (loose text
    # between paragraphs), not as a line of furniture, which is what it is on most pages.
    whole = " ".join(read)
    extra = [x for x in own if x not in whole]
    return _within(read, own, 0.1) and all(_PROSE.search(x) and len(x) >= 60 for x in extra)


# A sentence's end: what a paragraph of prose ends with.
_PROSE = re.compile(r"[.!?…。][\"'”»)]*$")


def _within(small: list[str], large: list[str], share: float) -> bool:
    """True when nearly every paragraph of small is in large, and large has at most
    share of its text (or 150 characters) more."""
    whole = " ".join(large)
    found = sum(len(x) for x in small if x in whole)
    total = sum(len(x) for x in small)
    return found >= 0.95 * total and len(whole) - found <= max(share * len(whole), 150)


def place_links(
    own_paragraphs: list[str],
    own_links: list[CrossLink],
    paragraphs: list[str],
    read_links: list[CrossLink],
) -> list[CrossLink]:
    """The ALSO READ entries of the page's own markup, placed among paragraphs (the body
    as trafilatura read it), then those only the reading found.

    trafilatura drops the boxes news sites set ALSO READ lines in ("inline-related"), so
    the entries come from the page's container; each keeps its place after the paragraph
    it followed there, found again in the reading by its text.
    """
    index = {text: i for i, text in enumerate(paragraphs)}
    placed: list[CrossLink] = []
    for link in own_links:
        after = link.after_paragraph
        before = own_paragraphs[after - 1] if 0 < after <= len(own_paragraphs) else None
        if before is None:
            link.after_paragraph = 0 if after == 0 else len(paragraphs)
        elif before in index:
            link.after_paragraph = index[before] + 1
        else:
            link.after_paragraph = min(after, len(paragraphs))
        placed.append(link)
    seen = {c.href for c in placed} | {c.label.casefold() for c in placed}
    placed += [c for c in read_links if c.href not in seen and c.label.casefold() not in seen]
    return sorted(placed, key=lambda c: c.after_paragraph)
