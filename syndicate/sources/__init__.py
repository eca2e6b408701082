"""Sources of stories: a small Protocol and a name → class registry.

A new source is one module that defines a class with ``gather`` and registers it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from syndicate.models import GatherReport
from syndicate.project.settings import SiteConfig, SourceConfig
from syndicate.store import StoryStore


class Progress(Protocol):
    """Where a source reports its progress (a rich bar on a terminal, nothing otherwise)."""

    def add(self, n: int = 1) -> None:
        """n more pieces of work are known."""

    def done(self, n: int = 1) -> None:
        """n pieces of work are finished."""

    def failure(self, line: str) -> None:
        """One URL failed; the line says which, what happened and what was done."""


class Source(Protocol):
    """Something that yields stories into the store. It is given the StoryStore role
    only: the stories it saves and the fetch state it keeps, nothing of editions,
    subscribers or the ledger."""

    def __init__(self, cfg: SourceConfig, site: SiteConfig, store: StoryStore) -> None: ...

    def gather(self, report: GatherReport, progress: Progress) -> None:
        """Fetch new and changed stories into the store, counting them in the report."""


SOURCES: dict[str, Callable[..., Source]] = {}


def register(kind: str):
    """Class decorator: make a Source available under a config `kind`."""

    def deco(cls):
        SOURCES[kind] = cls
        return cls

    return deco


def source_for(cfg: SourceConfig, site_cfg: SiteConfig, store: StoryStore) -> Source:
    """Build the source a config names."""
    # Import the built-in sources so they register themselves.
    from syndicate.sources import feed, site  # noqa: F401

    return SOURCES[cfg.kind](cfg, site_cfg, store)
