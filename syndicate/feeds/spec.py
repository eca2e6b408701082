"""Concrete feeds: the project's feed specs (project/feedspecs.py, feeds/*.toml) expanded
into the feeds a build writes, one per section for a per-section spec."""

from __future__ import annotations

import re
from dataclasses import dataclass

from syndicate.models import short_hash
from syndicate.project.feedspecs import FEED_SETTINGS, FORMATS, FeedSpec, load_feed_specs

# The definitions live with the project's other files; a build reads them from here too.
__all__ = [
    "FEED_SETTINGS",
    "FORMATS",
    "Feed",
    "FeedSpec",
    "expand",
    "load_feed_specs",
    "titled",
]

EXTENSIONS = {"rss": ".rss", "atom": ".atom", "json": ".json"}
MEDIA_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "json": "application/feed+json",
}


@dataclass(frozen=True)
class Feed:
    """One concrete feed to build: a spec, narrowed to one section when per-section."""

    spec: FeedSpec
    path: str  # under the feeds directory, without extension: "all", "sections/world"
    title: str
    description: str
    sections: tuple[str, ...] | None

    def file(self, fmt: str) -> str:
        """The path of this feed in one format, relative to the feeds directory."""
        return self.path + EXTENSIONS[fmt]


def titled(publication: str, title: str) -> str:
    """A title that names its publication, "Asian Lite — World": in a reader's list of
    subscriptions "World" alone could be anyone's. A title that already carries the name
    (as written in feeds/*.toml) is left as it is."""
    if not publication or publication.casefold() in title.casefold():
        return title or publication
    return f"{publication} — {title}" if title else publication


def expand(specs: list[FeedSpec], sections: dict[str, str], publication: str = "") -> list[Feed]:
    """The concrete feeds: per-section specs become one feed per stored section, each
    titled with the publication's name in front.

    ``sections`` maps each stored section slug to its display name.
    """
    feeds = []
    for spec in specs:
        if not spec.per_section:
            title = titled(publication, _fill(spec.title))
            feeds.append(Feed(spec, spec.name, title, _fill(spec.description), spec.sections))
            continue
        for slug in sorted(sections):
            if spec.sections is not None and slug not in spec.sections:
                continue
            name = sections[slug] or slug
            feeds.append(
                Feed(
                    spec,
                    f"{spec.name}/{_safe(slug)}",
                    titled(publication, _fill(spec.title, name)),
                    _fill(spec.description, name),
                    (slug,),
                )
            )
    return feeds


def _fill(template: str, section: str = "all sections") -> str:
    return template.replace("{section}", section)


def _safe(slug: str) -> str:
    """A section slug as a file name: never a path, never hidden, never shared.

    A slug that is not plain lower-case ASCII ("देश", "World", "a.b") keeps what it can and
    gains a short hash of itself, so two sections never write the same file.
    """
    plain = re.sub(r"[^a-z0-9_-]+", "-", slug.lower()).strip("-")
    if plain == slug:
        return plain
    return f"{plain or 'section'}-{short_hash(slug, 8)}"
