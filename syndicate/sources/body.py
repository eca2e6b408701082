"""Find a story's body in a page and split it into paragraphs, without the page's chrome.

Signals every news site has: schema.org articleBody, the <article> element and text density
(where the long paragraphs sit together). No theme's class names.
"""

from __future__ import annotations

import re

from lxml import etree

from syndicate.sources import alsoread, signals
from syndicate.sources.html import (
    BLOCKS,
    INVISIBLE,
    STORY_ARTICLE,
    ancestors,
    classes,
    norm,
    raw_text,
    text_of,
)

# Blocks a reader reads as paragraphs of a story.
PARAGRAPHS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd")
# Wrappers whose inner blocks are what counts (a <li> holding <p>s, a blockquote of <p>s).
_NESTED = {
    "p",
    "li",
    "blockquote",
    "pre",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "dl",
    "div",
    "table",
}
# Every class word that marks a box as no body text when it sits inside the body.
CHROME = re.compile(
    "|".join(
        p.pattern
        for p in (signals.FURNITURE, signals.SIDEBARS, signals.PAGE_PARTS, signals.STORY_META)
    )
)
# Class words of the regions around a story (as opposed to its own header and byline).
_AROUND = re.compile(signals.FURNITURE.pattern + "|" + signals.SIDEBARS.pattern)
_CHROME_TAGS = signals.CHROME_TAGS
AD_TEXT = signals.AD_TEXT
_TAXONOMY = signals.TAXONOMY
_ARTICLE_BODY = "articleBody"
# Tags and roles of furniture, the only signs trusted above the story's own region.
_HARD_CHROME_TAGS = signals.FURNITURE_TAGS
_HARD_CHROME_ROLES = signals.FURNITURE_ROLES


def _words(el: etree._Element) -> str:
    """An element's class and id words, less the taxonomy words that describe its topic."""
    words = classes(el)
    if "tag-" not in words and "category-" not in words:
        return words
    return " ".join(w for w in words.split() if not _TAXONOMY.match(w))


def is_region(el: etree._Element) -> bool:
    """True for the page or the story as a whole: html, body, main, a schema.org
    articleBody, and the story's <article> (a top-level one holding the headline).

    Their classes describe a layout or a post ("ast-right-sidebar", "single-meta"), never a
    piece of furniture, so no class word may make them chrome. Other <article>s are teaser
    cards (in a related box, a sidebar) and are judged like any box.
    """
    if not isinstance(el.tag, str):
        return False
    if el.tag in ("html", "body", "main"):
        return True
    if _ARTICLE_BODY in (el.get("itemprop"), el.get("property")):
        return True
    return el.tag == "article" and el.get(STORY_ARTICLE) is not None


# A social post embedded as a blockquote that the platform's script turns into a card
# (class "twitter-tweet", "instagram-media", "tiktok-embed", "reddit-embed-bq"): someone
# else's words quoted whole, not the story's text.
_EMBED = signals.EMBED


def is_embed(el: etree._Element) -> bool:
    """True for a social-media embed blockquote. WordPress's "wp-embedded-content" is a
    link to a post of the site itself (what it shows is the link), not someone's words."""
    if el.tag != "blockquote":
        return False
    words = classes(el)
    if "wp-embedded-content" in words:
        return False
    return bool(_EMBED.search(words)) or el.get("data-instgrm-permalink") is not None


def _hidden(el: etree._Element) -> bool:
    return el.get("aria-hidden") == "true" or el.get("hidden") is not None


def names_story_box(el: etree._Element) -> bool:
    """True when a box's class or id names it as a story's ("entry-content", "post-body")."""
    return isinstance(el.tag, str) and bool(signals.STORY_BOX.search(_words(el)))


def is_chrome(el: etree._Element) -> bool:
    """True for an element that is page furniture rather than story text."""
    if not isinstance(el.tag, str):
        return True
    if el.tag in _CHROME_TAGS or el.get(SKIP):
        return True
    if el.get("role") in ("navigation", "complementary", "banner", "contentinfo"):
        return True
    if _hidden(el) or is_embed(el):
        return True
    if is_region(el):
        return False
    words = _words(el)
    m = CHROME.search(words)
    if m and el.tag in _SUBHEADS and signals.SUBHEADING.search(words):
        # A section heading classed "subheadline": chrome only for another of its words.
        m = CHROME.search(signals.SUBHEADING.sub(" ", words))
    return bool(m)


_SUBHEADS = frozenset("h2 h3 h4 h5 h6".split())


def _hard_chrome(el: etree._Element) -> bool:
    """Furniture by tag or role alone: what still counts above the story's region."""
    return el.tag in _HARD_CHROME_TAGS or el.get("role") in _HARD_CHROME_ROLES or _hidden(el)


def in_chrome(
    el: etree._Element,
    stop: etree._Element | None = None,
    *,
    container: etree._Element | None = None,
    furniture: bool = False,
    keep: tuple[str, ...] = (),
) -> bool:
    """True when an ancestor of el (below stop) is page chrome, or furniture if asked.

    Class words are judged only up to the story's region (a top-level <article>, <main>,
    an articleBody) or the chosen container: higher up, wrappers carry layout words
    ("right-sidebar", "has-sidebar-layout") that say nothing about the text below them,
    so only the tags and roles of furniture (aside, nav, footer) count there. Tags in
    keep are never chrome (a <figure> around a lead image).
    """
    judge = is_furniture if furniture else is_chrome
    by_class = True
    for a in ancestors(el, stop):
        if a is container or is_region(a):
            by_class = False
        if a.tag in keep:
            continue
        if judge(a) if by_class else _hard_chrome(a):
            return True
    return False


def is_furniture(el: etree._Element) -> bool:
    """True for page regions around a story (menus, sidebars, comments, related teasers).

    Narrower than is_chrome: an article's own header, byline and figure are not furniture.
    """
    if not isinstance(el.tag, str):
        return True
    if el.tag in ("nav", "aside", "footer", "form"):
        return True
    return not is_region(el) and bool(_AROUND.search(_words(el)))


# What ends a run of inline text inside a box: the blocks of html.BLOCKS (not <br>, which
# only breaks a line) and embedded media.
_BREAKS = (BLOCKS - {"br"}) | {
    "iframe",
    "video",
    "audio",
    "object",
    "embed",
    "form",
    "dl",
    "address",
    "details",
    "center",
    "fieldset",
}
# Boxes whose loose text runs become paragraphs of their own.
_WRAPPERS = frozenset("div section article main li blockquote dd".split())
# Marks a <p> the extractor made from loose text or a div-paragraph.
MADE = "data-syndicate-p"
# Boxes scored like a container or a paragraph by their own loose text.
_TEXT_BOXES = ("div", "section", "article", "td")

Piece = str | etree._Element


def _pieces(el: etree._Element) -> list[Piece]:
    """An element's content in order: its text, then each child and the child's tail."""
    out: list[Piece] = [el.text] if el.text else []
    for child in el:
        out.append(child)
        if child.tail:
            out.append(child.tail)
    return out


def _is_br(piece: Piece) -> bool:
    return not isinstance(piece, str) and piece.tag == "br"


def _groups(el: etree._Element) -> list[tuple[str, list[Piece]]]:
    """An element's content as ("run", inline pieces), ("block", [child]) and ("break", the
    <br>s) groups: a run ends at a block child and at two <br>s in a row (a paragraph
    break on sites that write their stories without <p>); one <br> stays in its run.

    Inside a <p> only the double <br>s break: what else it holds (an iframe, an object)
    sits in its line."""
    breaks = _BREAKS if el.tag != "p" else frozenset()
    groups: list[tuple[str, list[Piece]]] = []
    run: list[Piece] = []
    brs: list[Piece] = []

    def settle_brs() -> None:
        nonlocal run, brs
        if sum(1 for b in brs if _is_br(b)) >= 2:
            if run:
                groups.append(("run", run))
            groups.append(("break", brs))
            run = []
        else:
            run.extend(brs)
        brs = []

    for piece in _pieces(el):
        if _is_br(piece) or (brs and isinstance(piece, str) and not piece.strip()):
            brs.append(piece)
            continue
        settle_brs()
        if not isinstance(piece, str) and isinstance(piece.tag, str) and piece.tag in breaks:
            if run:
                groups.append(("run", run))
            groups.append(("block", [piece]))
            run = []
        else:
            run.append(piece)
    settle_brs()
    if run:
        groups.append(("run", run))
    return groups


def _run_text(run: list[Piece], readable_only: bool = False) -> str:
    """The text of a run of inline pieces. With readable_only, leave out what is metadata
    rather than prose: <time> elements and inline chrome (a byline span, an ad label)."""
    parts = []
    for piece in run:
        if isinstance(piece, str):
            parts.append(piece)
        elif not (readable_only and (piece.tag == "time" or is_chrome(piece))):
            parts.append(raw_text(piece))
    return norm("".join(parts))


def _link_chars(run: list[Piece]) -> int:
    return sum(
        len(text_of(a)) for piece in run if not isinstance(piece, str) for a in piece.iter("a")
    )


META_LINE = signals.META_LINE


def _readable(run: list[Piece]) -> bool:
    """True when a run holds prose of its own, not only a date or a byline.

    Loose text is a paragraph only when it reads as one: a byline or a date set loose
    beside the headline (common when the container is the <article>) is not.
    """
    text = _run_text(run, readable_only=True)
    if not re.search(r"\w", text):
        return False
    authored = any(
        a.get("rel") == "author" or "/author/" in (a.get("href") or "")
        for piece in run
        if not isinstance(piece, str)
        for a in piece.iter("a")
    )
    return not (len(text) <= 80 and (authored or META_LINE.match(text)))


def split_paragraphs(container: etree._Element) -> None:
    """Give every paragraph of the container an element of its own, in place.

    Stories are not always written in <p>s: a <div> per paragraph, text separated by
    <br><br>, loose text between the blocks. A div holding only inline text becomes a
    <p>; loose runs of text beside blocks or between double <br>s are wrapped in new <p>s
    (a <p> split at its double <br>s becomes several). The <p>s made here carry MADE.
    """
    for el in list(container.iter()):
        if not isinstance(el.tag, str):
            continue
        if el is not container and el.tag not in _WRAPPERS and el.tag != "p":
            continue
        groups = _groups(el)
        split = any(kind != "run" for kind, _ in groups)
        if not any(kind == "run" and _readable(run) for kind, run in groups):
            continue
        if not split:
            if el.tag == "div" and el is not container:
                el.tag = "p"
                el.set(MADE, "1")
            elif el is container and el.tag != "p":
                _wrap_runs(el, groups)
            continue
        if el.tag == "p":
            _split_p(el, groups)
        else:
            _wrap_runs(el, groups)


def _fill(box: etree._Element, pieces: list[Piece]) -> None:
    """Append pieces (texts and elements) to the end of box's content."""
    last = box[-1] if len(box) else None
    for piece in pieces:
        if isinstance(piece, str):
            if last is None:
                box.text = (box.text or "") + piece
            else:
                last.tail = (last.tail or "") + piece
        else:
            piece.tail = None
            box.append(piece)
            last = piece


def _detach(el: etree._Element) -> None:
    """Empty an element: its text and children go (they live on in the groups)."""
    el.text = None
    for child in list(el):
        child.tail = None
        el.remove(child)


def _wrap_runs(el: etree._Element, groups: list[tuple[str, list[Piece]]]) -> None:
    _detach(el)
    for kind, pieces in groups:
        if kind == "break":
            continue  # the <br><br> between paragraphs; the paragraphs now separate
        if kind == "run" and _readable(pieces):
            p = etree.SubElement(el, "p", {MADE: "1"})
            _fill(p, pieces)
        else:
            _fill(el, pieces)


def _split_p(el: etree._Element, groups: list[tuple[str, list[Piece]]]) -> None:
    tail = el.tail
    _detach(el)
    runs = [pieces for kind, pieces in groups if kind == "run"]
    _fill(el, runs[0])
    last = el
    for pieces in runs[1:]:
        p = el.makeelement("p", dict(el.attrib))
        p.set(MADE, "1")
        _fill(p, pieces)
        last.addnext(p)
        last = p
    last.tail = tail


# How much a paragraph counts for a candidate body, by one box around it. Furniture (a
# comments box, a related grid, an <aside>) takes it out; a layout word that themes also
# put on the story's own wrapper ("sidebar", "widget"), a <header>, <form> or <noscript>
# around the whole page only weighs it down, so the story still wins when every paragraph
# of the page sits in such a wrapper.
_OUT, _DOWN = 0.0, 0.4
_SOFT_TAGS = frozenset(("header", "form", "noscript"))


def _own_weight(el: etree._Element) -> float:
    """What one box does to the paragraphs inside it, judged by its tag, role and words."""
    if not isinstance(el.tag, str) or _hidden(el) or is_embed(el):
        return _OUT
    if el.get("role") in ("navigation", "complementary", "contentinfo"):
        return _OUT
    if el.tag in _SOFT_TAGS:
        return _DOWN
    if el.tag in _CHROME_TAGS:
        return _OUT
    if is_region(el):
        return 1.0
    words = _words(el)
    if not words:
        return 1.0
    if signals.FURNITURE.search(words):
        return _OUT
    if signals.SIDEBARS.search(words) or signals.STORY_META.search(words):
        return _DOWN
    return 1.0


class Standing:
    """The weight of the boxes above an element, each ancestor judged once.

    Walking up, class words count until the story's region is reached (html, body, main,
    the story's <article>, an articleBody); from there on only the tags and roles of
    furniture (aside, nav, footer) do, as in in_chrome. Iterative: pages nest 10,000 deep.
    """

    def __init__(self) -> None:
        self._memo: dict[etree._Element, tuple[float, float]] = {}

    def above(self, el: etree._Element) -> float:
        """The weight of el's ancestors: 0 under furniture, less than 1 under a layout
        wrapper, 1 in the clear."""
        parent = el.getparent()
        return 1.0 if parent is None else self._of(parent)[0]

    def _of(self, el: etree._Element) -> tuple[float, float]:
        path: list[etree._Element] = []
        node: etree._Element | None = el
        while node is not None and node not in self._memo:
            path.append(node)
            node = node.getparent()
        by_class, hard = self._memo[node] if node is not None else (1.0, 1.0)
        for a in reversed(path):
            hard = 0.0 if _hard_chrome(a) else hard
            by_class = hard if is_region(a) else by_class * _own_weight(a)
            # Holding a keeps its lxml proxy, and so the key, alive.
            self._memo[a] = (by_class, hard)
        return self._memo[el]


def find_container(doc: etree._Element) -> etree._Element | None:
    """The element holding the story's paragraphs."""
    marked = doc.xpath('.//*[@itemprop="articleBody" or @property="articleBody"]')
    if marked:
        best = max(marked, key=lambda e: len(text_of(e)))
        if len(text_of(best)) >= 200:
            return best
    scores: dict[etree._Element, float] = {}
    credited: list[tuple[etree._Element, float]] = []

    def credit(box: etree._Element | None, text: str, links: int, weight: float) -> None:
        """A paragraph of text in box: it scores for box and half for box's parent."""
        if box is None or weight == 0 or len(text) < 25 or links > 0.5 * len(text):
            return
        score = (1 + min(len(text), 600) / 100 + text.count(",")) * weight
        credited.append((box, score))
        scores[box] = scores.get(box, 0) + score
        grand = box.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0) + score / 2

    standing = Standing()
    for el in doc.iter("p", "li", "h2", "h3", "pre", "blockquote", *_TEXT_BOXES):
        if is_chrome(el):
            continue
        weight = standing.above(el)
        if weight == 0:
            continue
        if el.tag not in _TEXT_BOXES:
            text = text_of(el)
            credit(el.getparent(), text, sum(len(text_of(a)) for a in el.iter("a")), weight)
            continue
        # A box's own loose text: one run alone is a div-paragraph (it counts for the box
        # around it, like a <p>); runs beside blocks or <br><br>s are the box's paragraphs.
        groups = _groups(el)
        runs = [run for kind, run in groups if kind == "run"]
        if len(groups) == 1 and runs and el.tag == "div":
            credit(el.getparent(), _run_text(runs[0]), _link_chars(runs[0]), weight)
            continue
        for run in runs:
            credit(el, _run_text(run), _link_chars(run), weight)
    if not scores:
        return marked[0] if marked else None
    # A story body is inside <article> or <main> when the page has one, and its box is
    # named like one ("entry-content", "article-body"): a small bonus each.
    inside: dict[etree._Element, bool] = {}
    for el in scores:
        if el.tag == "article" or _inside_story(el, inside):
            scores[el] *= 1.25
        if signals.STORY_BOX.search(_words(el)):
            scores[el] *= 1.1
    best = max(scores, key=scores.get)
    return _with_siblings(best, scores[best], credited)


def _inside_story(el: etree._Element, memo: dict[etree._Element, bool]) -> bool:
    """True when an ancestor of el is an <article> or <main> (memo: per page)."""
    path: list[etree._Element] = []
    node = el.getparent()
    found = False
    while node is not None:
        if node in memo:
            found = memo[node]
            break
        path.append(node)
        if node.tag in ("article", "main"):
            found = True
            break
        node = node.getparent()
    for a in path:
        memo[a] = found or a.tag in ("article", "main")
    return found


# Marks the boxes beside a story's parts that are not part of it, once the container has
# grown to hold the parts (blocks() and is_chrome() leave marked boxes out).
SKIP = "data-syndicate-skip"


def _with_siblings(
    best: etree._Element, score: float, credited: list[tuple[etree._Element, float]]
) -> etree._Element:
    """The best box, or its parent when the story continues in the boxes beside it.

    Page builders cut one story into blocks (Elementor widgets, Squarespace blocks, TYPO3
    content elements, a <div> per paragraph group between ads): the boxes beside the best
    one that score a fair share of it are parts of the same story. The parent then becomes
    the container and the siblings that are not parts are marked SKIP. As readability does,
    a part is a sibling scoring a fifth of the best one.
    """
    while best.tag == "p" or not any(isinstance(c.tag, str) for c in best):
        parent = best.getparent()  # one paragraph is no container: its box is
        if parent is None:
            return best
        best = parent
    parent = best.getparent()
    if parent is None or parent.tag in ("html",):
        return best
    share: dict[etree._Element, float] = {}
    for box, points in credited:
        node = box
        while node is not None and node.getparent() is not parent:
            node = node.getparent()
        if node is not None and node is not best:
            share[node] = share.get(node, 0) + points
    threshold = max(5.0, score * 0.2)
    parts = [c for c, points in share.items() if points >= threshold and not is_chrome(c)]
    if not parts:
        return best
    for child in parent:
        beside = isinstance(child.tag, str) and child is not best and child not in parts
        if beside and (child.tag not in PARAGRAPHS or child.tag == "li"):
            child.set(SKIP, "1")
    return parent


# Boxes that may hold an ALSO READ line with its links set as a teaser (a headline, a
# picture, a kicker) rather than as one paragraph.
_BOXES = ("div", "aside", "section", "figure")


def _read_box(
    el: etree._Element, strong: bool = False
) -> tuple[str | None, list[alsoread.AlsoReadLine]]:
    """("box", its entries) for a box whose text opens with an ALSO READ phrase (with
    strong, only a phrase that never opens a sentence) and that holds its links, ("grid",
    []) for a related-posts grid under such a phrase, else (None, []). The phrase is
    looked for in the box's first words only, so big boxes cost nothing."""
    if len(el) == 0 or not alsoread.opens(_first_text(el), strong=strong):
        return None, []
    lines = alsoread.match(el)
    if not lines or not any(line.href for line in lines):
        return None, []
    # A grid of teasers under "Lesen Sie auch:" or "Notas relacionadas" (a related-posts
    # plugin: picture, title, excerpt for each) is furniture; an ALSO READ box names its
    # stories and little else (one teaser may carry a short kicker).
    text = text_of(el)
    extra = len(text) - sum(len(line.title) for line in lines)
    if extra <= (300 if len(lines) == 1 else 40 * len(lines)):
        return "box", lines
    cards = sum(1 for h in el.iter("h2", "h3", "h4", "h5") if linked_heading(h))
    return ("grid" if cards >= 2 and len(text) <= 4000 else None), []


def related_grid(el: etree._Element) -> bool:
    """True for a grid of teaser cards under an ALSO READ phrase ("Lesen Sie auch:" over
    pictures, headlines and excerpts of other stories): furniture, not cross-links."""
    return _read_box(el)[0] == "grid"


def linked_heading(h: etree._Element) -> bool:
    """True for a heading that is a link (a teaser card's headline)."""
    parent = h.getparent()
    if parent is not None and parent.tag == "a" and parent.get("href"):
        return True
    anchors = [a for a in h.iter("a") if a.get("href")]
    return bool(anchors) and norm(" ".join(text_of(a) for a in anchors)) == text_of(h)


def trailing_also_read(container: etree._Element, levels: int = 3) -> list[alsoread.AlsoReadLine]:
    """The entries of the ALSO READ boxes set just after the story's container, beside it
    rather than in it ("<div class='related-articles'>Lesen Sie auch: …</div>" after the
    text, a "SEE ALSO" link under the tags). Only a strong phrase counts here ("Also
    read", "Lesen Sie auch"), never a bare "Related" or "More": those head the widgets
    after a story."""
    found: list[alsoread.AlsoReadLine] = []
    node = container
    for _ in range(levels):
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        for sib in node.itersiblings():
            if not isinstance(sib.tag, str) or _hard_chrome(sib) or _hidden(sib):
                continue
            kind, lines = _read_box(sib, strong=True)
            # A list of headlines, not a grid of teaser cards (pictures, <article>s, links
            # that hold kicker, headline, excerpt and date).
            cards = any(True for _ in sib.iter("article", "figure", "img", "picture"))
            if kind == "box" and not cards and all(x.href and len(x.title) <= 160 for x in lines):
                found += lines
        if found:
            break
        node = parent
    return found


def _first_text(el: etree._Element) -> str:
    """The first visible words of an element, without reading the rest of it."""
    walk = etree.iterwalk(el, events=("start", "end"))
    for event, node in walk:
        if event == "start":
            if not isinstance(node.tag, str) or node.tag in INVISIBLE:
                walk.skip_subtree()
                continue
            text = node.text
        else:
            text = node.tail if node is not el else None
        if text and text.strip():
            return text
    return ""


def blocks(container: etree._Element, title: str = ""):
    """Yield the container's paragraph elements in order, skipping chrome and nested wrappers.

    A block that holds other blocks (a <li> of <p>s, a blockquote of <p>s) gives way to them.
    Run split_paragraphs on the container first, so loose text has blocks of its own.
    """
    boxed: etree._Element | None = None
    for el in container.iter(*PARAGRAPHS, *_BOXES, "tr"):
        if el is container:
            continue
        if boxed is not None:
            if any(a is boxed for a in el.iterancestors()):
                continue  # inside an ALSO READ box already read whole
            boxed = None
        # (split_paragraphs may have made such a <div> a paragraph, and its parts too.)
        kind = _read_box(el)[0] if el.tag in _BOXES or el.get(MADE) else None
        if kind:
            # A box of cross-links (an <aside> "Leggi anche:" with its teaser headline, a
            # "Lesen Sie auch:" box of links): one ALSO READ block, read whole. A grid of
            # teaser cards under the same words is furniture, passed over whole.
            boxed = el
            if kind == "box" and not any(_hidden(x) for x in (el, *ancestors(el, container))):
                yield el, text_of(el)
            continue
        if el.tag in _BOXES and el.tag != "div":
            continue
        if any(isinstance(c.tag, str) and c.tag in _NESTED for c in el.iterdescendants()):
            continue
        if el.tag == "tr":
            # A row of a table is one line of text, its cells set apart; a row whose
            # cells hold paragraphs gave way to them above.
            cells = [text_of(c) for c in el if isinstance(c.tag, str) and c.tag in ("td", "th")]
            text = " | ".join(c for c in cells if c)
            if text and not (is_chrome(el) or in_chrome(el, container)):
                yield el, text
            continue
        # An ALSO READ line is often boxed as a promo or a related teaser ("inline-promo",
        # "related-story"): read it before such a box is put aside as furniture.
        if (is_chrome(el) or in_chrome(el, container)) and (
            any(_hidden(x) for x in (el, *ancestors(el, container))) or not alsoread.match(el)
        ):
            continue
        text = text_of(el)
        if el.tag == "div" and text:
            # A <div> that only wraps a picture: its caption is no paragraph.
            for fig in el.iter("figure", "figcaption"):
                text = norm(text.replace(text_of(fig), " ", 1))
        # The headline repeated in the body is a heading, unless the page wrote it as a <p>.
        headline = title and text == title and (el.tag != "p" or el.get(MADE))
        if not text or AD_TEXT.match(text) or headline or signals.is_boilerplate(text):
            continue
        yield el, text
