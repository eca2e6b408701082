"""An edition's stored HTML as the public archive shows it: the same once-rendered HTML
as the email (nothing is rendered per request), with its personal parts left out.

The stored HTML holds no subscriber data, only the placeholders personalize fills
(render.PLACEHOLDERS): the name becomes a neutral word, and the links that would carry a
subscriber's signed token (unsubscribe, preferences) are taken out, with the " · " that
separated them; a "View in browser" link to the page itself goes too.
"""

from __future__ import annotations

import re

from syndicate.digest.render import NAME, PLACEHOLDERS, PREFERENCES_URL, UNSUBSCRIBE_URL

NEUTRAL_NAME = "reader"  # what "Hello __NAME__," reads on the web: as mime.py's default
_TOKEN_LINKS = "|".join(re.escape(p) for p in (UNSUBSCRIBE_URL, PREFERENCES_URL))
# An <a> whose href is a token placeholder, with a middle dot separator next to it.
_LINK = re.compile(
    r"(?:\s*(?:·|&middot;|&#183;)\s*)?<a\b[^>]*\bhref=[\"'](?:" + _TOKEN_LINKS + r")[\"'][^>]*>"
    r".*?</a>(?:\s*(?:·|&middot;|&#183;)\s*)?",
    re.S | re.I,
)


def public_html(html: str, own_url: str = "") -> str:
    """The stored edition HTML without its personal parts: no placeholder is left."""
    html = _LINK.sub(" ", html)
    if own_url:
        own = re.compile(
            r"<a\b[^>]*\bhref=[\"']" + re.escape(own_url) + r"[\"'][^>]*>.*?</a>", re.S
        )
        html = own.sub("", html)
    html = html.replace(NAME, NEUTRAL_NAME)
    for placeholder in PLACEHOLDERS:  # one outside a link (a custom template): empty
        html = html.replace(placeholder, "")
    return html
