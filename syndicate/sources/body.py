"""Find a story's body in a page and split it into paragraphs, without the page's chrome.

Signals every news site has: schema.org articleBody, the <article> element and text density
(where the long paragraphs sit together). No theme's class names.
"""

from __future__ import annotations

import re

from lxml import etree

from syndicate.sources.html import ancestors, classes, text_of

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
# Tags and roles of furniture, the only signs trusted above the story's own region.
_ARTICLE_BODY = "articleBody"
_HARD_CHROME_TAGS = frozenset(("nav", "aside", "footer"))
_HARD_CHROME_ROLES = frozenset(("navigation", "complementary", "contentinfo"))


def _words(el: etree._Element) -> str:
    """An element's class and id words, less the taxonomy words that describe its topic."""
    return " ".join(w for w in classes(el).split() if not _TAXONOMY.match(w))


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
    if _hidden(el):
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


def find_container(doc: etree._Element) -> etree._Element | None:
    """The element holding the story's paragraphs."""
    marked = doc.xpath('.//*[@itemprop="articleBody" or @property="articleBody"]')
    if marked:
        return max(marked, key=lambda e: len(text_of(e)))
    scores: dict[etree._Element, float] = {}
    for p in doc.iter("p", "li", "h2", "h3", "pre", "blockquote"):
        if is_chrome(p) or in_chrome(p):
            continue
        text = text_of(p)
        if len(text) < 25:
            continue
        link_text = sum(len(text_of(a)) for a in p.iter("a"))
        if link_text > 0.5 * len(text):
            continue
        parent = p.getparent()
        if parent is None:
            continue
        score = 1 + min(len(text), 600) / 100 + text.count(",")
        scores[parent] = scores.get(parent, 0) + score
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0) + score / 2
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
    """
    for el in container.iter(*PARAGRAPHS, "div"):
        if el is container:
            continue
        if is_chrome(el) or in_chrome(el, container):
            continue
        if any(isinstance(c.tag, str) and c.tag in _NESTED for c in el.iterdescendants()):
            continue
        text = text_of(el)
        if not text or AD_TEXT.match(text) or (title and text == title and el.tag != "p"):
            continue
        yield el, text
