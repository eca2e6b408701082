"""The store's editions: which stories each digest edition carried, and as what."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from syndicate.models import (
    DeliveryStatus,
    Edition,
    EditionRecord,
    EditionState,
    EditionStory,
    Story,
    Subscriber,
)
from syndicate.store import schema as s
from syndicate.store.ledger import fill_ledger
from syndicate.testhooks import pause_point

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EditionSQL:
    """The EditionStore role, mixed into SQLStore: needs ``self.engine`` and ``self._by_ids``."""

    def digest_candidates(
        self, horizon: datetime, sections: Iterable[str] | None, newest: int = 0
    ) -> list[tuple[Story, str]]:
        """Stories first gathered or changed since ``horizon`` (plus, with ``newest``, that
        many of the newest whatever their age), newest first, with their content hashes."""
        t = s.stories
        order = (
            func.coalesce(t.c.published, t.c.first_seen).desc(),
            t.c.first_seen.desc(),
            t.c.url,
        )
        recent = select(t.c.id).where(or_(t.c.first_seen >= horizon, t.c.updated_at >= horizon))
        latest = select(t.c.id)
        if sections is not None:
            recent = recent.where(t.c.section.in_(list(sections)))
            latest = latest.where(t.c.section.in_(list(sections)))
        with self.engine.connect() as conn:
            ids = list(dict.fromkeys(r[0] for r in conn.execute(recent.order_by(*order))))
            if newest:
                more = [r[0] for r in conn.execute(latest.order_by(*order).limit(newest))]
                ids += [i for i in more if i not in set(ids)]
            found = self._by_ids(conn, ids)
        # One order for both parts: newest first, as the SQL ordered each.
        found.sort(
            key=lambda f: (f[0].published or f[0].first_seen or _EPOCH, f[0].first_seen or _EPOCH),
            reverse=True,
        )
        return found

    def sent_before(self, schedule: str, story_ids: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """For stories an earlier edition of this schedule carried: (the hash it carried last,
        whether any edition already carried it as updated). A held or skipped edition
        carried nothing: its stories return in the next one."""
        es, ed = s.edition_stories, s.editions
        ids = list(story_ids)
        out: dict[str, tuple[str, bool]] = {}
        returned = [str(x) for x in EditionState if x.returned]
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                q = (
                    select(es.c.story_id, es.c.content_hash, es.c.updated)
                    .join(ed, ed.c.id == es.c.edition_id)
                    .where(
                        ed.c.schedule == schedule,
                        ed.c.state.not_in(returned),
                        es.c.story_id.in_(ids[i : i + 500]),
                    )
                    .order_by(ed.c.slot)
                )
                for story_id, digest, updated in conn.execute(q):
                    was_updated = updated or out.get(story_id, ("", False))[1]
                    out[story_id] = (digest, was_updated)
        return out

    def first_edition_made(self, schedule: str) -> datetime | None:
        """When the schedule's first edition was made (None: it has none)."""
        ed = s.editions
        q = select(func.min(ed.c.created_at)).where(ed.c.schedule == schedule)
        with self.engine.connect() as conn:
            return conn.execute(q).scalar()

    def never_carried(
        self, schedule: str, sections: Iterable[str] | None, after: datetime, before: datetime
    ) -> int:
        """How many stories first gathered in [after, before) no edition of the schedule
        carried (held and skipped editions do not count): the ones that aged out."""
        t, es, ed = s.stories, s.edition_stories, s.editions
        returned = [str(x) for x in EditionState if x.returned]
        carried = (
            select(es.c.story_id)
            .join(ed, ed.c.id == es.c.edition_id)
            .where(ed.c.schedule == schedule, ed.c.state.not_in(returned))
        )
        q = select(func.count()).where(
            t.c.first_seen >= after, t.c.first_seen < before, t.c.id.not_in(carried)
        )
        if sections is not None:
            q = q.where(t.c.section.in_(list(sections)))
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def last_edition(self, schedule: str, before: datetime | None = None) -> Edition | None:
        """The newest edition of a schedule (before a slot, when given), without its stories."""
        ed = s.editions
        q = select(ed).where(ed.c.schedule == schedule)
        if before is not None:
            q = q.where(ed.c.slot < before)
        with self.engine.connect() as conn:
            row = conn.execute(q.order_by(ed.c.slot.desc()).limit(1)).mappings().first()
        return _edition(row) if row else None

    def edition(self, schedule: str, slot: datetime) -> Edition | None:
        """The edition made for (schedule, slot), with its stories, or None."""
        ed = s.editions
        return self._edition_where(and_(ed.c.schedule == schedule, ed.c.slot == slot))

    def edition_by_id(self, edition_id: int) -> Edition | None:
        """The edition with this id, with its stories, or None."""
        return self._edition_where(s.editions.c.id == edition_id)

    def _edition_where(self, condition) -> Edition | None:
        ed, es = s.editions, s.edition_stories
        with self.engine.connect() as conn:
            row = conn.execute(select(ed).where(condition)).mappings().first()
            if row is None:
                return None
            carried = list(
                conn.execute(
                    select(es).where(es.c.edition_id == row["id"]).order_by(es.c.position)
                ).mappings()
            )
            found = self._by_ids(conn, [c["story_id"] for c in carried])
            by_id = {story.id: story for story, _ in found}
        edition = _edition(row)
        edition.stories = [
            EditionStory(by_id[c["story_id"]], c["updated"], c["content_hash"], c["listed"])
            for c in carried
            if c["story_id"] in by_id
        ]
        return edition

    def save_edition(
        self, edition: Edition, recipients: Iterable[Subscriber] | None = None
    ) -> tuple[Edition, bool]:
        """Store a new edition, with a ledger row for each of ``recipients`` in the same
        transaction (a kill leaves no edition, or one with all its rows); (the stored one,
        True), or (the one already made for that (schedule, slot), False): the database,
        not the scheduler, decides."""
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                result = conn.execute(
                    insert(s.editions).values(
                        schedule=edition.schedule,
                        slot=edition.slot,
                        window_start=edition.window_start,
                        window_end=edition.window_end,
                        subject=edition.subject,
                        html=edition.html,
                        text=edition.text,
                        created_at=now,
                        state=str(edition.state),
                    )
                )
                edition_id = result.inserted_primary_key[0]
                if edition.stories:
                    conn.execute(
                        insert(s.edition_stories),
                        [
                            {
                                "edition_id": edition_id,
                                "story_id": e.story.id,
                                "position": i,
                                "content_hash": e.content_hash,
                                "updated": e.updated,
                                "listed": e.listed,
                            }
                            for i, e in enumerate(edition.stories)
                        ],
                    )
                pause_point("edition-saved")  # tests kill here, inside the transaction
                if recipients is not None:
                    fill_ledger(conn, edition_id, recipients)
        except IntegrityError:
            existing = self.edition(edition.schedule, edition.slot)
            if existing is None:
                raise
            return existing, False
        edition.id, edition.created_at = edition_id, now
        return edition, True

    def decide_edition(
        self,
        edition_id: int,
        state: EditionState,
        by: str,
        note: str = "",
        recipients: Iterable[Subscriber] | None = None,
        only_from: Iterable[EditionState] = (),
    ) -> bool:
        """Set an edition's state (approved, held, skipped) with who and why, filling its
        ledger from ``recipients`` in the same transaction; when ``only_from`` is given,
        only from those states (False when the edition was in another: someone decided
        first)."""
        ed = s.editions
        q = update(ed).where(ed.c.id == edition_id)
        if only_from:
            q = q.where(ed.c.state.in_([str(x) for x in only_from]))
        with self.engine.begin() as conn:
            changed = conn.execute(
                q.values(
                    state=str(state),
                    decided_by=by,
                    decided_at=datetime.now(UTC),
                    note=note or None,
                )
            ).rowcount
            if changed and recipients is not None:
                fill_ledger(conn, edition_id, recipients)
        return bool(changed)

    def sent_editions(
        self,
        schedules: Iterable[str],
        limit: int = 20,
        offset: int = 0,
        slot_from: datetime | None = None,
        slot_until: datetime | None = None,
    ) -> tuple[list[Edition], int]:
        """The editions of these schedules that went out (sendable, and at least one
        subscriber's copy sent: then a "View in browser" link someone received answers),
        newest slot first, without their bodies or stories, with slots in [slot_from,
        slot_until) when given: (one page of ``limit`` from ``offset``, how many in all)."""
        ed, d = s.editions, s.deliveries
        sent = (
            select(d.c.id)
            .where(d.c.edition_id == ed.c.id, d.c.status == str(DeliveryStatus.SENT))
            .exists()
        )
        where = [
            ed.c.schedule.in_(list(schedules)),
            ed.c.state.in_([str(x) for x in EditionState if x.sendable]),
            sent,
        ]
        if slot_from is not None:
            where.append(ed.c.slot >= slot_from)
        if slot_until is not None:
            where.append(ed.c.slot < slot_until)
        cols = [c for c in ed.c if c.name not in ("html", "text")]
        page = (
            select(*cols)
            .where(*where)
            .order_by(ed.c.slot.desc(), ed.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(ed).where(*where)).scalar())
            rows = list(conn.execute(page).mappings())
        return [_edition({**r, "html": "", "text": ""}) for r in rows], total

    def edition_records(
        self, schedule: str | None = None, limit: int = 20, edition_id: int | None = None
    ) -> list[EditionRecord]:
        """The newest editions (of one schedule, or the one with this id), newest slot
        first: each without its bodies, with its story counts, its ledger's counts and its
        errors by kind."""
        ed, es, d = s.editions, s.edition_stories, s.deliveries
        cols = [c for c in ed.c if c.name not in ("html", "text")]
        q = select(*cols)
        if schedule is not None:
            q = q.where(ed.c.schedule == schedule)
        if edition_id is not None:
            q = q.where(ed.c.id == edition_id)
        q = q.order_by(ed.c.slot.desc(), ed.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = list(conn.execute(q).mappings())
            ids = [r["id"] for r in rows]
            records = {
                r["id"]: EditionRecord(_edition({**r, "html": "", "text": ""})) for r in rows
            }
            if not ids:
                return []
            for edition_id, listed, n in conn.execute(
                select(es.c.edition_id, es.c.listed, func.count())
                .where(es.c.edition_id.in_(ids))
                .group_by(es.c.edition_id, es.c.listed)
            ):
                rec = records[edition_id]
                if listed:
                    rec.listed = n
                else:
                    rec.stories = n
            for edition_id, status, n in conn.execute(
                select(d.c.edition_id, d.c.status, func.count())
                .where(d.c.edition_id.in_(ids))
                .group_by(d.c.edition_id, d.c.status)
            ):
                records[edition_id].counts[status] = n
            # The errors of rows not sent, a few of each distinct text: grouped by kind
            # in Python (the kind is the text without its address).
            for edition_id, status, error, n in conn.execute(
                select(d.c.edition_id, d.c.status, d.c.error, func.count())
                .where(d.c.edition_id.in_(ids), d.c.error.is_not(None))
                .where(d.c.status != str(DeliveryStatus.SENT))
                .group_by(d.c.edition_id, d.c.status, d.c.error)
            ):
                records[edition_id].add_error(status, error, n)
        return [records[i] for i in ids]


def _edition(row) -> Edition:
    return Edition(
        schedule=row["schedule"],
        slot=row["slot"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        subject=row["subject"],
        html=row["html"],
        text=row["text"],
        id=row["id"],
        created_at=row["created_at"],
        state=EditionState(row["state"]),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        note=row["note"],
    )
