"""What each schedule does when it fires (DESIGN invariant 1: the scheduler only triggers).

Every job may run at any moment, late, twice, or in two daemons at once: what is already
done is read from the database, never from the scheduler's memory. A digest firing works
out its slot from the clock and the schedule, lets the (schedule, slot) key decide whether
the edition is new, and sends through the ledger, which never sends a row twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from syndicate import pipeline
from syndicate.errors import SyndicateError
from syndicate.models import DeliveryStatus, EditionState
from syndicate.project import Project
from syndicate.project.schedules import Schedule
from syndicate.run.logs import event
from syndicate.store import Store

# How far back a missed slot is still looked for, to say in the log that it was skipped.
_MISSED_LOOKBACK = timedelta(days=1)


class _LogProgress:
    """A gather's failed URLs as log events (one line each), not bare stderr lines; no bar."""

    def __init__(self, schedule: str) -> None:
        self.schedule = schedule

    def __enter__(self) -> _LogProgress:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def add(self, n: int = 1) -> None:
        """n more pieces of work are known (a daemon shows no bar)."""

    def done(self, n: int = 1) -> None:
        """n pieces of work are finished."""

    def failure(self, line: str) -> None:
        event("gather.page_failed", logging.WARNING, schedule=self.schedule, detail=line)


class Jobs:
    """The job bodies of one daemon; safe to call from any thread."""

    def __init__(self, project: Project, store: Store, stop: threading.Event) -> None:
        self.project, self.store, self.stop = project, store, stop
        self.config = project.config
        project.schedules  # noqa: B018 - read now: bad schedules stop the daemon at start
        self._feeds_lock = threading.Lock()
        self._lock = threading.Lock()
        self._told_skipped: set[tuple[str, datetime]] = set()
        self._running: set[str] = set()
        # Set once the start-up gathers are done (at once when start_up never runs, as in
        # tests of single jobs): no digest is made from a store the first gather is filling.
        self._gathered = threading.Event()
        self._gathered.set()

    @property
    def schedules(self) -> dict[str, Schedule]:
        """The project's schedules (those of its last reload)."""
        return self.project.schedules

    def reload(self) -> dict[str, Schedule]:
        """Read schedules/ again (a ConfigError leaves the old ones in place)."""
        return self.project.reload()

    @property
    def sends(self) -> bool:
        """Whether this daemon sends its editions ([daemon] send), or leaves that to
        `syndicate worker`s."""
        return self.config.daemon.send

    @property
    def feeds_follow_gather(self) -> bool:
        """Feeds are rebuilt after each gather unless every feeds schedule has a clock."""
        feeds = [s for s in self.schedules.values() if s.kind == "feeds"]
        return not feeds or any(s.when(self.config.site.tz) is None for s in feeds)

    def start_up(self, names: list[str]) -> None:
        """The run each schedule gets at start: the gathers first, then the others (a
        digest made at start-up carries what the start-up gather found)."""
        kind = {n: s.kind for n, s in self.schedules.items()}
        gathers = [n for n in names if kind.get(n) == "gather"]
        if gathers:
            self._gathered.clear()
        try:
            for name in gathers:
                self.run(name, None, "start-up")
        finally:
            self._gathered.set()
        for name in names:
            if name not in gathers:
                self.run(name, None, "start-up")

    def hold_until_gathered(self) -> None:
        """Called by start_up before it runs: digests wait for the start-up gathers (the
        scheduler may fire a digest's own slot while they run)."""
        if any(s.kind == "gather" for s in self.schedules.values()):
            self._gathered.clear()

    def run(self, name: str, now: datetime | None = None, why: str = "schedule") -> None:
        """Run schedule ``name`` once; a failure is logged, never raised (the daemon stays).
        ``why``: "schedule" (a firing) or "start-up" (the run each schedule gets at start)."""
        schedule = self.schedules.get(name)
        if schedule is None or self.stop.is_set():
            return
        with self._lock:
            if name in self._running:  # never beside itself (the start run and a firing)
                return
            self._running.add(name)
        try:
            if schedule.kind == "digest":
                while not self._gathered.wait(0.5):  # the start-up gather is still running
                    if self.stop.is_set():
                        return
                self.digest(schedule, now, why)
            else:
                getattr(self, schedule.kind)(schedule, now)
        except SyndicateError as exc:
            event(f"{schedule.kind}.failed", logging.ERROR, schedule=name, error=str(exc))
        except Exception as exc:  # one bad run never takes the daemon down
            event(
                f"{schedule.kind}.failed",
                logging.ERROR,
                exc_info=True,
                schedule=name,
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            with self._lock:
                self._running.discard(name)

    def gather(self, schedule: Schedule, now: datetime | None = None) -> None:
        """Gather every source; then rebuild the feeds when they follow gathers."""
        event("gather.started", schedule=schedule.name)
        report = pipeline.gather(self.config, self.store, _LogProgress(schedule.name))
        event(
            "gather.done",
            schedule=schedule.name,
            new=report.new,
            updated=report.updated,
            unchanged=report.unchanged,
            failed=report.failed,
            requests=report.requests,
            not_modified=report.not_modified,  # answered 304: the conditional GETs that paid
            seconds=round((report.finished - report.started).total_seconds(), 2),
        )
        if self.feeds_follow_gather and not self.stop.is_set():
            self.feeds(None)

    def feeds(self, schedule: Schedule | None, now: datetime | None = None) -> None:
        """Rebuild every feed (one build at a time)."""
        with self._feeds_lock:
            report = pipeline.build_feeds(self.config, self.store)
        for line in report.failures[:20]:
            event("feeds.problem", logging.WARNING, detail=line)
        event(
            "feeds.built",
            schedule=schedule.name if schedule else "after-gather",
            feeds=report.feeds,
            written=len(report.written),
            removed=len(report.removed),
        )

    def digest(self, schedule: Schedule, now: datetime | None = None, why: str = "") -> None:
        """Send what is unfinished, then the edition of the newest slot, if still in time."""
        now = now or datetime.now(UTC)
        self.resume(schedule, now)
        when = schedule.when(self.config.site.tz)
        if when is None or self.stop.is_set():
            return
        lateness = schedule.max_lateness
        slot = when.latest(now, lateness)
        if slot is None:
            missed = when.latest(now, lateness + _MISSED_LOOKBACK)
            key = (schedule.name, missed)
            # A digest that never had an edition (a new project) missed nothing.
            ever = self.store.first_edition_made(schedule.name) is not None
            if missed and ever and key not in self._told_skipped and not self.store.edition(*key):
                self._told_skipped.add(key)
                event(
                    "digest.skipped",
                    logging.WARNING,
                    schedule=schedule.name,
                    slot=missed.isoformat(),
                    late_by=str(now - missed).split(".")[0],
                    lateness=schedule.lateness,
                    reason="missed while the daemon was down, and too late now (news goes stale)",
                )
            elif why == "start-up":
                nxt = when.next_after(now)
                event("digest.not_due", schedule=schedule.name, next=nxt.isoformat() if nxt else "")
            return
        event(
            "digest.fired",
            schedule=schedule.name,
            slot=slot.isoformat(),
            late_by=round((now - slot).total_seconds(), 4),
            why=why or "schedule",
        )
        self._deliver(schedule, slot, now)

    def resume(self, schedule: Schedule, now: datetime | None = None) -> None:
        """Go on sending an edition of this schedule that has rows left (a send cut short,
        or deferred rows now due); makes no new edition."""
        slot = self.store.unfinished_slot(schedule.name)
        if slot is not None and not self.stop.is_set():
            self._deliver(schedule, slot, now or datetime.now(UTC), resumed=True)

    def drafts(self, schedule: Schedule, now: datetime | None = None) -> None:
        """Drafts of this schedule whose approve_by has passed: sent or skipped as the
        schedule says (deliver_digest decides, and logs it here)."""
        now = now or datetime.now(UTC)
        for record in self.store.edition_records(schedule.name, limit=20):
            edition = record.edition
            if edition.state == EditionState.DRAFT and now >= edition.slot + schedule.approval_span:
                self._deliver(schedule, edition.slot, now, resumed=True)

    @property
    def running(self) -> list[str]:
        """The schedules whose jobs are running now."""
        with self._lock:
            return sorted(self._running)

    def resume_all(self) -> None:
        """resume() for every digest schedule (the daemon's retry sweep)."""
        with self._lock:
            if "_retries" in self._running:
                return
            self._running.add("_retries")
        try:
            self._resume_all()
        finally:
            with self._lock:
                self._running.discard("_retries")

    def _resume_all(self) -> None:
        for schedule in list(self.schedules.values()):
            if schedule.kind == "digest" and schedule.approve and not self.stop.is_set():
                try:
                    self.drafts(schedule)
                except Exception as exc:  # logged; the next sweep tries again
                    event("digest.failed", logging.ERROR, schedule=schedule.name, error=str(exc))
        if not self.sends:
            return  # the send workers pick up deferred rows themselves
        for schedule in list(self.schedules.values()):
            if schedule.kind == "digest" and not self.stop.is_set():
                try:
                    self.resume(schedule)
                except Exception as exc:  # logged; the next sweep tries again
                    event("digest.failed", logging.ERROR, schedule=schedule.name, error=str(exc))

    def _deliver(
        self, schedule: Schedule, slot: datetime, now: datetime, resumed: bool = False
    ) -> None:
        def announce(run: pipeline.DigestRun) -> None:
            if run.created:
                event(
                    "edition.made",
                    schedule=schedule.name,
                    slot=slot.isoformat(),
                    edition=run.made.edition.id,
                    stories=len(run.made.edition.featured),
                    listed=len(run.made.edition.listed),
                    late_by=round((now - slot).total_seconds(), 3),
                )

        run = pipeline.deliver_digest(
            self.config, self.store, schedule, slot, now,
            send=self.sends, stop=self.stop, announce=announce,
        )  # fmt: skip
        if run.made is None:
            event("digest.empty", schedule=schedule.name, slot=slot.isoformat())
            return
        edition = run.made.edition
        if run.decided:  # a draft mailed to its editors, or its deadline's choice taken
            event("edition.decided", schedule=schedule.name, edition=edition.id,
                  state=str(edition.state), detail=run.decided)  # fmt: skip
        if not edition.state.sendable:
            return
        if not self.sends:
            if run.added:  # the send workers take it from here
                event("edition.queued", schedule=schedule.name, edition=edition.id,
                      added=run.added)  # fmt: skip
            return
        report = run.report
        if report is None:
            return  # all done (by us earlier, or by another daemon), or being sent now
        counts = self.store.delivery_counts(edition.id)
        trouble = report.failed or report.paused or report.store_error
        event(
            "digest.sent",
            logging.WARNING if trouble else logging.INFO,
            schedule=schedule.name,
            slot=slot.isoformat(),
            edition=edition.id,
            resumed=resumed,
            added=run.added,
            sent_now=report.sent,
            sent=counts.get(DeliveryStatus.SENT, 0),
            deferred=counts.get(DeliveryStatus.DEFERRED, 0),
            failed=counts.get(DeliveryStatus.FAILED, 0),
            skipped=counts.get(DeliveryStatus.SKIPPED, 0),
            paused=report.paused or "",
            store_error=report.store_error or "",
        )
