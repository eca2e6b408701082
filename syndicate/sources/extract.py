"""One article page → a Story with its CrossLinks.

Order of trust: JSON-LD NewsArticle, then OpenGraph / article meta, then the visible page.
"""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from urllib.parse import urlsplit

import nh3
from lxml import etree

from syndicate.models import CrossLink, Image, Story
from syndicate.sources import alsoread, body, combine, reader, signals
from syndicate.sources.html import (
    STORY_ARTICLE,
    ancestors,
    classes,
    drop_inert,
    norm,
    parse,
    text_of,
)
from syndicate.sources.metadata import Declared, parse_date, parse_visible_date, read_declared
from syndicate.urls import canonical_url, host_of, is_http

_ALLOWED_TAGS = frozenset(
    (
        "p h2 h3 h4 h5 h6 blockquote ul ol li a strong em b i u s sub sup br hr pre code "
        "figure figcaption img table thead tbody tr th td cite q dl dt dd span "
    ).split()
)
_SIZE_SUFFIX = re.compile(r"-\d+x\d+(?=\.\w+$)")


@dataclass
class SiteContext:
    """What the extractor knows of the site: its hosts, zone, name and allowed embeds."""

    hosts: set[str]
    tz: tzinfo
    name: str = ""
    iframe_hosts: set[str] = field(default_factory=set)

    def is_internal(self, url: str) -> bool:
        """True when a URL is on one of the site's own hosts."""
        return host_of(url) in self.hosts


@dataclass
class Extraction:
    """What a page turned out to be: an article with its story, or another kind of page,
    or an article whose story could not be read (failed)."""

    story: Story | None
    reason: str = ""  # why it is not an article, or why it failed
    failed: bool = False  # an article whose body was not found: reported, not stored


def slugify(name: str) -> str:
    """A section name as a URL slug: 'Top News' → 'top-news'."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def extract(
    url: str,
    html_text: str,
    site: SiteContext,
    published_hint: datetime | None = None,
    judge: bool = True,
) -> Extraction:
    """Read one fetched page; return its Story when it is an article.

    With judge=False every page with a title and a body is read as a story, whether it is
    an article or not (bench/extract.py measures the body reading alone that way)."""
    doc = parse(html_text)
    d = read_declared(doc, url)
    drop_inert(doc)
    title = _title(doc, d, site)
    if not title:
        return Extraction(None, "no title")
    canonical = _canonical(doc, d, url, site)
    # trafilatura's reading of the body, and where on the page it found it; our own
    # container search when it found nothing.
    reading = reader.read(doc, url)
    container = combine.drop_furniture(reading, doc) if reading is not None else None
    if container is None or container.tag in ("html", "head", "body"):
        container = body.find_container(doc)
    own = _body(container, title, canonical, site) if container is not None else _NO_BODY
    chosen = own
    if reading is not None:
        theirs = _body(reading, title, canonical, site)
        # Both readings found the same story: ours also has its pictures and embeds.
        if not combine.choose(own.paragraphs, theirs.paragraphs):
            theirs.links = combine.place_links(
                own.paragraphs, own.links, theirs.paragraphs, theirs.links
            )
            chosen = theirs
    if container is not None and chosen.paragraphs:
        _add_trailing(chosen, container, canonical, site)
    paragraphs, crosslinks = chosen.paragraphs, chosen.links
    words = sum(_word_count(p) for p in paragraphs)
    # An article declares itself (JSON-LD, og:type), is marked up as one (an <article> with
    # its own h1, a schema.org articleBody), or reads like one: a long body with a byline,
    # a dated URL or a date from the sitemap.
    dated_url = re.search(r"/(19|20)\d\d/", url) is not None
    # A dated address ("/2024/03/02/slug/") holding prose of its own is a short news item.
    news_path = re.search(r"/(19|20)\d\d[/-](0?[1-9]|1[0-2])[/-]", url) is not None
    looks_like = (words >= 40 and (news_path or _story_markup(doc))) or (
        words >= 80 and (published_hint is not None or dated_url or _has_byline(doc))
    )
    declared = d.article
    if declared and d.json_ld and not d.ld_article:
        # SEO plugins (Yoast) set og:type=article on every page, /about/ and /contact/ too,
        # while their JSON-LD says WebPage: a story needs a date or article markup then.
        declared = bool(d.published or published_hint or dated_url or _story_markup(doc))
    # A body of some length in the story's region reads as a story even without metadata
    # (a blog theme with none); a page of linked headlines with their teasers is a
    # listing, and a site's own pages (/about-us/, /impressum/) are no stories.
    long_read = (
        words >= _STORY_WORDS
        and (reading is not None or _in_story_region(container))
        and not _listing(container)
        and not _STATIC_PAGE.search(urlsplit(url).path)
    )
    if not judge:
        declared = True
    # The date shown with the story, read at most once: the verdict and the story ask.
    shown = functools.cache(lambda: _visible_date(doc, container, title, site.tz))
    if not (declared or looks_like or long_read or _short_news(url, words, container, shown)):
        return Extraction(None, "not an article (no article metadata, short or undated text)")
    headline = _word_count(title) if any(title in p for p in paragraphs) else 0
    if words - headline < _MIN_BODY_WORDS:
        # Declared a story, yet no paragraph of it was found (or only its headline and a
        # button's words): a failure to report, never a story stored, put in feeds and
        # mailed with an empty body.
        why = (
            "no container with paragraphs"
            if container is None
            else "only chrome in it"
            if not paragraphs
            else f"only {words} words, the headline's among them"
        )
        return Extraction(None, f"no article body found ({why})", failed=True)
    published = (
        parse_date(d.published, site.tz) or published_hint or shown() or _url_date(url, site.tz)
    )
    section, section_name = _section(doc, d, url)
    story = Story(
        url=canonical,
        title=title,
        published=published,
        modified=parse_date(d.modified, site.tz),
        author=", ".join(dict.fromkeys(d.authors)) or _byline(doc, container),
        section=section,
        section_name=section_name,
        tags=list(dict.fromkeys(d.tags or _tag_links(doc, container))),
        image=_image(doc, d, url, container),
        summary=d.description or _lede(doc, title) or (paragraphs[0] if paragraphs else None),
        body_text=paragraphs,
        body_html=chosen.html(),
        also_read=[c for c in crosslinks if c.href != canonical],
        language=(doc.get("lang") or "").split("-")[0] or None,
    )
    for i, c in enumerate(story.also_read):
        c.position = i
    return Extraction(story)


def extract_fragment(
    html_text: str, page_url: str, site: SiteContext
) -> tuple[list[str], list[CrossLink], str]:
    """Paragraphs, ALSO READ links and sanitized HTML of a body given on its own (a feed's
    content:encoded), where the whole fragment is the story."""
    doc = parse(f"<html><body><div>{html_text}</div></body></html>")
    container = doc.find(".//body/div")
    found = _body(container, "", canonical_url(page_url) or page_url, site)
    return found.paragraphs, found.links, found.html()


def _title(doc: etree._Element, d: Declared, site: SiteContext) -> str:
    h1s = [text_of(h) for h in doc.iter("h1")]
    h1s = [h for h in h1s if h]
    if d.headline:
        # og:title often carries " - Site Name"; the visible h1 is the clean headline then.
        for h in h1s:
            if d.headline == h or d.headline.startswith(h + " "):
                return h
        return _strip_site_name(d.headline, site.name or d.site_name)
    if h1s:
        return h1s[0]
    t = doc.find(".//title")
    # <title> is invisible on the page, so text_of() reads nothing in it.
    text = norm("".join(t.itertext())) if t is not None else ""
    return _strip_site_name(text, site.name or d.site_name)


def _strip_site_name(title: str, name: str) -> str:
    for sep in (" - ", " | ", " – ", " — ", " :: "):
        if name and title.endswith(sep + name):
            return title[: -len(sep + name)].strip()
    return title


def _http_url(value: str | None, base: str) -> str | None:
    """value resolved against base in canonical form when it is an http(s) URL; None for
    anything else (mailto:, data:, or what urllib cannot parse, like 'http://[bad/x')."""
    full = canonical_url(value, base) if value else None
    return full if full and is_http(full) else None


def _canonical(doc: etree._Element, d: Declared, url: str, site: SiteContext) -> str:
    for cand in [*(link.get("href") for link in doc.xpath('.//link[@rel="canonical"]')), d.url]:
        full = _http_url(cand, url)
        # A canonical pointing off the site (a syndicated copy) does not rename our page.
        if full and site.is_internal(full):
            return full
    return canonical_url(url) or url


@dataclass
class BodyText:
    """A reading of a story's body: its paragraphs, its ALSO READ entries, and the blocks
    kept for the HTML, which is built only when this reading is the one chosen."""

    paragraphs: list[str]
    links: list[CrossLink]
    container: etree._Element | None = None
    kept: list[etree._Element] = field(default_factory=list)
    page_url: str = ""
    site: SiteContext | None = None

    def html(self) -> str:
        """The body as sanitized HTML (see _body_html)."""
        if self.container is None or self.site is None:
            return ""
        return _body_html(self.container, self.kept, self.page_url, self.site)


_NO_BODY = BodyText([], [])
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _body(container: etree._Element, title: str, page_url: str, site: SiteContext) -> BodyText:
    paragraphs: list[str] = []
    kept: list[etree._Element] = []
    links: list[CrossLink] = []
    seen: set[str] = set()
    pending_list = False
    body.split_paragraphs(container)
    for el, text in body.blocks(container, title):
        lines = alsoread.match(el)
        if lines is None and pending_list:
            # Under a bare "ALSO READ" heading: the blocks that are nothing but links.
            # A heading that is a link is a teaser card's headline (a "Related" grid), not
            # an entry: lists under the heading are paragraphs or items of links.
            anchors = [a for a in el.iter("a") if a.get("href") and text_of(a)]
            teaser = next(el.iter(*_HEADINGS), None) is not None  # el itself included
            if anchors and not teaser and " ".join(text_of(a) for a in anchors) == text:
                lines = [alsoread.AlsoReadLine(text_of(a), a.get("href")) for a in anchors]
        if lines is None:
            pending_list = False
            paragraphs.append(text)
            kept.append(el)
            continue
        pending_list = pending_list or not lines
        for line in lines:
            link = _crosslink(line, page_url, site, len(paragraphs))
            key = link.href or link.label.casefold()
            if link.label and key not in seen:
                seen.add(key)
                links.append(link)
    return BodyText(paragraphs, links, container, kept, page_url, site)


def _add_trailing(
    found: BodyText, container: etree._Element, page_url: str, site: SiteContext
) -> None:
    """Add the ALSO READ boxes set just after the container, after the last paragraph."""
    seen = {link.href or link.label.casefold() for link in found.links}
    for line in body.trailing_also_read(container):
        link = _crosslink(line, page_url, site, len(found.paragraphs))
        key = link.href or link.label.casefold()
        if link.label and key not in seen:
            seen.add(key)
            found.links.append(link)


def _crosslink(
    line: alsoread.AlsoReadLine, page_url: str, site: SiteContext, after: int
) -> CrossLink:
    href = _http_url(line.href, page_url)
    if href:
        external = not site.is_internal(href)
        return CrossLink(
            label=line.title,
            href=href,
            external=external,
            target_url=href if external else None,
            after_paragraph=after,
        )
    return CrossLink(label=line.title, after_paragraph=after)


# Marks set on the page for the copy that becomes body_html, removed again after copying.
_KEEP, _MEDIA = "data-syndicate-keep", "data-syndicate-media"
# Pictures, tables and embeds that body_html carries beside the paragraphs.
_MEDIA_TAGS = ("img", "amp-img", "figure", "picture", "table", "iframe")


def _body_html(
    container: etree._Element, kept: list[etree._Element], page_url: str, site: SiteContext
) -> str:
    """The body as sanitized HTML: the paragraphs of body_text, and nothing else but the
    pictures, tables and allowed embeds among them; links absolute.

    Built from what was kept rather than by removing what is not, so what body_text left
    out (the headline and byline of an <article> container, ALSO READ lines and the list
    that held them, a tweet's text, loose dates) cannot reach the HTML either.
    """
    marked: list[etree._Element] = []
    for el in kept:
        el.set(_KEEP, "1")
        marked.append(el)
    for el in container.iter(*_MEDIA_TAGS):
        if _media_ok(el, container, page_url, site):
            el.set(_MEDIA, "1")
            marked.append(el)
    box = copy.deepcopy(container)
    for el in marked:
        el.attrib.pop(_KEEP, None)
        el.attrib.pop(_MEDIA, None)
    _prune(box, page_url, site)
    for img in list(box.iter("img", "amp-img")):
        if not _attached(img, box):
            continue
        # A lazy-loaded picture shows its real address; one with none is left out.
        real = _http_url(image_src(img), page_url)
        if img.tag == "amp-img":
            # libxml2 does not know <amp-img> is empty: an unclosed one holds what follows
            # it. That content stays; the picture becomes a plain <img> before it.
            if real is not None:
                img.addprevious(img.makeelement("img", {"src": real}))
            img.drop_tag()
        elif real is None:
            img.drop_tree()
        else:
            img.set("src", real)
    for el in box.iter():
        if el.attrib.pop(_KEEP, None) and el.tag == "div":
            el.tag = "p"  # a block of body_text written as a <div>: a paragraph here too
        el.attrib.pop(_MEDIA, None)
    box.make_links_absolute(page_url, resolve_base_href=False, handle_failures="discard")
    raw = "".join(etree.tostring(c, encoding="unicode", method="html") for c in box)
    tags = _ALLOWED_TAGS | ({"iframe"} if site.iframe_hosts else set())
    attrs = {
        "a": {"href", "title"},
        "img": {"src", "alt", "width", "height"},
        "iframe": {"src", "width", "height", "title", "allowfullscreen"},
        "td": {"colspan", "rowspan"},
        "th": {"colspan", "rowspan"},
    }
    cleaned = nh3.clean(
        raw,
        tags=tags,
        attributes=attrs,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
        strip_comments=True,
    )
    cleaned = re.sub(r"<span>|</span>", "", cleaned)
    cleaned = re.sub(r"<p>(\s|&nbsp;|\u00a0)*</p>", "", cleaned)
    return "\n".join(line.strip() for line in cleaned.splitlines() if line.strip())


def _media_ok(
    el: etree._Element, container: etree._Element, page_url: str, site: SiteContext
) -> bool:
    """True for a picture, table or embed of the story (not of a share bar or a teaser)."""
    if el.tag == "iframe":
        return _iframe_ok(el, page_url, site)
    if el.tag in ("img", "amp-img") and not _http_url(image_src(el), page_url):
        return False  # a placeholder with no real picture behind it
    if el.tag == "amp-img" and any(c.tag not in ("img", "noscript") for c in el):
        return False  # an unclosed <amp-img> wrapping the text after it: not one picture
    if el.tag in ("figure", "picture"):
        if not any(
            _media_ok(x, container, page_url, site)
            for x in el.iter("img", "amp-img", "iframe")
            if x is not el
        ):
            return False
    elif body.is_chrome(el):
        return False
    return not body.in_chrome(el, container, keep=("figure",))


def _iframe_ok(el: etree._Element, page_url: str, site: SiteContext) -> bool:
    src = canonical_url(el.get("src"), page_url)
    return src is not None and host_of(src) in site.iframe_hosts


def _prune(box: etree._Element, page_url: str, site: SiteContext) -> None:
    """Keep in box only the marked blocks and media and the wrappers around them."""
    for child in list(box):
        if child.get(_KEEP) or child.get(_MEDIA):
            _clean_inside(child, page_url, site)
        elif any(d.get(_KEEP) or d.get(_MEDIA) for d in child.iterdescendants()):
            _prune(child, page_url, site)
        else:
            child.drop_tree()
    # A wrapper's own loose text is no paragraph of body_text (split_paragraphs gave every
    # readable run a <p>); what is left is a byline, a date or whitespace.
    if box.text and box.text.strip():
        box.text = None
    for child in box:
        if child.tail and child.tail.strip():
            child.tail = None


def _attached(el: etree._Element, root: etree._Element) -> bool:
    """True while el is still inside root (not removed with an ancestor meanwhile)."""
    return any(a is root for a in el.iterancestors())


def _clean_inside(el: etree._Element, page_url: str, site: SiteContext) -> None:
    """Inside a kept block: embeds from hosts not allowed and ad labels go."""
    for x in list(el.iterdescendants()):
        if not _attached(x, el):
            continue
        if (x.tag == "iframe" and not _iframe_ok(x, page_url, site)) or (
            x.tag not in ("img", "br", "hr") and body.AD_TEXT.match(text_of(x) or "-")
        ):
            x.drop_tree()


def _story_markup(doc: etree._Element) -> bool:
    """True when the page marks up a story: a schema.org articleBody, or an <article> with
    its own headline that is not a static page (WordPress classes those "type-page")."""
    if doc.xpath("//*[@itemprop='articleBody' or @property='articleBody']"):
        return True
    return any(
        "type-page" not in classes(a).split()
        for a in doc.iter("article")
        if a.get(STORY_ARTICLE) is not None and a.find(".//h1") is not None
    )


# Path words of a site's news and blog sections, in the languages of the sites we read.
_NEWS_PATH = re.compile(
    r"/(?:news|nachrichten|aktuell(?:es)?|meldungen?|artikel|article|story|stories|blog|"
    r"posts?|presse?|press-releases?|noticias?|actualites?|notizie|nieuws|wiadomosci)"
    r"(?:[/_.-]|$)",
    re.I,
)


def _short_news(
    url: str, words: int, container: etree._Element | None, shown: Callable[[], datetime | None]
) -> bool:
    """A short story without article metadata: some prose under a news or blog path, or
    with a date shown beside it (shown). A page of linked teasers is still a listing."""
    if words < 40 or container is None or _listing(container):
        return False
    if _NEWS_PATH.search(urlsplit(url).path):
        return True
    return words >= 60 and shown() is not None


# A page without article metadata is a story from this many words in its body region
# on: 150 read every post of a blog theme without metadata as one, and the corpus's
# undated news items and blog posts of 80 to 150 words too (F1 +0.004 there).
_STORY_WORDS = 80
# The last folder of a site's own pages, in the languages of the sites we read.
_STATIC_PAGE = re.compile(
    r"/(?:about|about-us|about-me|contact|contact-us|kontakt|impressum|imprint|privacy|"
    r"privacy-policy|datenschutz|datenschutzerklaerung|terms|terms-of-service|agb|legal|"
    r"ueber-uns|uber-uns|wir-ueber-uns|cookies?|cookie-policy|disclaimer|faq|jobs|careers|"
    r"karriere|advertise|werbung|mediadaten|newsletter|subscribe|abo|login|register|"
    r"mentions-legales|qui-sommes-nous|aviso-legal|quienes-somos|contacto)(?:\.html?)?/?$",
    re.I,
)
# Fewer words than this besides the headline's are no story's body (a share button's
# "Share", a "Read more" link): the shortest real news briefs hold two sentences.
_MIN_BODY_WORDS = 10


def _in_story_region(container: etree._Element | None) -> bool:
    """True when the body sits in an <article>, <main> or a box named like a story's."""
    if container is None:
        return False
    return any(
        el.tag in ("article", "main") or body.names_story_box(el)
        for el in (container, *ancestors(container))
    )


# Chinese, Japanese and Korean text has no spaces between words: its characters count.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _word_count(text: str) -> int:
    """Words in a text, about two CJK characters counting as one word."""
    return max(len(text.split()), len(_CJK.findall(text)) // 2)


def _listing(container: etree._Element | None) -> bool:
    """True for a box of teasers: three or more headings that are links to elsewhere, one
    for every three paragraphs or more (a story with a related box has far fewer)."""
    if container is None:
        return False
    linked = 0
    for h in container.iter("h2", "h3", "h4"):
        anchors = [a for a in h.iter("a") if a.get("href")]
        if anchors and " ".join(text_of(a) for a in anchors) == text_of(h):
            linked += 1
    if linked < 3:
        return False
    paragraphs = sum(1 for p in container.iter("p") if len(text_of(p)) >= 25)
    return linked * 3 >= paragraphs


def _has_byline(doc: etree._Element) -> bool:
    return bool(
        doc.xpath(
            './/a[contains(concat(" ", @rel, " "), " author ")]'
            ' | .//a[contains(@href, "/author/")]'
            ' | .//*[contains(@class, "byline")]'
        )
    )


def _byline(doc: etree._Element, container: etree._Element | None = None) -> str | None:
    """The author's name from the visible byline: an author link, a box classed as a
    byline, else a short "By Jane Roe" line in the story's box."""
    for a in doc.xpath(
        './/a[contains(concat(" ", @rel, " "), " author ")] | .//a[contains(@href, "/author/")]'
    ):
        if text_of(a) and not body.in_chrome(a, furniture=True):
            return text_of(a)
    for el in doc.xpath('.//*[contains(@class, "byline") or contains(@class, "author")]'):
        if body.is_furniture(el) or body.in_chrome(el, furniture=True):
            continue
        links = [text_of(a) for a in el.iter("a") if text_of(a)]
        text = links[0] if links else re.sub(r"^(by|written by)\s+", "", text_of(el), flags=re.I)
        text = re.split(r"\s+(?:in|on|\||·|-|—)\s+", text)[0].strip()
        if 0 < len(text) < 80:
            return text
    for el in _story_parts(doc, container, ("p", "div", "span", "address", "li"), _by_opening):
        text = text_of(el)
        m = _BY_LINE.match(text) if len(text) <= 120 else None
        # "By Friday, the vote was final." is a sentence; "By Monday Night" no name.
        if m and not _SENTENCE_END.search(text) and not _NOT_NAME.match(m.group("name")):
            return m.group("name")
    return None


def _by_opening(el: etree._Element) -> bool:
    """True when the word "By" (or Von, Por…) opens an element's own text: a quick test
    before its text is read."""
    opening = " ".join((el.text or "")[:24].split()).lower() + " "
    return opening.startswith(_BY_WORDS) and len(el) <= 3


def _story_parts(
    doc: etree._Element, container: etree._Element | None, tags: tuple[str, ...], wanted
):
    """The elements of the story's box (see _story_box) that pass the quick test wanted
    and are neither furniture nor inside another story's <article> (a teaser in it)."""
    story = _story_box(doc, container)
    if story is None:
        return
    boxes = [story]
    if story is container:
        # No <article> or <main>, and the container sits right under <body> (see
        # _story_box): the boxes after it (its tag list) are looked at too.
        boxes += [s for s in container.itersiblings() if isinstance(s.tag, str)]
    for box in boxes:
        for el in box.iter(*tags):
            if (
                not wanted(el)
                or _in_sidebar(el)
                or any(
                    (a.tag == "article" and not a.get(STORY_ARTICLE))
                    or signals.FURNITURE.search(classes(a))
                    for a in (el, *ancestors(el, box))
                )
            ):
                continue
            yield el


def _in_sidebar(el: etree._Element) -> bool:
    """True inside a sidebar (an <aside>, a complementary region, a "sidebar" or "widget"
    box), where tag clouds and other stories' bylines are; an article's own <footer>
    with its tags is not one."""
    return any(
        a.tag == "aside" or a.get("role") == "complementary" or _SIDEBAR.search(classes(a))
        for a in ancestors(el)
    )


_SIDEBAR = re.compile(r"sidebar|widget")


_SENTENCE_END = re.compile(r"[.!?…]$")
_NOT_NAME = re.compile(
    r"(?i)^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|"
    r"mittwoch|donnerstag|freitag|samstag|sonntag|january|february|march|april|may|june|"
    r"july|august|september|october|november|december|today|tomorrow|yesterday|favor|"
    r"the|this|that|order|default|design)\b"
)


# "By Jane Roe", "Von Max Muster und Erika Mustermann", "Por Ana Díaz": a name of one to
# four capitalised words (or two such names), and nothing else on the line but a date.
_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w'’.-]*|van|von|de|da|del|der|la|le)){0,3}"
_BY_WORDS = ("by ", "von ", "por ", "par ", "di ", "door ", "av ", "autor", "author")
_BY_LINE = re.compile(
    rf"^(?i:by|von|por|par|di|door|av|autor(?:in)?:|author:)\s+"
    rf"(?P<name>{_NAME}(?:(?:\s*,|\s+(?:and|und|y|et|e|en|i))\s+{_NAME})?)"
    r"\s*(?:[|·,–—-].{0,40})?$",
)


def _category_links(doc: etree._Element) -> list[etree._Element]:
    found = doc.xpath('.//a[contains(concat(" ", @rel, " "), " category ")]')
    if not found:
        for crumbs in doc.xpath('.//*[contains(@class, "breadcrumb") or @id="breadcrumbs"]'):
            anchors = [a for a in crumbs.iter("a") if a.get("href")]
            found = anchors[1:-1] if len(anchors) > 2 else anchors[1:]
            if found:
                break
    return found


def _section(doc: etree._Element, d: Declared, url: str) -> tuple[str | None, str | None]:
    cats = _category_links(doc)
    name = d.section or (text_of(cats[0]) if cats else "")
    for a in cats:
        if not name or slugify(text_of(a)) == slugify(name):
            href = _http_url(a.get("href"), url) or ""
            path = [p for p in urlsplit(href).path.split("/") if p]
            if path:
                return path[-1], name or text_of(a)
    if name:
        return slugify(name), name
    # Last resort, the URL's first folder: '/world/2024/03/02/slug/' is in 'world'. The
    # last segment is the story's own slug and date folders are no section.
    segments = [p for p in urlsplit(url).path.split("/") if p][:-1]
    parts = [p for p in segments if not p.isdigit()]
    return (parts[0], parts[0].replace("-", " ").title()) if parts else (None, None)


def _tag_links(doc: etree._Element, container: etree._Element | None) -> list[str]:
    """The story's visible tags: links marked rel="tag", else the links of a tag list
    ("post-tags", "article-tags", "Schlagworte") beside the story, never a sidebar's
    tag cloud."""
    tags = [
        text_of(a)
        for a in doc.xpath('.//a[contains(concat(" ", @rel, " "), " tag ")]')
        if "category" not in (a.get("rel") or "") and text_of(a) and not _in_sidebar(a)
    ]
    if tags:
        return tags
    parts = ("div", "ul", "p", "section", "span", "nav")
    for box in _story_parts(doc, container, parts, lambda el: _TAG_LIST.search(classes(el))):
        if body.is_furniture(box):
            continue
        names = [text_of(a) for a in box.iter("a") if a.get("href") and text_of(a)]
        names = [n.lstrip("#") for n in names if len(n) <= 60]
        if 0 < len(names) <= 40:
            return names
    return []


# Class and id words of a story's tag list.
_TAG_LIST = re.compile(
    r"(?:^|[\s_-])(?:tags|tag-?list|tag-?links|post-?tags|entry-?tags|article-?tags|"
    r"story-?tags|keywords|schlagworte|schlagwoerter|etiquetas|topics-list)(?=$|[\s_-])"
)


def _story_box(doc: etree._Element, container: etree._Element | None) -> etree._Element | None:
    """The box around the story's text and its furniture: its <article>, else <main>,
    else the container's parent."""
    if container is None:
        return None
    article = next(container.iterancestors("article", "main"), None)
    if container.tag in ("article", "main"):
        article = container
    if article is not None:
        return article
    parent = container.getparent()
    return parent if parent is not None and parent.tag not in ("body", "html") else container


# A date in a story's address: /2024/03/02/, /2024-03-02-, /20240302/.
_URL_DATE = re.compile(r"/((?:19|20)\d\d)([/-]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?=[/_.-]|$)")


def _url_date(url: str, tz: tzinfo) -> datetime | None:
    """The day a story's address gives, at midnight in the site's zone; a year and month
    alone ("/2024/03/") give no day, and none is made up."""
    m = _URL_DATE.search(urlsplit(url).path)
    if not m:
        return None
    try:
        day = datetime(int(m.group(1)), int(m.group(3)), int(m.group(4)), tzinfo=tz)
    except ValueError:
        return None  # 2024/02/30
    # A day to come is a report's subject ("/report/2030-10-10/"), not its date.
    return day if day <= datetime.now(tz) + timedelta(days=1) else None


# Where lazy-loading scripts keep a picture's real address while src holds a placeholder.
_LAZY_SRC = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-url")
_SRCSETS = ("data-srcset", "data-lazy-srcset", "srcset")


def image_src(img: etree._Element) -> str | None:
    """The real address of a picture (as written, unresolved), or None.

    Lazy-loading keeps it in data-src and the like, or only in a srcset (the img's own or
    its <picture>'s <source>s), while src holds a placeholder, often a data: URI, which
    is never the picture.
    """
    for attr in (*_LAZY_SRC, "src"):
        value = (img.get(attr) or "").strip()
        if value and not value.lower().startswith("data:"):
            return value
    sources = [img]
    # libxml2 does not know <source> is empty and nests the <img> inside it.
    picture = next((a for a in list(img.iterancestors())[:2] if a.tag == "picture"), None)
    if picture is not None:
        sources += list(picture.iter("source"))
    for el in sources:
        for attr in _SRCSETS:
            if best := _largest(el.get(attr)):
                return best
    return None


def _largest(srcset: str | None) -> str | None:
    """The widest candidate of a srcset ("a.jpg 400w, b.jpg 1200w" → "b.jpg")."""
    best, best_size = None, -1.0
    for candidate in re.split(r",\s+", (srcset or "").strip()):
        parts = candidate.split()
        if not parts or parts[0].lower().startswith("data:"):
            continue
        m = re.fullmatch(r"(\d+(?:\.\d+)?)[wx]", parts[1]) if len(parts) > 1 else None
        size = float(m.group(1)) if m else 0.0
        if size > best_size:
            best, best_size = parts[0], size
    return best


def _same_image(a: str, b: str) -> bool:
    pa, pb = urlsplit(a).path, urlsplit(b).path
    return _SIZE_SUFFIX.sub("", pa) == _SIZE_SUFFIX.sub("", pb)


def _image(
    doc: etree._Element, d: Declared, url: str, container: etree._Element | None
) -> Image | None:
    def pictures():
        # Judged one at a time, as far as they are needed (a page may have hundreds).
        for i in doc.iter("img", "amp-img"):
            if image_src(i) and not body.in_chrome(i, container=container, keep=("figure",)):
                yield i

    src = _http_url(d.image, url)
    if src is None:
        # No declared image: the first large picture before or at the top of the body.
        for i in pictures():
            w = i.get("width", "")
            hidden = "display:none" in (i.get("style") or "").replace(" ", "")
            in_figure = any(a.tag == "figure" for a in ancestors(i))
            if not hidden and ((w.isdigit() and int(w) >= 300) or in_figure):
                src = _http_url(image_src(i), url)
                break
    if src is None:
        return None
    shown = next(
        (i for i in pictures() if _same_image(_http_url(image_src(i), url) or "", src)), None
    )
    caption = d.image_caption or (_caption(shown) if shown is not None else None)
    return Image(url=src, caption=caption or None)


def _caption(img: etree._Element) -> str | None:
    for anc in list(ancestors(img))[:4]:
        # Stop where the box holds other pictures: its captions belong to them.
        if sum(1 for _ in anc.iter("img", "amp-img")) > 1:
            break
        if anc.tag == "figure":
            cap = anc.find(".//figcaption")
            if cap is not None and text_of(cap):
                return text_of(cap)
        for el in anc.iter():
            if (
                el is not img
                and isinstance(el.tag, str)
                and (el.tag == "figcaption" or re.search(r"caption", classes(el)))
            ) and text_of(el):
                return text_of(el)
    return None


def _lede(doc: etree._Element, title: str) -> str | None:
    for el in doc.xpath(
        './/*[contains(@class, "subtitle") or contains(@class, "standfirst")'
        ' or contains(@class, "dek") or contains(@class, "lede")'
        ' or contains(@class, "excerpt") or contains(@class, "summary")]'
    ):
        if body.is_furniture(el) or body.in_chrome(el, furniture=True):
            continue
        text = text_of(el)
        if text and text != title:
            return text
    return None


def _visible_date(
    doc: etree._Element, container: etree._Element | None, title: str, tz: tzinfo
) -> datetime | None:
    """The date shown with the story: a <time> (its datetime, else its text) or a "date"
    element, looked for only around the story.

    The story's region is its <article>, else the body container and the headline's
    surroundings (its parent and grandparent): a date ticker in the top bar ("Saturday,
    28 November 2026") or a teaser's date in the sidebar is not the story's date.
    """
    regions: list[etree._Element] = []
    story = None
    if container is not None:
        story = next(container.iterancestors("article"), None)
        if container.tag == "article":
            story = container
    if story is not None:
        regions.append(story)
    else:
        if container is not None:
            regions.append(container)
        h1 = next((h for h in doc.iter("h1") if text_of(h) == title), None)
        if h1 is None:
            h1 = next(doc.iter("h1"), None)
        near = list(ancestors(h1))[:2] if h1 is not None else []
        regions += [a for a in near if a.tag not in ("html", "body")]
    candidates: list[etree._Element] = []
    for region in regions:
        candidates += [t for t in region.iter("time") if t not in candidates]
    for region in regions:
        candidates += [
            e for e in region.xpath('.//*[contains(@class, "date")]') if e not in candidates
        ]
    for el in candidates:
        if _aside_story(el, regions):
            continue
        if el.tag == "time" and el.get("datetime"):
            dt = parse_date(el.get("datetime"), tz)
        else:
            dt = parse_visible_date(text_of(el), tz)
        if dt:
            return dt
    return None


def _aside_story(el: etree._Element, regions: list[etree._Element]) -> bool:
    """True for a date that belongs to something else: a teaser <article> inside the
    region, a sidebar, a comment, a related box."""
    if body.is_furniture(el) or body.in_chrome(el, furniture=True):
        return True
    return any(a.tag == "article" and a not in regions for a in ancestors(el))
