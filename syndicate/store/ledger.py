"""The delivery ledger (DESIGN invariants 1 and 3): one row per edition and subscriber,
claimed in batches by a sender, marked sent in its own transaction right after the 250.

Claimer names and the dead-local-claimer check are in claimer.py; heartbeats and the
figures `status` and /metrics read, in telemetry.py."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from syndicate.models import Delivery, DeliveryStatus, Subscriber
from syndicate.store import schema as s

# HOST, SPACE and process_of were defined here before claimer.py; tests and scripts still
# import them from this module.
from syndicate.store.claimer import HOST, SPACE, dead_local, process_of  # noqa: F401

# Free connections kept for marks on PostgreSQL: one per sending thread is the most used.
_MARK_CONNECTIONS = 16

_d = s.deliveries
_PENDING, _DEFERRED = DeliveryStatus.PENDING, DeliveryStatus.DEFERRED
_UNSENT = (_PENDING, _DEFERRED)  # rows a sender may still have to send


def _due(now: datetime):
    """Rows to send now: pending, or deferred and due."""
    return or_(_d.c.status == _PENDING, and_(_d.c.status == _DEFERRED, _d.c.next_try <= now))


def _unheld(now: datetime):
    """Rows no claim holds now (never claimed, released, or the lease ran out)."""
    return or_(_d.c.claimed_until.is_(None), _d.c.claimed_until < now)


_FREE = {"claimed_by": None, "claimed_until": None, "attempts": _d.c.attempts + 1}
# Built once: these run once per message, and building the statement each time costs
# about as much as executing it.
_MARK_SENT = (
    update(_d)
    .where(_d.c.id == bindparam("row"))
    .values(status=DeliveryStatus.SENT, message_id=bindparam("mid"), sent_at=bindparam("at"),
            sent_by=bindparam("by"), error=None, **_FREE)
)  # fmt: skip
_MARK_DEFERRED = (
    update(_d)
    .where(_d.c.id == bindparam("row"))
    .values(status=_DEFERRED, error=bindparam("error"), next_try=bindparam("next"), **_FREE)
)
_MARK_FAILED = (
    update(_d)
    .where(_d.c.id == bindparam("row"))
    .values(status=bindparam("status"), error=bindparam("error"), **_FREE)
)


def fill_ledger(conn: Connection, edition_id: int, subscribers: Iterable[Subscriber]) -> int:
    """In conn's transaction, a pending row for each subscriber that has none for this
    edition; how many were added."""
    have = {
        r[0] for r in conn.execute(select(_d.c.subscriber_id).where(_d.c.edition_id == edition_id))
    }
    rows = [
        {
            "edition_id": edition_id,
            "subscriber_id": sub.id,
            "email": sub.email,
            "name": sub.name,
            "status": _PENDING,
            "attempts": 0,
        }
        for sub in subscribers
        if sub.id not in have
    ]
    if rows:
        conn.execute(insert(_d), rows)
    return len(rows)


class LedgerSQL:
    """The LedgerStore role, mixed into SQLStore: needs ``self.engine``, ``self._ledger_lock``,
    ``self._ledger_conn`` and ``self._mark_conns`` (see SQLStore.__init__)."""

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
        with self.engine.begin() as conn:
            return fill_ledger(conn, edition_id, subscribers)

    def claim(
        self, edition_id: int, worker: str, limit: int, now: datetime, lease: timedelta
    ) -> list[Delivery]:
        """Take up to ``limit`` rows due now (pending, or deferred and due), not held by a
        live claimer, for ``worker`` until ``now + lease``."""
        due = and_(_d.c.edition_id == edition_id, _due(now))
        free = _unheld(now)
        for _ in range(5):  # a claim that lost every row to a racing claimer looks again
            got, more = self._claim_once(edition_id, worker, limit, now, lease, due, free)
            if got or not more:
                return got
        return []

    def _claim_once(self, edition_id, worker, limit, now, lease, due, free):
        """(rows taken, whether free rows were seen)."""
        d = s.deliveries
        with self._ledger() as conn:
            _free_dead_local(conn, and_(due, ~free))
            # Rows held by a live claimer, this worker included (they are in flight in its
            # threads), are never taken. On PostgreSQL the rows are locked as they are read
            # and rows another claimer has locked are passed over (SKIP LOCKED): workers on
            # several machines each take different rows without waiting for each other.
            first = select(d.c.id).where(due, free).order_by(d.c.id).limit(limit)
            if conn.dialect.name == "postgresql":
                first = first.with_for_update(skip_locked=True)
            wanted = list(conn.execute(first).scalars())
            if not wanted:
                return [], False
            # One conditional UPDATE takes the rows: of two senders racing for the same
            # rows (SQLite, one writer at a time), only one matches; the other looks again.
            conn.execute(
                update(d)
                .where(d.c.id.in_(wanted), due, free)
                .values(claimed_by=worker, claimed_until=now + lease)
            )
            got = conn.execute(
                select(d).where(d.c.id.in_(wanted), d.c.claimed_by == worker).order_by(d.c.id)
            ).mappings()
            return [_delivery(r) for r in got], True

    def mark_sent(
        self, delivery_id: int, message_id: str, now: datetime, by: str | None = None
    ) -> None:
        """Sent: the server said 250. Its own transaction, at once (invariant 3). ``by``:
        the claimer that sent it."""
        self._mark(_MARK_SENT, {"row": delivery_id, "mid": message_id, "at": now, "by": by})

    def mark_deferred(self, delivery_id: int, error: str, next_try: datetime) -> None:
        """A temporary failure: tried again at next_try."""
        self._mark(_MARK_DEFERRED, {"row": delivery_id, "error": error, "next": next_try})

    def mark_failed(
        self, delivery_id: int, error: str, status: DeliveryStatus = DeliveryStatus.FAILED
    ) -> None:
        """Failed for good (or 'skipped': not to be sent, e.g. a suppressed address)."""
        self._mark(_MARK_FAILED, {"row": delivery_id, "error": error, "status": status})

    def _mark(self, statement, params: dict) -> None:
        if self.engine.dialect.name != "postgresql":
            with self._ledger() as conn:
                conn.execute(statement, params)
            return
        # PostgreSQL: the sending threads mark on connections of their own, in autocommit
        # (the UPDATE is its own transaction: one round trip, no BEGIN/COMMIT), so their
        # commits overlap and the server flushes them to disk together, instead of queueing
        # behind one connection as SQLite's single writer needs. The connections are kept
        # in a free list (one per thread at most) and reused by the next send's threads.
        try:
            conn = self._mark_conns.pop()  # atomic: no lock needed
        except IndexError:
            conn = self._mark_connection()
        try:
            _execute_or_close(conn, statement, params)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The server dropped its connections (a restart, a failover): the idle ones
            # are as dead as this one. Once more on a new connection, rather than leave a
            # message the server accepted unmarked.
            self._close_mark_conns()
            conn = self._mark_connection()
            _execute_or_close(conn, statement, params)
        if len(self._mark_conns) < _MARK_CONNECTIONS:
            self._mark_conns.append(conn)
        else:
            conn.close()

    def _close_mark_conns(self) -> None:
        while self._mark_conns:
            with contextlib.suppress(Exception):
                self._mark_conns.pop().close()

    def _mark_connection(self) -> Connection:
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    @contextlib.contextmanager
    def _ledger(self) -> Iterator[Connection]:
        """One transaction on the connection the ledger's writes share in this process.

        Marks come from every sending thread, one commit per message, while the main
        thread claims the next batch. On one connection behind a lock they take turns at
        once; on separate connections they would meet in SQLite's busy handler, which
        sleeps for milliseconds, and a mark kept waiting widens the window in which a kill
        leaves a delivered message unmarked. Checking a pooled connection out for each
        message would also cost as much as the UPDATE itself."""
        with self._ledger_lock:
            conn = self._ledger_conn
            if conn is None or conn.closed:
                conn = self._ledger_conn = self.engine.connect()
            try:
                yield conn
                conn.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.rollback()
                if conn.invalidated:  # the server went away: the next use connects anew
                    with contextlib.suppress(Exception):
                        conn.close()
                    self._ledger_conn = None
                raise

    def close_ledger(self) -> None:
        """Give back the ledger's connections (the store's close does it too)."""
        with self._ledger_lock:
            if self._ledger_conn is not None:
                with contextlib.suppress(Exception):
                    self._ledger_conn.close()
                self._ledger_conn = None
        self._close_mark_conns()

    def release(self, worker: str) -> None:
        """Give back what this worker claimed and did not finish."""
        d = s.deliveries
        with self._ledger() as conn:
            conn.execute(
                update(d)
                .where(d.c.claimed_by == worker, d.c.status.in_(_UNSENT))
                .values(claimed_by=None, claimed_until=None)
            )

    def open_editions(self, since: datetime, now: datetime) -> list[int]:
        """Editions made since ``since`` with rows a sender could claim now (pending, or
        deferred and due, and not held by a live claim), oldest first: a send worker's
        to-do list. Each edition is checked with the ledger's index, not a table scan.
        Rows held by a dead sender on this machine are freed first, as a claim does."""
        e, d = s.editions, s.deliveries
        recent = select(e.c.id).where(e.c.created_at >= since).scalar_subquery()
        claimable = select(d.c.id).where(d.c.edition_id == e.c.id, _due(now), _unheld(now)).exists()
        q = select(e.c.id).where(e.c.created_at >= since, claimable).order_by(e.c.id)
        with self._ledger() as conn:
            _free_dead_local(
                conn, and_(d.c.edition_id.in_(recent), d.c.status.in_(_UNSENT), ~_unheld(now))
            )
            return list(conn.execute(q).scalars())

    def renew(self, worker: str, until: datetime) -> None:
        """Extend the claims ``worker`` still holds to ``until`` (it is alive and at work)."""
        d = s.deliveries
        with self._ledger() as conn:
            conn.execute(
                update(d)
                .where(d.c.claimed_by == worker, d.c.status.in_(_UNSENT))
                .values(claimed_until=until)
            )

    def expire_deferred(self, before: datetime, now: datetime) -> int:
        """Fail for good the deferred rows of editions made before ``before`` that no live
        claim holds (their retries are over); how many."""
        e, d = s.editions, s.deliveries
        old = select(e.c.id).where(e.c.created_at < before).scalar_subquery()
        with self._ledger() as conn:
            return conn.execute(
                update(d)
                .where(d.c.edition_id.in_(old), d.c.status == _DEFERRED, _unheld(now))
                .values(
                    status=DeliveryStatus.FAILED,
                    error=func.coalesce(d.c.error, "deferred") + " (retries stopped: too old)",
                    claimed_by=None,
                    claimed_until=None,
                )
            ).rowcount

    def unfinished_slot(self, schedule: str) -> datetime | None:
        """The slot of the newest edition of a schedule that still has rows to send."""
        d, e = s.deliveries, s.editions
        q = (
            select(e.c.slot)
            .join(d, d.c.edition_id == e.c.id)
            .where(e.c.schedule == schedule, d.c.status.in_(_UNSENT))
            .order_by(e.c.slot.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(q).scalar()

    def recipients_of(self, edition_id: int) -> set[str]:
        """The subscriber ids with a row in this edition's ledger."""
        q = select(_d.c.subscriber_id).where(_d.c.edition_id == edition_id)
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(q)}

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
            d.c.edition_id == edition_id, d.c.status == _DEFERRED
        )
        with self.engine.connect() as conn:
            return conn.execute(q).scalar()


def _execute_or_close(conn: Connection, statement, params: dict) -> None:
    """Run one statement; a connection that failed is closed, never given back."""
    try:
        conn.execute(statement, params)
    except BaseException:
        with contextlib.suppress(Exception):
            conn.close()
        raise


def _free_dead_local(conn: Connection, where) -> None:
    """Free the rows (matching ``where``) held by senders on this machine whose process is
    gone: a killed sender's batch is free at once, not when its lease ends."""
    d = s.deliveries
    holders = conn.execute(
        select(d.c.claimed_by).distinct().where(where, d.c.claimed_by.is_not(None))
    ).scalars()
    dead = [h for h in holders if dead_local(h)]
    if dead:
        conn.execute(
            update(d)
            .where(d.c.claimed_by.in_(dead), d.c.status.in_(_UNSENT))
            .values(claimed_by=None, claimed_until=None)
        )


def _delivery(r) -> Delivery:
    return Delivery(
        id=r["id"],
        edition_id=r["edition_id"],
        subscriber_id=r["subscriber_id"],
        email=r["email"],
        name=r["name"],
        status=DeliveryStatus(r["status"]),
        attempts=r["attempts"],
        next_try=r["next_try"],
        message_id=r["message_id"],
        error=r["error"],
        sent_at=r["sent_at"],
    )
