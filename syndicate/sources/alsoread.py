"""Find the ALSO READ lines inside a story body, in the forms news sites write them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from syndicate.sources.html import text_of

# "ALSO READ-", "ALSO READ:", "Also Read |", "ALSO READ –", "READ ALSO:", "SEE ALSO:" …
_PREFIX = re.compile(
    r"^\W{0,3}(also\W{1,3}read|read\W{1,3}also|see\s+also|also\s+see|also\s+watch|read\s+more"
    r"|related\s+stor(?:y|ies)|related)\b\s*(?P<sep>[-–—:|>»•~]+)?\s*(?P<rest>.*)$",
    re.I | re.S,
)
# "Read more" and "Related" open ordinary sentences too ("Read more of our coverage of
# <a>…</a>"): accept them only with a separator right after them and a link.
_WEAK = {"read more", "related"}
_MAX_LABEL = 300


@dataclass
class AlsoReadLine:
    """One ALSO READ entry: its title, and the raw href when it is linked."""

    title: str
    href: str | None


def match(block: etree._Element) -> list[AlsoReadLine] | None:
    """The entries of an ALSO READ block, an empty list for a bare heading, or None.

    A bare heading ("<p><strong>Also read:</strong></p>") announces a list that follows.
    """
    text = text_of(block)
    m = _PREFIX.match(text)
    if not m:
        return None
    phrase = " ".join(m.group(1).lower().split())
    if phrase in _WEAK and not m.group("sep"):
        return None
    rest = m.group("rest").strip()
    links = [
        a
        for a in block.iter("a")
        if a.get("href") and text_of(a) and not _PREFIX.match(text_of(a) + " :")
    ]
    emphasized = any(
        _PREFIX.match(text_of(e) + " :") for e in block.iter("strong", "b", "em", "span")
    )
    if not rest:
        # The whole block is the phrase: a heading for a list, if it is styled as one.
        return [] if (m.group("sep") or emphasized or block.tag.startswith("h")) else None
    if len(rest) > _MAX_LABEL * max(1, len(links)):
        return None
    if links:
        return [AlsoReadLine(text_of(a), a.get("href").strip()) for a in links]
    if phrase in _WEAK or not (m.group("sep") or emphasized or m.group(1).isupper()):
        return None
    return [AlsoReadLine(rest, None)]
