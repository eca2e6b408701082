"""The store: the one source of truth. The Protocols the rest of syndicate is written
against (one per role: stories, the archive, editions, people, the ledger, telemetry; Store
is all of them), and an opener by URL (SQLStore, over SQLite or PostgreSQL, is the one
implementation). Nothing here imports SQLAlchemy until a store is opened."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from syndicate.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionRecord,
    EditionState,
    FetchState,
    GatherReport,
    MediaInfo,
    Reactivation,
    Story,
    Subscriber,
    SubscriberStatus,
)


class StoryStore(Protocol):
    """What a Source needs, and all it is given: the stories it saves (with their
    cross-links) and what it remembers of the URLs it fetched."""

    def fetch_states(self, urls: Iterable[str]) -> dict[str, FetchState]:
        """The remembered state of each of these URLs that has one."""

    def all_fetch_states(self) -> dict[str, FetchState]:
        """Every remembered URL (used to resolve redirects and aliases)."""

    def save_fetch_states(self, states: Iterable[FetchState]) -> None:
        """Insert or replace the state of these URLs."""

    def save_story(self, story: Story) -> str:
        """Insert or update a story with its cross-links: 'new', 'updated' or 'unchanged'."""

    def story_urls(self) -> set[str]:
        """Canonical URLs of every stored story."""


class ArchiveStore(Protocol):
    """The stored stories read back: listings and what tells their change (feeds,
    `stories`), sections, what is known of lead images, and the pass after a gather that
    points cross-links at stored stories."""

    def stories(
        self,
        section: str | Iterable[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Story]:
        """Stored stories, newest first, with their cross-links."""

    def story_keys(
        self, section: str | Iterable[str] | None = None, limit: int | None = None
    ) -> list[list]:
        """What tells a change in the stories ``stories()`` would return (no bodies read)."""

    def sections(self) -> dict[str, str]:
        """Every stored section: slug → display name."""

    def media(self, urls: Iterable[str]) -> dict[str, MediaInfo]:
        """What is known of these image URLs (those probed before)."""

    def save_media(self, infos: Iterable[MediaInfo]) -> None:
        """Insert or replace what is known of some image URLs."""

    def resolve_crosslinks(self) -> int:
        """Point every cross-link at its stored target (redirects, canonical URLs, titles)."""


class EditionStore(Protocol):
    """Digest editions: the stories one would carry, what earlier ones carried,
    and the editions made (one per schedule and slot)."""

    def digest_candidates(
        self, horizon: datetime, sections: Iterable[str] | None, newest: int = 0
    ) -> list[tuple[Story, str]]:
        """Stories first gathered or changed since horizon (and the ``newest`` newest of
        any age), newest first, with their content hashes."""

    def sent_before(self, schedule: str, story_ids: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """(hash last carried, carried as updated once) of stories earlier editions carried."""

    def last_edition(self, schedule: str, before: datetime | None = None) -> Edition | None:
        """The newest edition of a schedule (before a slot), without its stories."""

    def edition(self, schedule: str, slot: datetime) -> Edition | None:
        """The edition made for (schedule, slot), with its stories."""

    def edition_by_id(self, edition_id: int) -> Edition | None:
        """The edition with this id, with its stories."""

    def save_edition(
        self, edition: Edition, recipients: Iterable[Subscriber] | None = None
    ) -> tuple[Edition, bool]:
        """Store a new edition with its recipients' ledger rows, in one transaction; or
        return the one (schedule, slot) already has."""

    def decide_edition(
        self,
        edition_id: int,
        state: EditionState,
        by: str,
        note: str = "",
        recipients: Iterable[Subscriber] | None = None,
        only_from: Iterable[EditionState] = (),
    ) -> bool:
        """Approve, hold or skip an edition (filling its ledger in the same transaction)."""

    def sent_editions(
        self,
        schedules: Iterable[str],
        limit: int = 20,
        offset: int = 0,
        slot_from: datetime | None = None,
        slot_until: datetime | None = None,
    ) -> tuple[list[Edition], int]:
        """Editions of these schedules that went out (sendable, a copy sent), newest
        first, without bodies, slots in [slot_from, slot_until): (one page, how many)."""

    def edition_records(
        self, schedule: str | None = None, limit: int = 20, edition_id: int | None = None
    ) -> list[EditionRecord]:
        """The newest editions with their story and ledger counts and errors by kind."""

    def first_edition_made(self, schedule: str) -> datetime | None:
        """When the schedule's first edition was made."""

    def never_carried(
        self, schedule: str, sections: Iterable[str] | None, after: datetime, before: datetime
    ) -> int:
        """Stories first gathered in [after, before) no edition of the schedule carried."""


class PeopleStore(Protocol):
    """Subscribers, their digests, the suppression list, the reasons addresses were
    brought back, and one person's data as a whole (their export, their erasure)."""

    def save_subscriber(self, sub: Subscriber) -> str:
        """Insert or update a subscriber and their digests: 'new' or 'updated'."""

    def subscriber(self, email_or_id: str) -> Subscriber | None:
        """One subscriber by address or id."""

    def subscribers(
        self, digest: str | None = None, status: SubscriberStatus | None = None
    ) -> list[Subscriber]:
        """Subscribers (of one digest, in one status)."""

    def remove_subscriber(self, email_or_id: str) -> bool:
        """Delete a subscriber and their subscriptions; whether one was there."""

    def suppress(self, email: str, reason: str) -> None:
        """Never mail this address again (only its hash is kept)."""

    def unsuppress(self, email: str) -> None:
        """Take an address off the suppression list."""

    def suppressed(self, emails: Iterable[str]) -> set[str]:
        """Which of these addresses are suppressed."""

    def suppression(self, email: str) -> tuple[str, datetime] | None:
        """Why and since when an address is suppressed (None: it is not)."""

    def reactivate(self, email: str, record: Reactivation) -> None:
        """Lift the address's suppression and keep the operator's reason, at once."""

    def reactivations(self, email: str) -> list[Reactivation]:
        """The reasons this address was brought back, oldest first."""

    def person_deliveries(self, email: str) -> list[dict]:
        """Every ledger row of this address with its edition's digest, slot and subject."""

    def erase_subscriber(self, email: str) -> tuple[bool, int]:
        """Delete everything of this person but anonymous ledger counts and a hash of the
        address on the suppression list: (whether there was a subscriber, rows made
        anonymous)."""


class LedgerStore(Protocol):
    """The delivery ledger (invariant 3): rows added per edition, claimed in batches
    by senders, marked one by one, released, and counted."""

    def add_deliveries(self, edition_id: int, subscribers: Iterable[Subscriber]) -> int:
        """A pending row for each subscriber that has none for this edition; how many."""

    def claim(
        self, edition_id: int, worker: str, limit: int, now: datetime, lease: timedelta
    ) -> list[Delivery]:
        """Take up to ``limit`` due rows not held by a live claimer, until now + lease."""

    def mark_sent(
        self, delivery_id: int, message_id: str, now: datetime, by: str | None = None
    ) -> None:
        """Sent (the server said 250): its own transaction, at once."""

    def mark_deferred(self, delivery_id: int, error: str, next_try: datetime) -> None:
        """A temporary failure: tried again at next_try."""

    def mark_failed(
        self, delivery_id: int, error: str, status: DeliveryStatus = DeliveryStatus.FAILED
    ) -> None:
        """Failed for good (or 'skipped')."""

    def renew(self, worker: str, until: datetime) -> None:
        """Extend the claims a live sender still holds."""

    def release(self, worker: str) -> None:
        """Give back what a sender claimed and did not finish."""

    def close_ledger(self) -> None:
        """Give back the ledger's connections."""

    def open_editions(self, since: datetime, now: datetime) -> list[int]:
        """Editions made since ``since`` with rows a sender could claim now, oldest first."""

    def expire_deferred(self, before: datetime, now: datetime) -> int:
        """Fail the deferred rows (no live claim) of editions made before ``before``."""

    def unfinished_slot(self, schedule: str) -> datetime | None:
        """The slot of the newest edition of a schedule that still has rows to send."""

    def next_due(self, edition_id: int) -> datetime | None:
        """When the earliest deferred row of an edition is due."""

    def recipients_of(self, edition_id: int) -> set[str]:
        """The subscriber ids with a row in this edition's ledger."""

    def delivery_counts(self, edition_id: int | None = None) -> dict[str, int]:
        """Rows by status (for one edition, or all)."""


class TelemetryStore(Protocol):
    """What `status`, /metrics and the heartbeats read and write: processes at
    work, gather runs, recent editions, figures over the whole store."""

    def beat(self, name: str, kind: str, started: datetime, now: datetime, state: str) -> None:
        """A long-running process says it is alive (running) or done (stopped)."""

    def senders(self, since: datetime, now: datetime, window: timedelta) -> list[dict]:
        """Workers and daemons seen since ``since``, with what each sent in ``window``."""

    def stats(self) -> dict[str, tuple[str, str, list[tuple[dict, float]]]]:
        """Figures for /metrics: name → (type, help, [(labels, value)])."""

    def recent_editions(self, limit: int = 10) -> list[dict]:
        """The newest editions with their delivery counts by status."""

    def last_gathers(self, limit: int = 1) -> list[dict]:
        """The newest gather runs."""

    def subscriber_totals(self) -> dict[str, int]:
        """Subscribers by status; active or pending ones whose address is suppressed count
        as 'suppressed' (no send reaches them)."""

    def ping(self) -> None:
        """Raise StoreUnavailable when the database cannot be reached (/healthz)."""

    def record_gather(self, source: str, report: GatherReport) -> None:
        """Remember one gather run's counts."""


class Store(
    StoryStore, ArchiveStore, EditionStore, PeopleStore, LedgerStore, TelemetryStore, Protocol
):
    """Everything syndicate asks of a store: every role, and close(). SQLStore implements
    it over any SQLAlchemy URL (tests/test_store.py checks that the two list the same
    methods, with the same signatures, and that each method belongs to one role). Ask for
    the narrowest role a caller needs; Store where it needs several.

    Every method raises syndicate.errors.StoreUnavailable when the database is gone, and
    StoreError when it fails otherwise."""

    def close(self) -> None:
        """Release connections."""


def open_store(url: str) -> Store:
    """Open (and create or migrate) the store at a SQLAlchemy URL."""
    from syndicate.store.sql import SQLStore

    return SQLStore(url)


def shown_url(url: str) -> str:
    """The store URL as it may be printed: without its password."""
    from syndicate.store.sql import shown_url as shown

    return shown(url)


def upgrade_schema(url: str) -> tuple[str | None, str]:
    """Apply the schema migrations this release needs: (revision before, after).
    A ConfigError names the store (without its password) when the upgrade fails."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from syndicate.errors import ConfigError, db_reason
    from syndicate.store.migrate import upgrade

    engine = create_engine(url)
    try:
        return upgrade(engine)
    except SQLAlchemyError as exc:
        raise ConfigError(
            f"store {shown_url(url)}: upgrade failed ({db_reason(exc)})", "nothing was changed"
        ) from exc
    finally:
        engine.dispose()


def sender_name(process: bool = False) -> str:
    """A claimer name for one send in this process (host, pid, a sequence number and the
    machine's namespace token), or with process=True this process's own name among the
    senders (host:pid:token); see store/claimer.py."""
    from syndicate.store.claimer import process_name, worker_name

    return process_name() if process else worker_name()
