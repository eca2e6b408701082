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
from syndicate.sources.html import BLOCKS, STORY_ARTICLE, ancestors, norm, text_of

# The blocks of a page a reading's paragraph is looked up among.
_LEAVES = ("p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "td", "th", "div", "span")
_READ_BLOCKS = ("p", "li", "h2", "h3", "h4", "blockquote")
_START = 12


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
    # The first characters of each wanted paragraph: most elements of a page start with
    # none of them and are passed over without reading their whole text.
    starts = {text[:_START] for text in wanted}
    for el in doc.iter(_LEAVES):
        # A block holding other blocks is no paragraph's copy (and reading all of its
        # text for each such wrapper would cost the square of the page).
        first = el.text
        if not ((first and first.strip()) or len(el) == 0) or any(
            isinstance(c.tag, str) and c.tag in BLOCKS for c in el
        ):
            continue
        opening = norm(first)[:_START] if first else ""
        if len(opening) == _START and opening not in starts:
            continue
        text = text_of(el)
        if text in wanted:
            wanted[text].append(el)
    story = len(" ".join(wanted))
    sizes: dict[etree._Element, int] = {}
    grids: dict[etree._Element, bool] = {}
    furniture = {
        text
        for text, copies in wanted.items()
        if copies and all(_is_furniture_block(el, story, sizes, grids) for el in copies)
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


def _teaser(article: etree._Element, sizes: dict[etree._Element, int]) -> bool:
    """True for an <article> that is a teaser card: short, its first heading a link to
    its story."""
    h = next(article.iter("h1", "h2", "h3", "h4"), None)
    return h is not None and _size(article, sizes) <= 1000 and body.linked_heading(h)


def _is_furniture_block(
    el: etree._Element,
    story: int,
    sizes: dict[etree._Element, int],
    grids: dict[etree._Element, bool],
) -> bool:
    """True when el is the story's metadata or sits in a furniture box smaller than half
    the story (sizes caches each box's text length, grids whether it is a related grid)."""
    if body.is_chrome(el) and el.tag not in ("div", "span", "td", "th"):
        return True
    for a in ancestors(el):
        if body.is_embed(a):
            return True  # a social post quoted whole: someone else's words
        if a.tag == "article" and not a.get(STORY_ARTICLE) and _teaser(a, sizes):
            return True  # another story's teaser card, set around this one
        if a.tag in ("div", "section", "aside") and _grid(a, grids):
            return True  # a "Lesen Sie auch:" grid of teaser cards
        if body.is_region(a):
            return False
        if (body.is_furniture(a) or a.tag in ("figure", "figcaption")) and (
            _size(a, sizes) < story / 2
        ):
            return True
    return False


def _grid(box: etree._Element, grids: dict[etree._Element, bool]) -> bool:
    """body.related_grid, judged once per box."""
    found = grids.get(box)
    if found is None:
        found = grids[box] = body.related_grid(box)
    return found


def _size(box: etree._Element, sizes: dict[etree._Element, int]) -> int:
    """The length of a box's text, read once per box."""
    size = sizes.get(box)
    if size is None:
        size = sizes[box] = len("".join(box.itertext()))
    return size


def choose(own: list[str], read: list[str]) -> bool:
    """True when our own reading of the body is the one to keep, False for trafilatura's.

    Ours is kept when trafilatura's holds every paragraph of it and little more: the same
    story, and ours also has its pictures and embeds in place. Any paragraph of ours that
    trafilatura left out is, on the real-page corpus, more often furniture than story, so
    then its reading wins; unless it kept a navigation blob or a few paragraphs of a long
    story where our container holds far more prose.
    """
    if not read:
        return True
    if not own:
        return False
    if _within(own, read, 0.1):
        # Trafilatura's holds ours and a little more: ours, unless the little more is
        # story prose ours lost (the lede before a paywall wrapper, a closing paragraph).
        return _prose(_extra(read, own)) < 100
    if _within(read, own, 0.1) and all(
        _SENTENCE_END.search(x) and len(x) >= 60 for x in _extra(own, read)
    ):
        # Ours holds more, and what it adds reads as the story's prose (loose text between
        # paragraphs that trafilatura lost), not as a line of furniture.
        return True
    return _prose(own) >= 1.5 * _prose(read) and _prose(own) >= 300


def _extra(large: list[str], small: list[str]) -> list[str]:
    """The text of large that small does not hold: its paragraphs not in small, each
    without the paragraphs of small it holds (one reading may merge what the other split)."""
    whole = " ".join(small)
    extra = []
    for x in large:
        if x in whole:
            continue
        for y in small:
            if len(y) >= 20 and y in x:
                x = x.replace(y, " ")
        if x.strip():
            extra.append(" ".join(x.split()))
    return extra


# The end of a sentence, inside a paragraph or at its end.
_SENTENCE = re.compile(r"[.!?…。][\"'”»)]*(?:\s|$)")
_SENTENCE_END = re.compile(r"[.!?…。][\"'”»)]*$")


def _prose(paragraphs: list[str]) -> int:
    """How much of a text reads as sentences: each paragraph counts its length, up to
    about 200 characters a sentence; a navigation blob of 4,000 characters with a few
    full stops in it counts nothing."""
    total = 0
    for text in paragraphs:
        if len(text) < 40:
            continue
        sentences = len(_SENTENCE.findall(text))
        if sentences and len(text) / sentences <= 500:  # else a blob of menu words
            total += min(len(text), 200 * sentences)
    return total


def _within(small: list[str], large: list[str], share: float) -> bool:
    """True when every paragraph of small is in large, and large has at most
    share of its text (or 150 characters) more."""
    whole = " ".join(large)
    found = sum(len(x) for x in small if x in whole)
    total = sum(len(x) for x in small)
    return found == total and len(whole) - found <= max(share * len(whole), 150)


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
