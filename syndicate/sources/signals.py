"""The words and names the extractor reads a page by, in one place, each with one meaning.

Class and id words say what a box is: furniture around the story (never story text),
layout regions that themes also name their story's wrappers after (a penalty above the
story, furniture inside it), neutral page parts, and the story's own metadata (byline,
caption, lede: kept as fields, never as body text). Tags say the same more reliably than
classes. Text patterns recognise lines that are furniture whatever their markup (comment
prompts, newsletter boxes) and the ALSO READ phrase in the languages news sites write it.

The split between furniture and layout words was measured on the real-page corpus: the
share of the boxes carrying a word that hold story text ("sidebar" wraps the story on 37%
of the pages where it appears, "related" on 7%).
"""

from __future__ import annotations

import re


def _words(spec: str, *, prefix: bool = False) -> str:
    """An alternation of class words; with prefix, a word also matches its compounds
    ("related" in "relatedposts")."""
    return "|".join(w + (r"\w*" if prefix else "") for w in spec.split())


def _class_pattern(*alternatives: str) -> re.Pattern[str]:
    """Matches when one of the class words stands as a word of its own in a class string
    (words are split by spaces, '-' and '_')."""
    return re.compile(r"(?:^|[\s_-])(?:" + "|".join(alternatives) + r")(?=$|[\s_-])")


# Furniture around a story, never story text: share bars, comments, related teasers,
# newsletter and subscription boxes, ads, pagination.
FURNITURE = _class_pattern(
    _words(
        "share sharing sharedaddy social respond reply related recommend newsletter subscribe "
        "subscription signup sponsor advert advertisement outbrain taboola trending popular "
        "dontmiss teaser popup modal cookie pagination prevnext",
        prefix=True,
    ),
    r"comments?|commentlist|comment-\w+|ads?|ad-\w+|promo|banner-ad|prev-next"
    r"|post-navigation|breadcrumbs?|author-box|author-bio|to-top|more-from|read-next",
)
# Regions around the story whose names themes also give to the story's own wrappers
# ("l-sidebar-fixed l-article-body", Blogger's "widget Blog"): furniture inside a body, a
# score penalty (not an exclusion) above it.
SIDEBARS = _class_pattern(_words("sidebar widget nav navigation menu footer", prefix=True))
# Neutral page parts: furniture inside a body, no sign at all above it.
PAGE_PARTS = _class_pattern("header|print|scroll|toolbar|meta|banner|noprint")
# The story's own metadata inside its box: read as fields, never as body text.
STORY_META = _class_pattern(
    "byline|post-meta|entry-meta|tags|tag-links|post-tags|caption|wp-caption-text|credit"
    # The lede sits above the body on some sites and inside it on others; never body text.
    "|standfirst|dek|lede|subtitle|subheadline|kicker|excerpt"
)
# On a heading inside the body these words name a section's heading ("<h3
# class='article-subheadline'>"), not the lede: headings are body text.
SUBHEADING = _class_pattern("subtitle|subheadline|subheading|subhead")
# Words of the boxes that hold the story: a bonus for a candidate body.
STORY_BOX = _class_pattern(
    _words("article content entry post story body text prose main", prefix=True)
)

# Tags of furniture that hold no story text wherever they sit.
FURNITURE_TAGS = frozenset("nav aside footer".split())
FURNITURE_ROLES = frozenset(("navigation", "complementary", "contentinfo"))
# Tags that are no body text inside a body (a figure's text is its caption).
CHROME_TAGS = frozenset(
    "nav aside footer form header figure figcaption ins button noscript script style "
    "template menu".split()
)

# WordPress gives <body> and each post's wrapper a class per tag and category of the post
# ("tag-social-media", "category-credit-card"): editors' topics, not page furniture.
TAXONOMY = re.compile(r"^(?:tag|category)-(?!links?$)")

# A social post embedded as a blockquote that the platform's script turns into a card.
EMBED = re.compile(
    r"tweet|twitter|instagram|instgrm|tiktok|facebook|fb-|reddit|threads|bluesky|mastodon"
    r"|embed"
)

# A block that is only an ad label.
AD_TEXT = re.compile(
    r"^(advertisement|advertisment|anzeige|publicidad|publicité|werbung|ad|ads|sponsored"
    r"|sponsored content|story continues below( this)? advertisement)$",
    re.I,
)

# Loose text that is a story's metadata, not its prose: "By Jane Roe", "Updated: May 2".
META_LINE = re.compile(
    r"^(by|posted|published|updated|last updated|von|veröffentlicht|aktualisiert|por"
    r"|publicado|actualizado|par|publié|mis à jour)\b",
    re.I,
)

# Lines that are furniture whatever their markup: prompts to comment, to subscribe, to
# follow, to share; copyright lines. Matched against a whole short block.
_PROMPTS = (
    # comments
    r"(leave|post|add|write|submit) a (comment|reply)|\d* ?comments?|view comments"
    r"|(schreib|schreibe|hinterlasse) (einen|einen neuen) kommentar|kommentar (schreiben|verfassen)"
    r"|kommentare?|\d+ kommentare|kommentieren sie|diskutieren sie mit|neueste kommentare"
    r"|dejá tu comentario|deja (un|tu) comentario|comentarios|laisser un commentaire"
    r"|commentaires?|إضافة تعليق جديد"
    # newsletters and subscriptions
    r"|(zum|unser) newsletter( anmelden)?|newsletter|sign up for (our|the) newsletter"
    r"|subscribe( now)?( to our newsletter)?|abonnieren|suscríbete|abonnez-vous"
    # follow and share
    r"|(share|teilen|compartir|partager)( this( article| story| post)?)?( (on|mit|en|sur))?:?"
    r"|follow us( on [\w ,&]+)?|folgen sie uns( auf [\w ,&]+)?|síguenos( en [\w ,&]+)?"
    r"|siguenos( en [\w ,&]+)?|suivez-nous( sur [\w ,&]+)?"
    r"|(print|drucken|imprimir|imprimer)( this( article| page)?)?"
    # navigation and tag lines
    r"|zurück( zur (startseite|übersicht))?|back( to (top|home|overview))?|nach oben"
    r"|(tags|schlagworte|schlagwörter|etiquetas|mots-clés|stichworte):.{0,200}"
    r"|keine kommentare.{0,80}|no comments( yet)?|(noch )?keine bewertungen.{0,40}"
    r"|(reading time|lesezeit|tiempo de lectura|temps de lecture):? ?\d+ ?(min\w*)?"
    r"|\d+ ?(min|minutes?|minuten) (read|lesezeit|de lectura|de lecture)"
)
PROMPT_LINE = re.compile(rf"^\W*(?:{_PROMPTS})\W*$", re.I)
COPYRIGHT_LINE = re.compile(r"^(©|\(c\)\s*\d{4}|copyright\s*(©|\(c\))?\s*\d{4})", re.I)


def is_boilerplate(text: str) -> bool:
    """True for a block that is a prompt (comment, subscribe, follow, share, print, reading
    time) or a copyright line, whatever its markup."""
    return len(text) <= 300 and bool(PROMPT_LINE.match(text) or COPYRIGHT_LINE.match(text))


# The ALSO READ phrase, in the forms and languages news sites write it. STRONG phrases
# mark a cross-link whenever they open a block with a link; WEAK ones ("Read more",
# "Related") also open ordinary sentences and need a separator right after them.
ALSO_READ_STRONG = (
    r"also[\s-]+read|read[\s-]+also|see\s+also|also\s+see|also\s+watch|related\s+stor(?:y|ies)"
    r"|related\s+articles?|related\s+news|related\s+coverage|more\s+on\s+this(?:\s+story)?"
    r"|lesen\s+sie\s+auch|lesen\s+sie\s+hier|auch\s+interessant|das\s+könnte\s+sie\s+auch"
    r"\s+interessieren|zum\s+weiterlesen|mehr\s+zum\s+thema|weiterlesen\s+zum\s+thema"
    r"|lee\s+también|lea\s+también|lee\s+además|te\s+puede\s+interesar|le\s+puede\s+interesar"
    r"|también\s+te\s+puede\s+interesar|notas?\s+relacionadas?|noticias?\s+relacionadas?"
    r"|lire\s+aussi|à\s+lire\s+aussi|a\s+lire\s+aussi|voir\s+aussi|lisez\s+aussi"
    r"|vea\s+también|mira\s+también|lesen\s+sie\s+mehr|schon\s+gelesen"
    r"|lea\s+más|lee\s+más|lea\s+aquí|lee\s+aquí|lea\s+además|nota\s+relacionada"
    r"|leia\s+também|veja\s+também|leggi\s+anche|czytaj\s+(?:też|także|również|więcej)"
    r"|dowiedz\s+się\s+więcej"
    r"|zobacz\s+(?:też|także|również)|lees\s+ook|ook\s+interessant|läs\s+också|les\s+også"
    r"|यह\s+भी\s+पढ़ें|ये\s+भी\s+पढ़ें|इसे\s+भी\s+पढ़ें|और\s+पढ़ें"
)
ALSO_READ_WEAK = (
    r"read\s+more|related|more|mehr|siehe\s+auch|weitere\s+artikel|lea|lee|mire|vea|lire"
    r"|watch|listen"
)
ALSO_READ_PHRASE = re.compile(
    rf"^\W{{0,3}}(?P<phrase>{ALSO_READ_STRONG}|{ALSO_READ_WEAK})(?!\w)"
    r"\s*(?P<sep>[-–—:|>»•~?]+)?\s*(?P<rest>.*)$",
    re.I | re.S,
)
ALSO_READ_WEAK_WORDS = re.compile(rf"^(?:{ALSO_READ_WEAK})$", re.I)
