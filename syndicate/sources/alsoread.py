"""Find the ALSO READ lines inside a story body, in the forms news sites write them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from syndicate.sources import signals
from syndicate.sources.html import norm, text_of

# "ALSO READ-", "ALSO READ:", "Also Read |", "READ ALSO:", "Lesen Sie auch:", "Lee también"…
# (signals.ALSO_READ_PHRASE). The words stand apart only by spaces or a hyphen
# ("ALSO-READ"): "Also, read the fine print" is a sentence.
_PREFIX = signals.ALSO_READ_PHRASE
# "Read more" and "Related" open ordinary sentences too ("Read more of our coverage of
# <a>…</a>"): accept them only with a separator right after them and a link.
_WEAK = signals.ALSO_READ_WEAK_WORDS
_MAX_LABEL = 300
_SET_OFF = ("strong", "b", "em", "span", "div", "a", "h2", "h3", "h4", "h5", "h6", "p")


@dataclass
class AlsoReadLine:
    """One ALSO READ entry: its title, and the raw href when it is linked."""

    title: str
    href: str | None


def _phrase(m: re.Match[str]) -> str:
    return " ".join(m.group("phrase").lower().split())


def _titled(phrase: str) -> bool:
    """True when a phrase opening a link's text is no part of the title it names: "Also
    read", "Lesen Sie auch"; but "Related stories about the budget" is a title."""
    return not (_WEAK.match(phrase) or phrase.startswith("related"))


def _label(text: str) -> bool:
    """True when a text is the ALSO READ phrase alone (with its separator, if any)."""
    m = _PREFIX.match(text)
    return bool(m) and not m.group("rest").strip()


def _set_off(block: etree._Element) -> bool:
    """True when the phrase stands alone in an element of its own: "<strong>Also
    read</strong>", a kicker "<div class='cta'>Lea también</div>", "<h3><a>Lesen Sie
    auch</a></h3>", an eyebrow "<h2>Related</h2>"."""
    return any(_label(text_of(e)) for e in block.iterdescendants(*_SET_OFF))


def _entries(block: etree._Element) -> list[AlsoReadLine]:
    """The linked entries of a block. A link may carry the phrase itself
    ("<a>ALSO READ: Title</a>"): its title is what follows the phrase; a link that is only
    the phrase (a label pointing at a topic page) is no entry."""
    lines = []
    for a in block.iter("a"):
        href, text = (a.get("href") or "").strip(), text_of(a)
        if not href or not text or _label(text):
            continue
        m = _PREFIX.match(text)
        # "<a>Related stories about the budget</a>" is a title; "<a>ALSO READ: …</a>" is not,
        # nor is a "Related" eyebrow set in an element of its own inside the link.
        if m and (m.group("sep") or _titled(_phrase(m)) or _set_off(a)):
            text = m.group("rest").strip()
        lines.append(AlsoReadLine(text, href))
    return lines


def opens(text: str, strong: bool = False) -> bool:
    """True when a text starts with an ALSO READ phrase (a quick test before match());
    with strong, only a phrase that is never the start of a sentence ("Also read")."""
    m = _PREFIX.match(text.strip())
    return bool(m) and not (strong and _WEAK.match(_phrase(m)))


def match(block: etree._Element) -> list[AlsoReadLine] | None:
    """The entries of an ALSO READ block, an empty list for a bare heading, or None.

    A bare heading ("<p><strong>Also read:</strong></p>") announces a list that follows.
    The phrase must be set off from what follows, as every real form is: by a separator,
    by emphasis or capitals, as a heading, or with nothing but links after it. "Also read
    <a>the report</a> published last week" is a sentence.
    """
    text = text_of(block)
    m = _PREFIX.match(text)
    if not m:
        return None
    phrase = _phrase(m)
    weak = bool(_WEAK.match(phrase))
    emphasized = _set_off(block)
    # "Related" alone in an eyebrow of its own over one linked headline is a cross-link
    # promo; otherwise a weak phrase needs its separator.
    eyebrow = emphasized and phrase == "related"
    if weak and not m.group("sep") and not eyebrow:
        return None
    rest = m.group("rest").strip()
    links = _entries(block)
    if eyebrow and not m.group("sep") and len(links) != 1:
        return None
    marked = bool(
        m.group("sep") or emphasized or m.group("phrase").isupper() or block.tag.startswith("h")
    )
    if not rest:
        # The whole block is the phrase: a heading for a list, if it is styled as one.
        return [] if marked else None
    if not links and not weak and rest.endswith((":", ">", "»", "→")) and len(text) <= 80:
        # "Lesen Sie auch die folgenden Beiträge:", "Mehr zum Thema Gesundheit:", "LIRE
        # AUSSI SUR REGARDS.FR >>": a heading for the list of links that follows.
        return []
    if len(rest) > _MAX_LABEL * max(1, len(links)):
        return None
    if links:
        only_links = norm(" ".join(line.title for line in links)) == rest
        return links if marked or only_links else None
    if weak or not marked:
        return None
    return [AlsoReadLine(rest, None)]
