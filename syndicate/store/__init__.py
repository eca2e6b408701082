"""The store: the one source of truth. A small Protocol, and an opener by URL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from syndicate.models import Edition, FetchState, GatherReport, MediaInfo, Story


class Store(Protocol):
    """What the pipeline needs from a store; SQLStore implements it over any SQLAlchemy URL."""

    def fetch_states(self, urls: Iterable[str]) -> dict[str, FetchState]:
        """The remembered state of each of these URLs that has one."""

    def save_fetch_states(self, states: Iterable[FetchState]) -> None:
        """Insert or replace the state of these URLs."""

    def save_story(self, story: Story) -> str:
        """Insert or update a story with its cross-links: 'new', 'updated' or 'unchanged'."""

    def story_urls(self) -> set[str]:
        """Canonical URLs of every stored story."""

    def story_keys(
        self, section: str | Iterable[str] | None = None, limit: int | None = None
    ) -> list[list]:
        """What tells a change in the stories ``stories()`` would return (no bodies read)."""

    def stories(
        self,
        section: str | Iterable[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Story]:
        """Stored stories, newest first, with their cross-links."""

    def resolve_crosslinks(self) -> int:
        """Point every cross-link at its stored target (redirects, canonical URLs, titles)."""

    def sections(self) -> dict[str, str]:
        """Every stored section: slug → display name."""

    def media(self, urls: Iterable[str]) -> dict[str, MediaInfo]:
        """What is known of these image URLs (those probed before)."""

    def save_media(self, infos: Iterable[MediaInfo]) -> None:
        """Insert or replace what is known of some image URLs."""

    def digest_candidates(
        self, since: datetime | None, sections: Iterable[str] | None, limit: int
    ) -> list[tuple[Story, str]]:
        """Stories published, first gathered or changed since a time, newest first, with
        their content hashes; with no time, the newest ``limit``."""

    def sent_before(self, schedule: str, story_ids: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """(hash last carried, carried as updated once) of stories earlier editions carried."""

    def last_edition(self, schedule: str, before: datetime | None = None) -> Edition | None:
        """The newest edition of a schedule (before a slot), without its stories."""

    def edition(self, schedule: str, slot: datetime) -> Edition | None:
        """The edition made for (schedule, slot), with its stories."""

    def save_edition(self, edition: Edition) -> tuple[Edition, bool]:
        """Store a new edition, or return the one (schedule, slot) already has."""

    def record_gather(self, source: str, report: GatherReport) -> None:
        """Remember one gather run's counts."""

    def close(self) -> None:
        """Release connections."""


def open_store(url: str) -> Store:
    """Open (and create or migrate) the store at a SQLAlchemy URL."""
    from syndicate.store.sql import SQLStore

    return SQLStore(url)
