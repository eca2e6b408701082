"""What `status`, /metrics and the heartbeats read and write: which processes are at work
(and what each sent lately), the gather runs, and the figures over the whole store."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update

from syndicate.models import GatherReport, SubscriberStatus
from syndicate.store import schema as s
from syndicate.store.claimer import process_of
from syndicate.store.people import address_hash


class TelemetrySQL:
    """The TelemetryStore role, mixed into SQLStore: needs ``self.engine``."""

    def beat(self, name: str, kind: str, started: datetime, now: datetime, state: str) -> None:
        """A long-running process says it is alive (``state`` running) or done (stopped)."""
        w = s.workers
        with self.engine.begin() as conn:
            found = conn.execute(
                update(w)
                .where(w.c.name == name)
                .values(last_seen=now, state=state, kind=kind, started=started)
            ).rowcount
            if not found:
                host, pid = name.split(":")[:2]
                conn.execute(
                    insert(w).values(name=name, kind=kind, host=host, pid=int(pid),
                                     started=started, last_seen=now, state=state)
                )  # fmt: skip

    def senders(self, since: datetime, now: datetime, window: timedelta) -> list[dict]:
        """Workers and daemons seen since ``since``, each with the messages it sent in the
        last ``window`` (from the ledger's sent_by, not from the process's own word)."""
        w, d = s.workers, s.deliveries
        with self.engine.connect() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    select(w).where(w.c.last_seen >= since).order_by(w.c.kind, w.c.name)
                ).mappings()
            ]
            recent: dict[str, int] = {}
            for claimer, n in conn.execute(
                select(d.c.sent_by, func.count())
                .where(d.c.sent_at >= now - window, d.c.sent_by.is_not(None))
                .group_by(d.c.sent_by)
            ):
                process = process_of(claimer)
                recent[process] = recent.get(process, 0) + n
        for r in rows:
            r["recent"] = recent.pop(r["name"], 0)
        # Sends by processes that keep no heartbeat (a manual `send`) count in the total.
        others = sum(recent.values())
        if others:
            rows.append({"name": "others", "kind": "send", "recent": others, "state": ""})
        return rows

    def record_gather(self, source: str, report: GatherReport) -> None:
        """Remember one gather run's counts."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(s.gather_runs).values(
                    source=source,
                    started=report.started,
                    finished=report.finished,
                    new=report.new,
                    updated=report.updated,
                    unchanged=report.unchanged,
                    failed=report.failed,
                    crosslinks=report.crosslinks,
                )
            )

    def stats(self) -> dict[str, tuple[str, str, list[tuple[dict, float]]]]:
        """Figures for /metrics: name → (type, help, [(labels, value)])."""
        with self.engine.connect() as conn:

            def one(q) -> float:
                value = conn.execute(q).scalar()
                if value is None:
                    return 0.0
                return value.timestamp() if isinstance(value, datetime) else float(value)

            subs = _subscriber_totals(conn).items()
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

    def recent_editions(self, limit: int = 10) -> list[dict]:
        """The newest editions with their delivery counts by status, newest first:
        dicts of id, schedule, slot, created_at, subject and counts."""
        e, d = s.editions, s.deliveries
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(e.c.id, e.c.schedule, e.c.slot, e.c.created_at, e.c.subject)
                .order_by(e.c.created_at.desc(), e.c.id.desc())
                .limit(limit)
            ).all()
            ids = [r.id for r in rows]
            counts: dict[int, dict[str, int]] = {i: {} for i in ids}
            if ids:
                for edition_id, status, n in conn.execute(
                    select(d.c.edition_id, d.c.status, func.count())
                    .where(d.c.edition_id.in_(ids))
                    .group_by(d.c.edition_id, d.c.status)
                ):
                    counts[edition_id][status] = n
        return [{**r._asdict(), "counts": counts[r.id]} for r in rows]

    def last_gathers(self, limit: int = 1) -> list[dict]:
        """The newest gather runs, newest first (source, started, finished, counts)."""
        g = s.gather_runs
        with self.engine.connect() as conn:
            rows = conn.execute(select(g).order_by(g.c.finished.desc()).limit(limit)).mappings()
            return [dict(r) for r in rows]

    def ping(self) -> None:
        """Read one row of the store's own tables; raise StoreUnavailable when the database
        cannot be reached. A table of ours, not ``SELECT 1``: a SQLite file deleted under a
        running app reopens as an empty database, which must not count as healthy."""
        with self.engine.connect() as conn:
            conn.execute(select(s.meta.c.key).limit(1)).all()

    def subscriber_totals(self) -> dict[str, int]:
        """Subscribers by status; active or pending ones whose address is suppressed count
        as 'suppressed' (see _subscriber_totals)."""
        with self.engine.connect() as conn:
            return _subscriber_totals(conn)


def _subscriber_totals(conn) -> dict[str, int]:
    """Subscribers by status, where an active or pending one whose address is on the
    suppression list counts as 'suppressed': sends skip them, so `status` and /metrics
    must not count them as reached (a status written before suppressions were checked, or
    by hand, would say otherwise). The list keeps hashes only, so the addresses are hashed
    here."""
    sub = s.subscribers
    q = select(sub.c.status, func.count()).group_by(sub.c.status)
    totals = {status: n for status, n in conn.execute(q)}
    blocked = {h for (h,) in conn.execute(select(s.suppressions.c.hash))}
    if blocked:
        reachable = select(sub.c.email, sub.c.status).where(sub.c.status.in_(_REACHABLE))
        for email, status in conn.execute(reachable):
            if address_hash(email) in blocked:
                totals[status] -= 1
                totals["suppressed"] = totals.get("suppressed", 0) + 1
    return {status: n for status, n in totals.items() if n}


_REACHABLE = [str(SubscriberStatus.ACTIVE), str(SubscriberStatus.PENDING)]
