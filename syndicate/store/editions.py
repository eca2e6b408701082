"""The store's editions: which stories each digest edition carried, and as what."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from syndicate.models import Edition, EditionStory, Story
from syndicate.store import schema as s


class EditionSQL:
    """The EditionStore role, mixed into SQLStore: needs ``self.engine`` and ``self._by_ids``."""

    def digest_candidates(
        self,
        since: datetime | None,
        sections: Iterable[str] | None,
        limit: int,
    ) -> list[tuple[Story, str]]:
        """Stories published, first gathered or changed since a time (newest first), with
        their content hashes; with no time, the newest ``limit`` stories."""
        t = s.stories
        q = select(t.c.id)
        if sections is not None:
            q = q.where(t.c.section.in_(list(sections)))
        if since is not None:
            q = q.where(
                or_(t.c.published >= since, t.c.first_seen >= since, t.c.updated_at >= since)
            )
        else:
            q = q.limit(limit)
        q = q.order_by(
            func.coalesce(t.c.published, t.c.first_seen).desc(), t.c.first_seen.desc(), t.c.url
        )
        with self.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(q)]
            return self._by_ids(conn, ids)

    def sent_before(self, schedule: str, story_ids: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """For stories an earlier edition of this schedule carried: (the hash it carried last,
        whether any edition already carried it as updated)."""
        es, ed = s.edition_stories, s.editions
        ids = list(story_ids)
        out: dict[str, tuple[str, bool]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                q = (
                    select(es.c.story_id, es.c.content_hash, es.c.updated)
                    .join(ed, ed.c.id == es.c.edition_id)
                    .where(ed.c.schedule == schedule, es.c.story_id.in_(ids[i : i + 500]))
                    .order_by(ed.c.slot)
                )
                for story_id, digest, updated in conn.execute(q):
                    was_updated = updated or out.get(story_id, ("", False))[1]
                    out[story_id] = (digest, was_updated)
        return out

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
            EditionStory(by_id[c["story_id"]], c["updated"], c["content_hash"])
            for c in carried
            if c["story_id"] in by_id
        ]
        return edition

    def save_edition(self, edition: Edition) -> tuple[Edition, bool]:
        """Store a new edition; (the stored one, True), or (the one already made for that
        (schedule, slot), False): the database, not the scheduler, decides."""
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
                            }
                            for i, e in enumerate(edition.stories)
                        ],
                    )
        except IntegrityError:
            existing = self.edition(edition.schedule, edition.slot)
            if existing is None:
                raise
            return existing, False
        edition.id, edition.created_at = edition_id, now
        return edition, True


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
    )
