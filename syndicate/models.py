"""The newsroom's data: plain dataclasses, no I/O."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

# Line breaks and other control characters: never in a header, a name or a title line.
_CONTROL = re.compile(r"[\r\n\x00-\x1f\x7f]+")


class SubscriberStatus(StrEnum):
    """Where a subscriber stands; only people.py changes it."""

    PENDING = "pending"  # asked, not yet confirmed (double opt-in)
    ACTIVE = "active"  # receives the digests they chose
    UNSUBSCRIBED = "unsubscribed"  # their choice; kept so a bounce does not overwrite it
    BOUNCED = "bounced"  # the address does not take mail


class DeliveryStatus(StrEnum):
    """Where one ledger row stands (in the order `syndicate status` lists them)."""

    SENT = "sent"  # accepted by the mail server
    PENDING = "pending"  # not tried yet
    DEFERRED = "deferred"  # a temporary failure; tried again at next_try
    FAILED = "failed"  # a permanent failure, or retries stopped
    SKIPPED = "skipped"  # not sent on purpose (a suppressed address)


class EditionState(StrEnum):
    """Where an edition stands before its ledger takes over (sending and sent are read
    from the ledger, not stored)."""

    READY = "ready"  # made for a digest that asks no approval: sent as it is made
    DRAFT = "draft"  # waiting for an editor (approve = true)
    APPROVED = "approved"  # an editor approved it, or its deadline sent it
    HELD = "held"  # an editor held it back; its stories return in the next edition
    SKIPPED = "skipped"  # its approval deadline passed with "skip"; stories return too

    @property
    def sendable(self) -> bool:
        """Whether its ledger may be filled and sent."""
        return self in (EditionState.READY, EditionState.APPROVED)

    @property
    def returned(self) -> bool:
        """Whether its stories count as never carried (they go in the next edition)."""
        return self in (EditionState.HELD, EditionState.SKIPPED)


# What a fetched URL turned out to be; the site source decides what to fetch again by it.
PageKind = Literal["article", "listing", "sitemap", "robots", "page", "feed", "redirect"]


def one_line(value: str) -> str:
    """A header value from data: control characters (CR, LF…) become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def short_hash(text: str, length: int = 12) -> str:
    """A short, stable hex digest used for ids and content hashes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


@dataclass
class CrossLink:
    """One ALSO READ entry inside a story's body.

    ``href`` is the link as found (made absolute and canonical), ``target_url`` the story it
    finally points at after redirects and title matches (``None`` while unresolved).
    """

    label: str
    href: str | None = None
    external: bool = False
    target_url: str | None = None
    position: int = 0
    after_paragraph: int = 0


@dataclass
class Image:
    """A story's lead image."""

    url: str
    caption: str | None = None


@dataclass
class MediaInfo:
    """What an image server said of one image: its type and size in bytes."""

    url: str
    type: str | None
    length: int | None
    status: int | None
    checked_at: datetime


@dataclass
class Story:
    """A news story as gathered, identified by its canonical URL."""

    url: str
    title: str
    published: datetime | None = None
    modified: datetime | None = None
    author: str | None = None
    section: str | None = None
    section_name: str | None = None
    tags: list[str] = field(default_factory=list)
    image: Image | None = None
    summary: str | None = None
    body_text: list[str] = field(default_factory=list)
    body_html: str = ""
    also_read: list[CrossLink] = field(default_factory=list)
    language: str | None = None
    first_seen: datetime | None = None

    @property
    def id(self) -> str:
        """Short hash of the canonical URL: stable across gathers and stores."""
        return short_hash(self.url)

    def content_hash(self) -> str:
        """Hash of what a reader sees; a change marks the story as updated."""
        data = {
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "modified": self.modified.isoformat() if self.modified else None,
            "author": self.author,
            "section": self.section,
            "tags": self.tags,
            "image": asdict(self.image) if self.image else None,
            "summary": self.summary,
            "body_html": self.body_html,
            "also_read": [(c.label, c.href, c.external) for c in self.also_read],
        }
        return short_hash(json.dumps(data, sort_keys=True, ensure_ascii=False), 32)


@dataclass
class EditionStory:
    """A story as one edition carries it: "updated" when it was sent before and changed."""

    story: Story
    updated: bool = False
    content_hash: str = ""
    listed: bool = False  # a "More stories" headline only (overflow = "list")


@dataclass
class Edition:
    """One issue of one digest, identified by (schedule, slot)."""

    schedule: str
    slot: datetime
    window_start: datetime | None
    window_end: datetime
    stories: list[EditionStory] = field(default_factory=list)
    subject: str = ""
    html: str = ""
    text: str = ""
    id: int | None = None
    created_at: datetime | None = None
    state: EditionState = EditionState.READY
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    backlog: int = 0  # stories of its window left for the next edition (not stored)

    @property
    def featured(self) -> list[EditionStory]:
        """The stories it carries in full (the listed headlines apart)."""
        return [e for e in self.stories if not e.listed]

    @property
    def listed(self) -> list[EditionStory]:
        """Its "More stories" headlines."""
        return [e for e in self.stories if e.listed]


@dataclass
class EditionRecord:
    """One edition as `editions list` and `status` show it: no bodies, its counts."""

    edition: Edition
    stories: int = 0
    listed: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # ledger rows by status
    # Per (status, kind of error): how many rows, and the first error text seen.
    errors: dict[tuple[str, str], list] = field(default_factory=dict)

    def add_error(self, status: str, error: str, n: int) -> None:
        """Count n rows of this status that ended with this error text."""
        key = (status, error_kind(error))
        seen = self.errors.setdefault(key, [0, error])
        seen[0] += n

    @property
    def shown_state(self) -> str:
        """draft, held, skipped; or, once sendable: approved (nothing sent yet), sending
        (rows left), sent (none left), or ready (no recipients yet)."""
        state = self.edition.state
        if not state.sendable:
            return str(state)
        left = sum(self.counts.get(x, 0) for x in (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED))
        if left:
            return "sending"
        if sum(self.counts.values()):
            return "sent"
        return str(state)


# An address in an error text ("reader@example.org: ..."): kinds of error are told apart
# without it.
_ADDRESS = re.compile(r"<?[\w.+-]+@[\w-]+(\.[\w-]+)+>?:?\s*")


def error_kind(error: str) -> str:
    """What kind of error a delivery's error text tells, without the recipient's address:
    the same refusal for 300 addresses is one kind."""
    return " ".join(_ADDRESS.sub("", error).split())[:200]


@dataclass
class Subscriber:
    """Someone who receives digests; identity is the lower-cased email address."""

    email: str
    name: str = ""
    status: SubscriberStatus = SubscriberStatus.ACTIVE
    digests: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    subscribed_ip: str | None = None
    subscribed_at: datetime | None = None
    confirmed_ip: str | None = None
    confirmed_at: datetime | None = None
    soft_bounces: int = 0

    @property
    def id(self) -> str:
        """Short hash of the lower-cased address: what tokens carry instead of the address."""
        return short_hash(self.email.strip().lower())


@dataclass
class Reactivation:
    """An operator's word that brought an address back from what it was (erased, bounced,
    complained, unsubscribed): the suppression's reason and time, why, who and when."""

    was: str
    detail: str
    since: datetime | None
    reason: str
    by: str
    at: datetime


@dataclass
class Delivery:
    """One edition to one subscriber: a row of the ledger."""

    id: int
    edition_id: int
    subscriber_id: str
    email: str
    name: str
    status: DeliveryStatus
    attempts: int = 0
    next_try: datetime | None = None
    message_id: str | None = None
    error: str | None = None
    sent_at: datetime | None = None


@dataclass
class FetchState:
    """What we remember of one URL between gathers: validators and what it held."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    status: int | None = None
    kind: PageKind | None = None
    canonical: str | None = None  # the story URL this page was stored under
    redirect_to: str | None = None
    links: list | None = None  # a listing's or sitemap's discoveries, reused on 304
    fetched_at: datetime | None = None


@dataclass
class GatherReport:
    """Counts of one gather run, plus one line per failure."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    crosslinks: int = 0
    requests: int = 0
    not_modified: int = 0
    disallowed: int = 0  # URLs robots.txt keeps us from; skipped, not failed
    failures: list[str] = field(default_factory=list)
    started: datetime | None = None
    finished: datetime | None = None

    def fail(self, url: str, what: str, done: str = "skipped") -> str:
        """Record one failed URL with what happened and what was done about it."""
        self.failed += 1
        line = f"{url}: {what}; {done}"
        self.failures.append(line)
        return line

    def summary(self) -> str:
        """The one-line summary printed at the end of a gather."""
        secs = (
            f" in {(self.finished - self.started).total_seconds():.1f}s"
            if self.started and self.finished
            else ""
        )
        robots = f", {self.disallowed} disallowed by robots.txt" if self.disallowed else ""
        return (
            f"gathered: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.failed} failed, {self.crosslinks} cross-links{robots}{secs}"
        )
