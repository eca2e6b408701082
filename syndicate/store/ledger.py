"""The delivery ledger (DESIGN invariants 1 and 3): one row per edition and subscriber,
claimed in batches by a sender, marked sent in its own transaction right after the 250."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from syndicate.models import Delivery, Subscriber
from syndicate.store import schema as s

HOST = socket.gethostname()


def worker_name() -> str:
    """This process as a claimer: host and pid (a dead local claimer's rows are free)."""
    return f"{HOST}:{os.getpid()}"


def _dead_local(claimer: str | None) -> bool:
    """True for a claimer on this host whose process is gone (killed, crashed)."""
    if not claimer:
        return True
    host, _, pid = claimer.rpartition(":")
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class LedgerStore:
    """Mixed into SQLStore: needs ``self.engine``."""

    def add_deliveries(self, edition_id: int, subscribers: Iterable[Subscriber]) -> int:
        """A pending row for each subscriber that has none for this edition; how many."""
        subscribers = list(subscribers)
        try:
            return self._add_deliveries(edition_id, subscribers)
        except IntegrityError:
            # Another sender added rows for the same edition at the same moment: theirs
            # stand (the UNIQUE key saw to it); add only what is still missing.
            return self._add_deliveries(edition_id, subscribers)

    def _add_deliveries(self, edition_id: int, subscribers: list[Subscriber]) -> int:
        d = s.deliveries
        with self.engine.begin() as conn:
            have = {
                r[0]
                for r in conn.execute(select(d.c.subscriber_id).where(d.c.edition_id == edition_id))
            }
            rows = [
                {
                    "edition_id": edition_id,
                    "subscriber_id": sub.id,
                    "email": sub.email,
                    "name": sub.name,
                    "status": "pending",
                    "attempts": 0,
                }
                for sub in subscribers
                if sub.id not in have
            ]
            if rows:
                conn.execute(insert(d), rows)
        return len(rows)

    def claim(
        self, edition_id: int, worker: str, limit: int, now: datetime, lease: timedelta
    ) -> list[Delivery]:
        """Take up to ``limit`` rows due now (pending, or deferred and due), not held by a
        live claimer, for ``worker`` until ``now + lease``."""
        d = s.deliveries
        due = and_(
            d.c.edition_id == edition_id,
            or_(d.c.status == "pending", and_(d.c.status == "deferred", d.c.next_try <= now)),
        )
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(d.c.id, d.c.claimed_by, d.c.claimed_until)
                .where(due)
                .order_by(d.c.id)
                .limit(limit * 4)
            ).all()
            dead = {r.claimed_by for r in rows if r.claimed_by and _dead_local(r.claimed_by)}
            if dead:  # a killed sender's rows are free at once, not when its lease ends
                conn.execute(
                    update(d)
                    .where(d.c.claimed_by.in_(dead), d.c.status.in_(("pending", "deferred")))
                    .values(claimed_by=None, claimed_until=None)
                )
            wanted = [
                r.id
                for r in rows
                if r.claimed_until is None
                or r.claimed_until < now
                or r.claimed_by == worker
                or r.claimed_by in dead
            ][:limit]
            if not wanted:
                return []
            # One conditional UPDATE takes the rows: of two senders racing for the same
            # rows, the database lets only one match; the other gets none of them.
            conn.execute(
                update(d)
                .where(
                    d.c.id.in_(wanted),
                    due,
                    or_(
                        d.c.claimed_until.is_(None),
                        d.c.claimed_until < now,
                        d.c.claimed_by == worker,
                    ),
                )
                .values(claimed_by=worker, claimed_until=now + lease)
            )
            got = conn.execute(
                select(d).where(d.c.id.in_(wanted), d.c.claimed_by == worker).order_by(d.c.id)
            ).mappings()
            return [_delivery(r) for r in got]

    def mark_sent(self, delivery_id: int, message_id: str, now: datetime) -> None:
        """Sent: the server said 250. Its own transaction, at once (invariant 3)."""
        self._mark(
            delivery_id,
            status="sent",
            message_id=message_id,
            sent_at=now,
            error=None,
            attempts=s.deliveries.c.attempts + 1,
        )

    def mark_deferred(self, delivery_id: int, error: str, next_try: datetime) -> None:
        """A temporary failure: tried again at next_try."""
        self._mark(
            delivery_id,
            status="deferred",
            error=error,
            next_try=next_try,
            attempts=s.deliveries.c.attempts + 1,
        )

    def mark_failed(self, delivery_id: int, error: str, status: str = "failed") -> None:
        """Failed for good (or 'skipped': not to be sent, e.g. a suppressed address)."""
        self._mark(delivery_id, status=status, error=error, attempts=s.deliveries.c.attempts + 1)

    def _mark(self, delivery_id: int, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(s.deliveries)
                .where(s.deliveries.c.id == delivery_id)
                .values(claimed_by=None, claimed_until=None, **values)
            )

    def release(self, worker: str) -> None:
        """Give back what this worker claimed and did not finish."""
        d = s.deliveries
        with self.engine.begin() as conn:
            conn.execute(
                update(d)
                .where(d.c.claimed_by == worker, d.c.status.in_(("pending", "deferred")))
                .values(claimed_by=None, claimed_until=None)
            )

    def unfinished_slot(self, schedule: str) -> datetime | None:
        """The slot of the newest edition of a schedule that still has rows to send."""
        d, e = s.deliveries, s.editions
        q = (
            select(e.c.slot)
            .join(d, d.c.edition_id == e.c.id)
            .where(e.c.schedule == schedule, d.c.status.in_(("pending", "deferred")))
            .order_by(e.c.slot.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(q).scalar()

    def stats(self) -> dict[str, tuple[str, str, list[tuple[dict, float]]]]:
        """Figures for /metrics: name → (type, help, [(labels, value)])."""
        with self.engine.connect() as conn:

            def one(q) -> float:
                value = conn.execute(q).scalar()
                if value is None:
                    return 0.0
                return value.timestamp() if isinstance(value, datetime) else float(value)

            subs = conn.execute(
                select(s.subscribers.c.status, func.count()).group_by(s.subscribers.c.status)
            ).all()
            sent = conn.execute(
                select(s.deliveries.c.status, func.count()).group_by(s.deliveries.c.status)
            ).all()
            return {
                "stories": (
                    "gauge",
                    "Stories in the store.",
                    [({}, one(select(func.count()).select_from(s.stories)))],
                ),
                "editions": (
                    "gauge",
                    "Digest editions made.",
                    [({}, one(select(func.count()).select_from(s.editions)))],
                ),
                "messages": (
                    "gauge",
                    "Deliveries by status (sent, deferred, failed, pending, skipped).",
                    [({"status": st}, float(n)) for st, n in sorted(sent)],
                ),
                "subscribers": (
                    "gauge",
                    "Subscribers by status.",
                    [({"status": st}, float(n)) for st, n in sorted(subs)],
                ),
                "last_gather_timestamp_seconds": (
                    "gauge",
                    "When the last gather finished (Unix time).",
                    [({}, one(select(func.max(s.gather_runs.c.finished))))],
                ),
                "last_edition_timestamp_seconds": (
                    "gauge",
                    "When the last edition was made (Unix time).",
                    [({}, one(select(func.max(s.editions.c.created_at))))],
                ),
                "last_sent_timestamp_seconds": (
                    "gauge",
                    "When the last message was accepted by the mail server (Unix time).",
                    [({}, one(select(func.max(s.deliveries.c.sent_at))))],
                ),
            }

    def delivery_counts(self, edition_id: int | None = None) -> dict[str, int]:
        """How many rows are in each status (for one edition, or all)."""
        d = s.deliveries
        q = select(d.c.status, func.count()).group_by(d.c.status)
        if edition_id is not None:
            q = q.where(d.c.edition_id == edition_id)
        with self.engine.connect() as conn:
            return {status: n for status, n in conn.execute(q)}

    def next_due(self, edition_id: int) -> datetime | None:
        """When the earliest deferred row of an edition is due, if any is waiting."""
        d = s.deliveries
        q = select(func.min(d.c.next_try)).where(
            d.c.edition_id == edition_id, d.c.status == "deferred"
        )
        with self.engine.connect() as conn:
            return conn.execute(q).scalar()


def _delivery(r) -> Delivery:
    return Delivery(
        id=r["id"],
        edition_id=r["edition_id"],
        subscriber_id=r["subscriber_id"],
        email=r["email"],
        name=r["name"],
        status=r["status"],
        attempts=r["attempts"],
        next_try=r["next_try"],
        message_id=r["message_id"],
        error=r["error"],
        sent_at=r["sent_at"],
    )
