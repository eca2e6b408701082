"""`syndicate worker`: a send worker, for lists that outgrow one process or one machine.

It makes no editions (the daemons do); it looks for editions with messages waiting in the
ledger, claims them in batches (on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so workers
on any number of machines take different rows without waiting for each other), sends and
marks each at once. Nothing is coordinated beyond the database: a worker that dies keeps
its claim until the lease runs out (on the same machine, only until the next claim sees
its pid is gone), and then another takes the rows over.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import UTC, datetime

from syndicate.errors import ConfigError, StoreError, StoreUnavailable, db_reason
from syndicate.models import DeliveryStatus
from syndicate.project import Project
from syndicate.project.secret import require_secret_key
from syndicate.run.heartbeat import Heartbeat, stop_on_signals
from syndicate.run.logs import event, setup
from syndicate.store import open_store, shown_url

# How long an edition that cannot be composed (its schedule file gone or broken) is left
# alone before the worker tries it again.
_UNUSABLE_SECONDS = 60.0
# How long to wait after losing the database before trying again.
_STORE_RETRY = 5.0
# How long a send that paused (the mail server keeps refusing) rests before trying again.
_PAUSED_SECONDS = 60.0


def run_worker(project: Project, log_format: str | None = None, once: bool = False) -> int:
    """Send until SIGTERM or Ctrl-C (or, with ``once``, until nothing is due); exit status."""
    from syndicate import pipeline

    config = project.config
    setup(log_format or config.daemon.log_format)
    require_secret_key(config.project, "a send worker")
    store = open_store(config.store_url)
    transport = pipeline.open_transport(config)
    policy = pipeline.retry_policy(config)
    # A worker never sits on one edition waiting for its deferred rows to come due: it
    # goes back to its to-do list, where they show up again when due.
    policy.wait = 0.0
    poll = config.worker.poll

    stop = threading.Event()
    stop_on_signals(stop, "worker")

    heartbeat = Heartbeat(store, "worker").start()
    event(
        "worker.started",
        pid=os.getpid(),
        worker=heartbeat.name,
        store=shown_url(config.store_url),
        transport=transport.describe(),
        pool=transport.pool,
        batch=policy.batch,
        lease=int(policy.lease.total_seconds()),
    )
    desk = _Desk(project, store)
    totals = {"sent": 0, "failed": 0, "skipped": 0}
    lost = False  # the store failed at least once (--once: exit 1)
    try:
        while not stop.is_set():
            try:
                desk.release_held()
                idle = _round(store, desk, transport, policy, stop, totals)
            except (StoreUnavailable, StoreError, _StoreLost) as exc:
                # The database restarted or the network dropped (StoreUnavailable), or it
                # failed otherwise (any other StoreError: every database error is waited
                # out, as it always was): wait and carry on. What this process could not
                # hand back is handed back when the store returns; messages accepted but
                # not marked are what a crash costs too (at most one per connection).
                lost = True
                event("worker.store_error", logging.ERROR, error=db_reason(exc),
                      retry_in=0 if once else _STORE_RETRY)  # fmt: skip
                if once or stop.wait(_STORE_RETRY):
                    break
                continue
            if idle:
                if once:
                    break
                stop.wait(poll)
    finally:
        heartbeat.stop()
        store.close()
        event("worker.stopped", **totals)
    return 1 if once and (totals["failed"] or lost) else 0


class _StoreLost(Exception):
    """A send stopped because the store failed."""


def _round(store, desk, transport, policy, stop, totals) -> bool:
    """Work every open edition once; True when there was nothing to do."""
    now = datetime.now(UTC)
    todo = [e for e in store.open_editions(now - policy.max_age, now) if desk.usable(e)]
    for edition_id in todo:
        if stop.is_set():
            break
        made = desk.made(edition_id)
        if made is None:
            continue
        report = _send(desk.config, store, made, transport, policy, stop)
        for key in totals:
            totals[key] += getattr(report, key)
        if report.unreleased:
            desk.held.append(report.unreleased)
        if report.store_error:
            raise _StoreLost(report.store_error)
        if report.paused:
            event("worker.paused", logging.WARNING, edition=edition_id, reason=report.paused,
                  rest=_PAUSED_SECONDS)  # fmt: skip
            stop.wait(_PAUSED_SECONDS)
    desk.expire(now - policy.max_age)
    return not todo


def _send(config, store, made, transport, policy, stop):
    from syndicate import pipeline

    edition = made.edition
    started = time.monotonic()
    report = pipeline.send_edition(
        config, store, made, stop=stop, transport=transport, policy=policy
    )
    if report.store_error:
        return report  # the caller says so; the counts would fail the same way
    if report.sent or report.failed or report.skipped:
        counts = store.delivery_counts(edition.id)
        took = time.monotonic() - started
        event(
            "worker.sent",
            logging.WARNING if report.failed else logging.INFO,
            schedule=edition.schedule,
            edition=edition.id,
            sent_now=report.sent,
            failed_now=report.failed,
            skipped_now=report.skipped,
            per_second=round(report.sent / took, 1) if took > 0 else 0,
            sent=counts.get(DeliveryStatus.SENT, 0),
            pending=counts.get(DeliveryStatus.PENDING, 0),
            deferred=counts.get(DeliveryStatus.DEFERRED, 0),
            failed=counts.get(DeliveryStatus.FAILED, 0),
        )
        for line in report.failures[:20]:
            event("worker.message_failed", logging.WARNING, edition=edition.id, detail=line)
    return report


class _Desk:
    """The editions a worker has composed messages for: each is read from the store and
    prepared once (never re-rendered: the edition's stored HTML and text are what every
    sender composes from), with the sender details of its schedule."""

    def __init__(self, project: Project, store) -> None:
        self.project, self.config, self.store = project, project.config, store
        self._made: dict[int, object] = {}
        self._unusable: dict[int, float] = {}
        self.held: list[str] = []  # claimers whose rows could not be handed back yet
        self._expired = 0.0

    def release_held(self) -> None:
        """Hand back the rows of sends cut short by a store failure (raises while the
        store is still away)."""
        while self.held:
            self.store.release(self.held[0])
            self.held.pop(0)

    def expire(self, before: datetime) -> None:
        """Once a minute: deferred messages of editions made before ``before`` are failed
        for good (retries stop after mail.retry_max_age_hours), so they do not wait for
        ever when no daemon sends."""
        if time.monotonic() - self._expired < 60:
            return
        self._expired = time.monotonic()
        expired = self.store.expire_deferred(before, datetime.now(UTC))
        if expired:
            event("worker.expired", logging.WARNING, messages=expired,
                  reason="deferred past mail.retry_max_age_hours")  # fmt: skip

    def usable(self, edition_id: int) -> bool:
        until = self._unusable.get(edition_id)
        return until is None or time.monotonic() >= until

    def made(self, edition_id: int):
        """The edition's Made, or None (logged) when it cannot be composed now."""
        if edition_id in self._made:
            return self._made[edition_id]
        from syndicate import pipeline

        try:
            made = pipeline.load_edition(self.project, self.store, edition_id)
        except ConfigError as exc:
            self._unusable[edition_id] = time.monotonic() + _UNUSABLE_SECONDS
            event("worker.edition_unusable", logging.ERROR, edition=edition_id, error=str(exc),
                  retry_in=_UNUSABLE_SECONDS)  # fmt: skip
            return None
        self._made[edition_id] = made
        if len(self._made) > 16:  # editions close; keep the newest few (ids only grow)
            self._made.pop(min(self._made))
        return made
