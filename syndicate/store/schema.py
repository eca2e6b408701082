"""The store's tables (SQLAlchemy Core), valid on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)


class AwareDateTime(TypeDecorator):
    """Timezone-aware datetimes kept as UTC, whatever the database does with zones."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; all datetimes must be aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("url", String(2048), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("published", AwareDateTime, index=True),
    Column("modified", AwareDateTime),
    Column("author", Text),
    Column("section", String(200), index=True),
    Column("section_name", Text),
    Column("tags", JSON, nullable=False, default=list),
    Column("image_url", Text),
    Column("image_caption", Text),
    Column("summary", Text),
    Column("body_text", JSON, nullable=False, default=list),
    Column("body_html", Text, nullable=False, default=""),
    Column("language", String(35)),
    Column("content_hash", String(64), nullable=False),
    Column("first_seen", AwareDateTime, nullable=False, index=True),
    Column("updated_at", AwareDateTime, nullable=False),
)

# Covers "the latest N of these sections" and the list of sections without reading bodies.
Index(
    "ix_stories_listing",
    stories.c.section,
    stories.c.section_name,
    stories.c.published,
    stories.c.first_seen,
    stories.c.url,
    stories.c.id,
)

crosslinks = Table(
    "crosslinks",
    metadata,
    Column("story_id", String(16), ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("label", Text, nullable=False),
    Column("href", Text),
    Column("target_url", Text),
    Column("external", Boolean, nullable=False, default=False),
    Column("after_paragraph", Integer, nullable=False, default=0),
)

fetch_state = Table(
    "fetch_state",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("content_hash", String(64)),
    Column("status", Integer),
    Column("kind", String(16)),
    Column("canonical", Text),
    Column("redirect_to", Text),
    Column("links", JSON),
    Column("fetched_at", AwareDateTime),
)

gather_runs = Table(
    "gather_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("started", AwareDateTime, nullable=False),
    Column("finished", AwareDateTime, nullable=False),
    Column("new", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("crosslinks", Integer, nullable=False),
)

# What image servers said about lead images (feeds need a size and type for enclosures).
media = Table(
    "media",
    metadata,
    Column("url", String(2048), primary_key=True),
    Column("type", String(100)),
    Column("length", Integer),
    Column("status", Integer),  # HTTP status, or None when the server could not be reached
    Column("checked_at", AwareDateTime, nullable=False),
)

# One issue of one digest. (schedule, slot) is unique: two daemons, or a cron job beside the
# daemon, firing the same slot make one edition.
editions = Table(
    "editions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule", String(100), nullable=False),
    Column("slot", AwareDateTime, nullable=False),
    Column("window_start", AwareDateTime),
    Column("window_end", AwareDateTime, nullable=False),
    Column("subject", Text, nullable=False, default=""),
    Column("html", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("created_at", AwareDateTime, nullable=False),
    # ready (no approval asked), draft, approved, held, skipped; see models.EditionState.
    # Added in release 0.3 (migration 0003), with who decided, when, and why.
    Column("state", String(16), nullable=False, server_default="ready"),
    Column("decided_by", Text),
    Column("decided_at", AwareDateTime),
    Column("note", Text),
    UniqueConstraint("schedule", "slot", name="uq_editions_schedule_slot"),
)

# Which stories an edition carried, as they were then (the hash tells a later change).
edition_stories = Table(
    "edition_stories",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True),
    Column("story_id", String(16), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("updated", Boolean, nullable=False, default=False),
    # A "More stories" headline (overflow = "list"): carried as a link only, counted as sent.
    Column("listed", Boolean, nullable=False, server_default=false()),
)

# People who receive digests. id is a short hash of the lower-cased address (what tokens
# carry); the address itself is kept lower-cased and unique.
subscribers = Table(
    "subscribers",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),  # pending, active, unsubscribed, bounced
    Column("created_at", AwareDateTime, nullable=False),
    Column("subscribed_ip", String(64)),  # proof of consent: who asked, from where, when
    Column("subscribed_at", AwareDateTime),
    Column("confirmed_ip", String(64)),
    Column("confirmed_at", AwareDateTime),
    Column("soft_bounces", Integer, nullable=False, default=0),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column(
        "subscriber_id",
        String(16),
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("digest", String(100), primary_key=True),
)

# Addresses never to be mailed again (hard bounces, erased people): only a hash is kept.
suppressions = Table(
    "suppressions",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("at", AwareDateTime, nullable=False),
)

# An operator's word that brought an address back (`subscribers add --reactivate --reason`)
# from what it was (erased, bounced, complained, unsubscribed): why, who and when, shown in
# the person's export and deleted with the rest of their data. Added in migration 0004.
reactivations = Table(
    "reactivations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", String(16), nullable=False, index=True),
    Column("was", String(16), nullable=False),  # erased, bounced, complained, unsubscribed
    Column("detail", Text, nullable=False, default=""),  # the suppression's reason, if any
    Column("since", AwareDateTime),  # when it was suppressed
    Column("reason", Text, nullable=False),
    Column("done_by", String(200), nullable=False),  # user@host
    Column("at", AwareDateTime, nullable=False),
)

# The ledger: one row per edition and subscriber (UNIQUE), marked sent right after the 250.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition_id", Integer, ForeignKey("editions.id", ondelete="CASCADE"), nullable=False),
    Column("subscriber_id", String(16), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),  # pending, sent, deferred, failed, skipped
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try", AwareDateTime),
    Column("claimed_by", String(200)),
    Column("claimed_until", AwareDateTime),
    Column("message_id", Text),
    Column("error", Text),
    Column("sent_at", AwareDateTime),
    # The claimer that got the 250 (host:pid:n): who sent what, and how fast (`status`).
    Column("sent_by", String(200)),
    UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_edition_subscriber"),
)
Index("ix_deliveries_todo", deliveries.c.edition_id, deliveries.c.status, deliveries.c.next_try)
# One person's rows, for their export and their erasure (migration 0004).
Index("ix_deliveries_subscriber", deliveries.c.subscriber_id)
# The messages of the last minutes (throughput in `status`), and the newest send (/metrics).
Index("ix_deliveries_sent_at", deliveries.c.sent_at)

# Long-running processes (send workers, daemons): a heartbeat each, so `status` can tell
# who is at work on any machine, and who went silent. Added in release 0.2 (migration 0002).
workers = Table(
    "workers",
    metadata,
    Column("name", String(200), primary_key=True),  # host:pid
    Column("kind", String(16), nullable=False),  # worker, daemon
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", AwareDateTime, nullable=False),
    Column("last_seen", AwareDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # running, stopped
)
