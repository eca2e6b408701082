"""Find a story's body in a page and split it into paragraphs, without the page's chrome.

Signals every news site has: schema.org articleBody, the <article> element and text density
(where the long paragraphs sit together). No theme's class names.
"""

from __future__ import annotations

import re

from lxml import etree

from syndicate.sources import alsoread
from syndicate.sources.html import BLOCKS, ancestors, classes, norm, raw_text, text_of

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
# Class or id words of page furniture: share bars, related teasers, ads, comments, bylines.
CHROME = re.compile(
    r"(?:^|[\s_-])(share|sharing|social|sharedaddy|related|recommend|comment|comments|respond"
    r"|reply|sidebar|widget|newsletter|subscribe|subscription|signup|promo|sponsor|advert"
    r"|advertisement|ads?|ad-\w+|banner|breadcrumbs?|nav|navigation|menu|pagination|prevnext"
    r"|prev-next|post-navigation|popup|modal|cookie|outbrain|taboola|trending|popular|dontmiss"
    r"|author-box|author-bio|byline|post-meta|entry-meta|meta|tags|tag-links|post-tags"
    r"|caption|wp-caption-text|credit|toolbar|print|scroll|to-top"
    # The lede sits above the body on some sites and inside it on others; never body text.
    r"|standfirst|dek|lede|subtitle|subheadline|kicker|excerpt)(?:$|[\s_-])"
)
_CHROME_TAGS = {
    "nav",
    "aside",
    "footer",
    "form",
    "header",
    "figure",
    "figcaption",
    "ins",
    "button",
    "noscript",
    "script",
    "style",
    "template",
    "menu",
}
AD_TEXT = re.compile(
    r"^(advertisement|advertisment|ad|ads|sponsored|sponsored content|"
    r"story continues below( this)? advertisement)$",
    re.I,
)


# WordPress gives <body> and each post's wrapper a class per tag and category of the post
# ("tag-social-media", "category-credit-card"): editors' topics, not page furniture. The
# theme's own "tag-links" box keeps its meaning.
_TAXONOMY = re.compile(r"^(?:tag|category)-(?!links?$)")
_ARTICLE_BODY = "articleBody"
# Tags and roles of furniture, the only signs trusted above the story's own region.
_HARD_CHROME_TAGS = frozenset(("nav", "aside", "footer"))
_HARD_CHROME_ROLES = frozenset(("navigation", "complementary", "contentinfo"))


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
    return (
        el.tag == "article"
        and next(el.iterancestors("article"), None) is None
        and (el.find(".//h1") is not None or _has_article_body(el))
    )


def _has_article_body(el: etree._Element) -> bool:
    return bool(el.xpath(f'.//*[@itemprop="{_ARTICLE_BODY}" or @property="{_ARTICLE_BODY}"]'))


# A social post embedded as a blockquote that the platform's script turns into a card
# (class "twitter-tweet", "instagram-media", "tiktok-embed", "reddit-embed-bq"): someone
# else's words quoted whole, not the story's text.
_EMBED = re.compile(
    r"tweet|twitter|instagram|instgrm|tiktok|facebook|fb-|reddit|threads|bluesky|mastodon"
    r"|embed"
)


def is_embed(el: etree._Element) -> bool:
    """True for a social-media embed blockquote."""
    return el.tag == "blockquote" and (
        bool(_EMBED.search(classes(el))) or el.get("data-instgrm-permalink") is not None
    )


def _hidden(el: etree._Element) -> bool:
    return el.get("aria-hidden") == "true" or el.get("hidden") is not None


def is_chrome(el: etree._Element) -> bool:
    """True for an element that is page furniture rather than story text."""
    if not isinstance(el.tag, str):
        return True
    if el.tag in _CHROME_TAGS:
        return True
    if el.get("role") in ("navigation", "complementary", "banner", "contentinfo"):
        return True
    if _hidden(el) or is_embed(el):
        return True
    return not is_region(el) and bool(CHROME.search(_words(el)))


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


_FURNITURE = re.compile(
    r"comment|respond|reply|related|sidebar|widget|share|social|footer|"
    r"newsletter|promo|teaser|recommend|trending|popular"
)


def is_furniture(el: etree._Element) -> bool:
    """True for page regions around a story (menus, sidebars, comments, related teasers).

    Narrower than is_chrome: an article's own header, byline and figure are not furniture.
    """
    if not isinstance(el.tag, str):
        return True
    if el.tag in ("nav", "aside", "footer", "form"):
        return True
    return not is_region(el) and bool(_FURNITURE.search(_words(el)))


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


# Loose text that is a story's metadata, not its prose: "By Jane Roe", "Updated: May 2".
_META_LINE = re.compile(r"^(by|posted|published|updated|last updated)\b", re.I)


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
    return not (len(text) <= 80 and (authored or _META_LINE.match(text)))


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


class _ChromeAbove:
    """in_chrome(el) for many elements of one page, each ancestor judged once.

    Walking up, class words count until the story's region is reached; from there on only
    hard chrome (aside, nav, footer) does, exactly as in_chrome decides.
    """

    def __init__(self) -> None:
        self._by_class: dict[etree._Element, bool] = {}
        self._hard: dict[etree._Element, bool] = {}

    def above(self, el: etree._Element) -> bool:
        parent = el.getparent()
        return parent is not None and self._class_mode(parent)

    def _class_mode(self, a: etree._Element) -> bool:
        found = self._by_class.get(a)
        if found is None:
            if is_region(a):
                found = self._hard_mode(a)
            else:
                parent = a.getparent()
                found = is_chrome(a) or (parent is not None and self._class_mode(parent))
            self._by_class[a] = found  # holding a keeps its lxml proxy, and so the key, alive
        return found

    def _hard_mode(self, a: etree._Element) -> bool:
        found = self._hard.get(a)
        if found is None:
            parent = a.getparent()
            found = _hard_chrome(a) or (parent is not None and self._hard_mode(parent))
            self._hard[a] = found
        return found


def find_container(doc: etree._Element) -> etree._Element | None:
    """The element holding the story's paragraphs."""
    marked = doc.xpath('.//*[@itemprop="articleBody" or @property="articleBody"]')
    if marked:
        return max(marked, key=lambda e: len(text_of(e)))
    scores: dict[etree._Element, float] = {}

    def credit(box: etree._Element | None, text: str, links: int) -> None:
        """A paragraph of text in box: it scores for box and half for box's parent."""
        if box is None or len(text) < 25 or links > 0.5 * len(text):
            return
        score = 1 + min(len(text), 600) / 100 + text.count(",")
        scores[box] = scores.get(box, 0) + score
        grand = box.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0) + score / 2

    chrome = _ChromeAbove()
    for el in doc.iter("p", "li", "h2", "h3", "pre", "blockquote", *_TEXT_BOXES):
        if is_chrome(el) or chrome.above(el):
            continue
        if el.tag not in _TEXT_BOXES:
            credit(el.getparent(), text_of(el), sum(len(text_of(a)) for a in el.iter("a")))
            continue
        # A box's own loose text: one run alone is a div-paragraph (it counts for the box
        # around it, like a <p>); runs beside blocks or <br><br>s are the box's paragraphs.
        groups = _groups(el)
        runs = [run for kind, run in groups if kind == "run"]
        if len(groups) == 1 and runs and el.tag == "div":
            credit(el.getparent(), _run_text(runs[0]), _link_chars(runs[0]))
            continue
        for run in runs:
            credit(el, _run_text(run), _link_chars(run))
    if not scores:
        return None
    # A story body is inside <article> or <main> when the page has one: a small bonus.
    for el in scores:
        if any(a.tag in ("article", "main") for a in ancestors(el)) or el.tag == "article":
            scores[el] *= 1.25
    return max(scores, key=scores.get)


def blocks(container: etree._Element, title: str = ""):
    """Yield the container's paragraph elements in order, skipping chrome and nested wrappers.

    A block that holds other blocks (a <li> of <p>s, a blockquote of <p>s) gives way to them.
    Run split_paragraphs on the container first, so loose text has blocks of its own.
    """
    for el in container.iter(*PARAGRAPHS, "div"):
        if el is container:
            continue
        if any(isinstance(c.tag, str) and c.tag in _NESTED for c in el.iterdescendants()):
            continue
        # An ALSO READ line is often boxed as a promo or a related teaser ("inline-promo",
        # "related-story"): read it before such a box is put aside as furniture.
        if (is_chrome(el) or in_chrome(el, container)) and (
            any(_hidden(x) for x in (el, *ancestors(el, container))) or not alsoread.match(el)
        ):
            continue
        text = text_of(el)
        # The headline repeated in the body is a heading, unless the page wrote it as a <p>.
        headline = title and text == title and (el.tag != "p" or el.get(MADE))
        if not text or AD_TEXT.match(text) or headline:
            continue
        yield el, text
