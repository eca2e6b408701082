"""The store's subscribers, their subscriptions, the suppression list, the reasons an
address was brought back, and what one person's data is (export) or must stop being
(erasure)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import String, cast, delete, insert, literal, select, update

from syndicate.models import DeliveryStatus, Reactivation, Subscriber, SubscriberStatus
from syndicate.store import schema as s


def address_hash(email: str) -> str:
    """What the suppression list keeps of an address: a SHA-256 of it, lower-cased."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


class PeopleSQL:
    """The PeopleStore role, mixed into SQLStore: needs ``self.engine``."""

    def save_subscriber(self, sub: Subscriber) -> str:
        """Insert or update a subscriber and their digests: 'new' or 'updated'."""
        sub.email = sub.email.strip().lower()
        row = {
            "email": sub.email,
            "name": sub.name,
            "status": str(sub.status),  # the value, whatever the driver does with enums
            "subscribed_ip": sub.subscribed_ip,
            "subscribed_at": sub.subscribed_at,
            "confirmed_ip": sub.confirmed_ip,
            "confirmed_at": sub.confirmed_at,
            "soft_bounces": sub.soft_bounces,
        }
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(s.subscribers.c.id).where(s.subscribers.c.id == sub.id)
            ).first()
            if exists:
                conn.execute(
                    update(s.subscribers).where(s.subscribers.c.id == sub.id).values(**row)
                )
            else:
                sub.created_at = sub.created_at or datetime.now(UTC)
                conn.execute(
                    insert(s.subscribers).values(id=sub.id, created_at=sub.created_at, **row)
                )
            conn.execute(delete(s.subscriptions).where(s.subscriptions.c.subscriber_id == sub.id))
            if sub.digests:
                conn.execute(
                    insert(s.subscriptions),
                    [{"subscriber_id": sub.id, "digest": d} for d in dict.fromkeys(sub.digests)],
                )
        return "updated" if exists else "new"

    def subscriber(self, email_or_id: str) -> Subscriber | None:
        """A subscriber by address (any case) or by id."""
        key = email_or_id.strip().lower()
        t = s.subscribers
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(t).where((t.c.email == key) | (t.c.id == key)))
                .mappings()
                .first()
            )
            if row is None:
                return None
            return self._with_digests(conn, [row])[0]

    def subscribers(
        self, digest: str | None = None, status: SubscriberStatus | None = None
    ) -> list[Subscriber]:
        """Subscribers by address, optionally only those of a digest and a status."""
        t = s.subscribers
        q = select(t).order_by(t.c.email)
        if status:
            q = q.where(t.c.status == status)
        if digest:
            q = q.where(
                t.c.id.in_(
                    select(s.subscriptions.c.subscriber_id).where(
                        s.subscriptions.c.digest == digest
                    )
                )
            )
        with self.engine.connect() as conn:
            return self._with_digests(conn, list(conn.execute(q).mappings()))

    def _with_digests(self, conn, rows) -> list[Subscriber]:
        digests: dict[str, list[str]] = {}
        ids = [r["id"] for r in rows]
        for i in range(0, len(ids), 500):
            q = (
                select(s.subscriptions)
                .where(s.subscriptions.c.subscriber_id.in_(ids[i : i + 500]))
                .order_by(s.subscriptions.c.digest)
            )
            for r in conn.execute(q):
                digests.setdefault(r.subscriber_id, []).append(r.digest)
        return [
            Subscriber(
                email=r["email"],
                name=r["name"],
                status=SubscriberStatus(r["status"]),
                digests=digests.get(r["id"], []),
                created_at=r["created_at"],
                subscribed_ip=r["subscribed_ip"],
                subscribed_at=r["subscribed_at"],
                confirmed_ip=r["confirmed_ip"],
                confirmed_at=r["confirmed_at"],
                soft_bounces=r["soft_bounces"],
            )
            for r in rows
        ]

    def remove_subscriber(self, email_or_id: str) -> bool:
        """Delete a subscriber and their subscriptions; True when there was one."""
        sub = self.subscriber(email_or_id)
        if sub is None:
            return False
        with self.engine.begin() as conn:
            conn.execute(delete(s.subscriptions).where(s.subscriptions.c.subscriber_id == sub.id))
            conn.execute(delete(s.subscribers).where(s.subscribers.c.id == sub.id))
        return True

    def suppress(self, email: str, reason: str) -> None:
        """Never mail this address again (until it subscribes anew)."""
        digest = address_hash(email)
        with self.engine.begin() as conn:
            conn.execute(delete(s.suppressions).where(s.suppressions.c.hash == digest))
            conn.execute(
                insert(s.suppressions).values(hash=digest, reason=reason, at=datetime.now(UTC))
            )

    def unsuppress(self, email: str) -> None:
        """Lift a suppression: the address subscribed anew and confirmed it."""
        with self.engine.begin() as conn:
            conn.execute(delete(s.suppressions).where(s.suppressions.c.hash == address_hash(email)))

    def suppressed(self, emails: Iterable[str]) -> set[str]:
        """Which of these addresses (as given) are on the suppression list."""
        by_hash = {address_hash(e): e for e in emails}
        found: set[str] = set()
        hashes = list(by_hash)
        with self.engine.connect() as conn:
            for i in range(0, len(hashes), 500):
                q = select(s.suppressions.c.hash).where(
                    s.suppressions.c.hash.in_(hashes[i : i + 500])
                )
                found.update(by_hash[h] for (h,) in conn.execute(q))
        return found

    def suppression(self, email: str) -> tuple[str, datetime] | None:
        """Why and since when an address is suppressed, or None when it is not."""
        t = s.suppressions
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.c.reason, t.c.at).where(t.c.hash == address_hash(email))
            ).first()
        return (row.reason, row.at) if row else None

    def reactivate(self, email: str, record: Reactivation) -> None:
        """Lift the address's suppression and keep the operator's reason, in one step."""
        with self.engine.begin() as conn:
            conn.execute(delete(s.suppressions).where(s.suppressions.c.hash == address_hash(email)))
            conn.execute(
                insert(s.reactivations).values(
                    subscriber_id=Subscriber(email).id, was=record.was, detail=record.detail,
                    since=record.since, reason=record.reason, done_by=record.by, at=record.at,
                )
            )  # fmt: skip

    def reactivations(self, email: str) -> list[Reactivation]:
        """The reasons this address was brought back, oldest first."""
        t = s.reactivations
        q = select(t).where(t.c.subscriber_id == Subscriber(email).id).order_by(t.c.at, t.c.id)
        with self.engine.connect() as conn:
            return [
                Reactivation(r.was, r.detail, r.since, r.reason, r.done_by, r.at)
                for r in conn.execute(q)
            ]

    def person_deliveries(self, email: str) -> list[dict]:
        """Every ledger row of this address, oldest edition first: dicts of edition (id),
        digest, slot, subject, status, attempts, sent_at, message_id and error."""
        d, e = s.deliveries, s.editions
        q = (
            select(
                d.c.edition_id.label("edition"),
                e.c.schedule.label("digest"),
                e.c.slot,
                e.c.subject,
                d.c.status,
                d.c.attempts,
                d.c.sent_at,
                d.c.message_id,
                d.c.error,
            )
            .join(e, e.c.id == d.c.edition_id)
            .where(d.c.subscriber_id == Subscriber(email).id)
            .order_by(e.c.slot, d.c.edition_id)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def erase_subscriber(self, email: str) -> tuple[bool, int]:
        """GDPR erasure, in one transaction: the subscriber, their subscriptions and
        reactivation records deleted; their ledger rows kept only as anonymous counts
        (edition, status, attempts: no address, name, id, message id, error or time; a row
        not yet sent will never be); a hash of the address on the suppression list.
        (whether there was a subscriber, how many ledger rows were made anonymous)."""
        key = email.strip().lower()
        sub_id = Subscriber(key).id
        d = s.deliveries
        with self.engine.begin() as conn:
            conn.execute(delete(s.subscriptions).where(s.subscriptions.c.subscriber_id == sub_id))
            found = conn.execute(delete(s.subscribers).where(s.subscribers.c.id == sub_id)).rowcount
            conn.execute(delete(s.reactivations).where(s.reactivations.c.subscriber_id == sub_id))
            mine = d.c.subscriber_id == sub_id
            # Not sent yet: skipped, so that no sender ever takes it (it has no address).
            conn.execute(
                update(d)
                .where(mine, d.c.status.in_(_NOT_SENT_YET))
                .values(status=str(DeliveryStatus.SKIPPED))
            )
            # The UNIQUE (edition, subscriber) key is kept apart by the row's own id:
            # "~ID", which no address hashes to and which says nothing of the person.
            anonymous = literal("~", String) + cast(d.c.id, String)
            rows = conn.execute(update(d).where(mine).values(**_ANONYMOUS, subscriber_id=anonymous))
            conn.execute(delete(s.suppressions).where(s.suppressions.c.hash == address_hash(key)))
            conn.execute(
                insert(s.suppressions).values(
                    hash=address_hash(key), reason="erased", at=datetime.now(UTC)
                )
            )
        return bool(found), rows.rowcount


# What an erased person's ledger row keeps of them: nothing but the counts.
_ANONYMOUS = {
    "email": "", "name": "", "message_id": None, "error": None, "sent_at": None,
    "sent_by": None, "next_try": None, "claimed_by": None, "claimed_until": None,
}  # fmt: skip
_NOT_SENT_YET = [str(DeliveryStatus.PENDING), str(DeliveryStatus.DEFERRED)]
