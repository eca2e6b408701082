"""Feed definitions: feeds/*.toml, one feed per file, the file stem being its name.

Read by each feeds build (so an edited file counts at the next build, in the daemon too),
with the same table reader as syndicate.toml and schedules/ (project/settings.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syndicate.errors import ConfigError
from syndicate.project.settings import Setting, read_table, read_toml

FORMATS = ("rss", "atom", "json")

FEED_SETTINGS: dict[str, Setting] = {
    "title": Setting(str, None, "the feed's title; {section} is the section's name", True),
    "description": Setting(str, "", "a line saying what the feed carries"),
    "sections": Setting((str, list), "all", '"all", or a list of section slugs'),
    "entries": Setting(int, 50, "how many stories, newest first", low=1, high=1000),
    "content": Setting(
        str, "full", '"full" (the whole story) or "summary"', choices=("full", "summary")
    ),
    "formats": Setting(list, list(FORMATS), 'any of "rss", "atom", "json"'),
    "per_section": Setting(bool, False, "make one feed per section (like category feeds)"),
}

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class FeedSpec:
    """One feed as its file describes it (a per-section spec stands for many feeds)."""

    name: str
    title: str
    description: str
    sections: tuple[str, ...] | None  # None: every section
    entries: int
    content: str
    formats: tuple[str, ...]
    per_section: bool


def load_feed_specs(project: Path) -> list[FeedSpec]:
    """Read and validate every feeds/*.toml; raise ConfigError listing every problem."""
    problems: list[str] = []
    specs = []
    for path in sorted((project / "feeds").glob("*.toml")):
        spec = _load_one(path, problems)
        if spec is not None:
            specs.append(spec)
    if problems:
        raise ConfigError(problems, "fix the feed file(s) named above and run again")
    return specs


def _load_one(path: Path, problems: list[str]) -> FeedSpec | None:
    where = str(path)
    name = path.stem
    if not _NAME.match(name):
        problems.append(
            f"{where}: the file name {name!r} is the feed's name and URL; use lower-case "
            "letters, digits, '-' and '_'"
        )
        return None
    data = read_toml(path, problems)
    if data is None:
        return None
    before = len(problems)
    v: dict[str, Any] = read_table(where, data, FEED_SETTINGS, problems)
    if len(problems) > before:
        return None
    bad = [f for f in v["formats"] if f not in FORMATS]
    if bad or not v["formats"]:
        problems.append(
            f"{where}: 'formats' has {bad or 'nothing'}; use any of {', '.join(FORMATS)}"
        )
    sections = v["sections"]
    if isinstance(sections, str):
        if sections != "all":
            problems.append(f"{where}: 'sections' is {sections!r}; use \"all\" or a list of slugs")
        sections = None
    elif not all(isinstance(x, str) and x for x in sections):
        problems.append(f"{where}: 'sections' must list section slugs as strings")
    if len(problems) > before:
        return None
    return FeedSpec(
        name=name,
        title=v["title"],
        description=v["description"],
        sections=tuple(sections) if sections is not None else None,
        entries=v["entries"],
        content=v["content"],
        formats=tuple(f for f in FORMATS if f in v["formats"]),
        per_section=v["per_section"],
    )
