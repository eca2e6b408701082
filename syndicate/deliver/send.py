"""Work an edition's ledger: claim rows in batches, compose, send, mark each at once.

Invariant 3: a row is marked sent in its own transaction right after the server's 250, so
a kill at any moment costs at most the message in flight being sent again. Rows a dead
process had claimed on this host are free at once; a live claimer's (another `send`, the
daemon, a worker elsewhere) are left alone until their lease runs out, so two senders never
deliver the same row twice.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from syndicate import people
from syndicate.deliver import Connection, Transport, TransportError
from syndicate.digest.mime import MessageTemplate
from syndicate.errors import StoreError, StoreUnavailable, db_reason
from syndicate.models import Delivery, DeliveryStatus, Subscriber
from syndicate.project.settings import SETTINGS, MailSettings
from syndicate.store import LedgerStore, Store, sender_name
from syndicate.testhooks import pause_point

_MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


def _default(key: str):
    """A [mail] setting's default, from the one settings table."""
    return SETTINGS["mail"][key].default


@dataclass
class RetryPolicy:
    """How temporary failures are retried, and when a send gives up or pauses. The
    defaults are the [mail] settings' (see of())."""

    max_attempts: int = _default("max_attempts")
    base_delay: float = float(_default("retry_base"))  # seconds; doubled at each attempt
    max_delay: float = 6 * 3600.0  # the longest wait between two tries (not a setting)
    max_age: timedelta = timedelta(hours=_default("retry_max_age_hours"))
    wait: float = float(_default("send_wait"))  # one `send` waits this long for due rows
    pause_after: int = _default("pause_after")  # consecutive failures before a pause
    batch: int = _default("batch")
    lease: timedelta = timedelta(seconds=_default("claim_lease"))

    @classmethod
    def of(cls, mail: MailSettings) -> RetryPolicy:
        """The policy a project's [mail] settings describe."""
        return cls(
            max_attempts=mail.max_attempts,
            base_delay=float(mail.retry_base),
            max_age=timedelta(hours=float(mail.retry_max_age_hours)),
            wait=float(mail.send_wait),
            pause_after=mail.pause_after,
            batch=mail.batch,
            lease=timedelta(seconds=float(mail.claim_lease)),
        )

    def next_try(self, attempts: int, now: datetime) -> datetime:
        """When to try again after ``attempts`` tries."""
        return now + timedelta(seconds=min(self.max_delay, self.base_delay * 2 ** (attempts - 1)))


@dataclass
class SendReport:
    """What one send did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    suppressed: int = 0
    failures: list[str] = field(default_factory=list)
    paused: str | None = None
    # The database failed mid-send (a restart, a failover): the send stopped taking rows.
    store_error: str | None = None
    # A claimer whose rows could not be handed back (the database was still away, every
    # thread stopped): free when its lease ends, or when the caller releases them sooner.
    unreleased: str | None = None
    # When deferred rows stop being retried (the edition made + [mail] max_age).
    retry_until: datetime | None = None

    def summary(self) -> str:
        """The one-line summary printed at the end of a send."""
        paused = f"; PAUSED: {self.paused}" if self.paused else ""
        if self.store_error:
            paused += (
                f"; STOPPED: the store failed ({self.store_error}); run send again when it "
                "is back: it resumes where it stopped"
            )
        return (
            f"sent: {self.sent} sent, {self.deferred} deferred, {self.failed} failed, "
            f"{self.skipped} skipped{paused}"
        )


class _Progress:
    def add(self, n: int = 1) -> None: ...
    def done(self, n: int = 1) -> None: ...
    def failure(self, line: str) -> None: ...


@dataclass(slots=True, eq=False)
class _Send:
    """What one deliver_edition call shares with its sending threads and helpers, made
    once per call. _send_one reads it for every message: slots keep those reads cheap."""

    store: Store
    edition_id: int
    message: MessageTemplate
    envelope_from: str  # SMTP MAIL FROM, the same for every message
    policy: RetryPolicy
    worker: str  # the claimer name, recorded with each sent row
    report: SendReport
    state: _State
    limiter: _Rate
    progress: _Progress  # or anything shaped like it (cli/progress.py)
    made: datetime | None  # when the edition was made: past policy.max_age, no more retries
    stop: threading.Event
    started: float  # time.monotonic() at the start, for policy.wait
    seen: set[int] = field(default_factory=set)  # rows counted in the bar's total
    finished: set[int] = field(default_factory=set)  # rows counted as done


def deliver_edition(
    store: Store,
    edition_id: int,
    message: MessageTemplate,
    transport: Transport,
    policy: RetryPolicy | None = None,
    progress=None,
    edition_made: datetime | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Send every due row of an edition's ledger; wait for deferred ones up to policy.wait.

    When ``stop`` is set (the daemon is shutting down) no new row is taken: the messages
    in flight finish and are marked, the rest are released for the next run."""
    policy = policy or RetryPolicy()
    send = _Send(
        store=store,
        edition_id=edition_id,
        message=message,
        envelope_from=message.sender.address,
        policy=policy,
        worker=sender_name(),
        report=SendReport(),
        state=_State(policy.pause_after),
        limiter=_Rate(transport.rate),
        progress=progress or _Progress(),
        made=edition_made,
        stop=stop or threading.Event(),
        started=time.monotonic(),
    )
    state, report = send.state, send.report
    if edition_made is not None:
        report.retry_until = edition_made + policy.max_age
    # Bounded: the next batch is claimed while the threads still work on this one (no
    # idle gap between batches), and at most one batch waits claimed and unsent.
    jobs: queue.Queue[Delivery | None] = queue.Queue(maxsize=policy.batch)

    def work() -> None:
        conn: Connection | None = None
        while True:
            d = jobs.get()
            if d is None:
                jobs.task_done()
                break
            try:
                if state.paused or state.aborted or send.stop.is_set():
                    continue  # left claimed by us; released below
                if conn is None:
                    try:
                        conn = transport.connect()
                    except TransportError as exc:  # the server, not this row: see _no_server
                        _no_server(send, d, exc)
                        continue
                _send_one(send, d, conn)
            # StoreUnavailable: the store went away (a restart, a failover, the network):
            # not one row's problem, so the send takes no more rows. Other database errors
            # (a StoreError: a constraint raced by another sender) are one row's trouble.
            except StoreUnavailable as exc:  # the ledger cannot be written: take no more rows
                state.abort(exc)
            except Exception as exc:  # one bad row never takes the send down
                state.failure(f"{d.email}: unexpected {type(exc).__name__}: {exc}")
                try:
                    store.mark_deferred(d.id, str(exc), policy.next_try(d.attempts + 1, _now()))
                    state.count(report, DeliveryStatus.DEFERRED)
                except StoreUnavailable as lost:
                    state.abort(lost)
            finally:
                jobs.task_done()
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(transport.pool)]
    for t in threads:
        t.start()
    try:
        _claim_and_queue(send, jobs, _Lease(store, send.worker, policy.lease))
    except StoreUnavailable as exc:
        state.abort(exc)
    finally:
        _finish(send, threads, jobs)
    report.paused = state.paused
    report.failures = state.lines
    report.store_error = state.aborted
    with contextlib.suppress(StoreError):  # the count is for the summary only
        report.deferred = store.delivery_counts(edition_id).get(DeliveryStatus.DEFERRED, 0)
    return report


def _claim_and_queue(send: _Send, jobs: queue.Queue[Delivery | None], lease: _Lease) -> None:
    """The main thread's part: claim batches and hand their rows to the sending threads
    until nothing is due (or deferred rows come due later than policy.wait allows)."""
    store, edition_id, policy = send.store, send.edition_id, send.policy
    state, stop = send.state, send.stop

    def halted() -> bool:
        return bool(state.paused or state.aborted or stop.is_set())

    while not halted():
        lease.keep()
        now = _now()
        claimed = store.claim(edition_id, send.worker, policy.batch, now, policy.lease)
        if not claimed:
            if jobs.unfinished_tasks:
                # Rows still in flight may come back deferred: let them finish before
                # deciding whether to wait for due rows or stop.
                _join(jobs, lease)
                continue
            due = store.next_due(edition_id)
            if due is None or due <= now:
                # Nothing waits, or the due rows are held by another sender: theirs to send
                # (or, if it died, free when its lease ends; the retry sweeps come back).
                return
            if time.monotonic() - send.started + (due - now).total_seconds() > policy.wait:
                return
            stop.wait(max(0.0, min((due - now).total_seconds(), 5.0)) + 0.01)
            continue
        blocked = store.suppressed([d.email for d in claimed])
        for d in claimed:
            if halted():
                return  # the rest stay claimed by us and are handed back by _finish
            if d.email in blocked:
                blocked_why = "address is on the suppression list"
                store.mark_failed(d.id, blocked_why, DeliveryStatus.SKIPPED)
                send.report.skipped += 1
                continue
            if d.id not in send.seen:  # a retried row is the same recipient
                send.seen.add(d.id)
                send.progress.add()
            while not halted():  # a slow server can keep the queue full long: keep the lease
                try:
                    jobs.put(d, timeout=lease.tick)
                    break
                except queue.Full:
                    lease.keep()


def _finish(send: _Send, threads: list[threading.Thread], jobs: queue.Queue) -> None:
    """Stop the sending threads (each finishes and marks its message in flight), then hand
    back the rows this send claimed and did not send. Rows are handed back only when every
    thread has stopped: one still sending must not see its row go out again elsewhere
    (rows of a thread that will not stop are left to their lease)."""
    state, stop = send.state, send.stop
    for _ in threads:
        while any(t.is_alive() for t in threads):
            try:
                jobs.put(None, timeout=1.0)
                break
            except queue.Full:
                if state.aborted or stop.is_set():
                    _drop_one(jobs)  # rows nobody will send now: they stay ours, freed below
    for t in threads:
        t.join(timeout=60)
    if any(t.is_alive() for t in threads):
        return
    for delay in (0.0, 0.5, 1.0, 2.0, 4.0):  # the database may be on its way back
        if delay and stop.wait(delay):
            break
        try:
            send.store.release(send.worker)
            return
        except StoreUnavailable as exc:
            state.abort(exc)
    send.report.unreleased = send.worker  # to be handed back when the store returns


def _drop_one(jobs: queue.Queue) -> None:
    with contextlib.suppress(queue.Empty):
        jobs.get_nowait()
        jobs.task_done()


def _no_server(send: _Send, d: Delivery, exc: TransportError) -> None:
    """The mail server could not be reached (or refused the login) for d's message: the
    row is retried like any temporary failure; a refusal that is not temporary (a login,
    no STARTTLS) pauses the send, since every other row would meet it too, and leaves the
    row to wait, since it is the server's fault, not the address's."""
    if exc.kind == "temporary":
        _not_taken(send, d, exc)
        return
    send.store.mark_deferred(d.id, str(exc), send.policy.next_try(d.attempts + 1, _now()))
    send.state.failure(str(exc))
    send.state.pause(f"{exc}; fix [mail] url, then run send again")
    _finished(send, d)


def _finished(send: _Send, d: Delivery) -> None:
    """The bar counts recipients, not attempts: each row once, at its first outcome."""
    if d.id not in send.finished:
        send.finished.add(d.id)
        send.progress.done()


def _send_one(send: _Send, d: Delivery, conn: Connection) -> None:
    """Compose d's message, send it over conn and mark its row: sent, deferred or failed."""
    store, state, report = send.store, send.state, send.report
    raw = send.message.compose(Subscriber(d.email, d.name))
    found = _MESSAGE_ID.search(raw)
    message_id = found.group(1).decode() if found else ""
    send.limiter.wait()
    try:
        conn.send(send.envelope_from, d.email, raw)
    except TransportError as exc:
        _not_taken(send, d, exc)
        return
    pause_point("message-sent")  # tests kill here: the server has it, the ledger not yet
    store.mark_sent(d.id, message_id, _now(), send.worker)
    state.count(report, DeliveryStatus.SENT)
    state.success()
    _finished(send, d)


def _not_taken(send: _Send, d: Delivery, exc: TransportError) -> None:
    """d's message was not accepted: deferred while a temporary failure may still be
    retried, else failed for good (and a mailbox that does not exist, suppressed)."""
    store, policy, state, report = send.store, send.policy, send.state, send.report
    now = _now()
    attempts = d.attempts + 1
    too_old = send.made is not None and now - send.made > policy.max_age
    if exc.kind == "temporary" and attempts < policy.max_attempts and not too_old:
        store.mark_deferred(d.id, str(exc), policy.next_try(attempts, now))
    else:
        store.mark_failed(d.id, str(exc))
        state.count(report, DeliveryStatus.FAILED)
        line = f"{d.email}: {exc}; failed for good"
        if exc.kind == "bounce":
            people.bounced(store, d.email, "hard-bounce")
            state.count(report, "suppressed")
            line = f"{d.email}: {exc}; no such mailbox, address suppressed"
        send.progress.failure(line)
        state.lines.append(line)
    state.failure(str(exc))
    _finished(send, d)


class _Lease:
    """Keeps a live sender's claims from running out while it works through them (a slow
    server, a low rate): renewed every third of the lease. Only a sender that stopped
    renewing (killed, cut off from the database) loses its rows to another."""

    def __init__(self, store: LedgerStore, worker: str, lease: timedelta) -> None:
        self.store, self.worker, self.lease = store, worker, lease
        self.every = lease.total_seconds() / 3
        self.tick = min(1.0, self.every / 2)  # how long a wait may last between checks
        self.last = time.monotonic()

    def keep(self) -> None:
        if time.monotonic() - self.last >= self.every:
            self.store.renew(self.worker, _now() + self.lease)
            self.last = time.monotonic()


def _join(jobs: queue.Queue, lease: _Lease) -> None:
    """Wait for the rows in flight, renewing the lease meanwhile (Queue.join never wakes)."""
    while jobs.unfinished_tasks:
        with jobs.all_tasks_done:
            if jobs.unfinished_tasks:
                jobs.all_tasks_done.wait(lease.tick)
        lease.keep()


class _State:
    """Consecutive failures across the sending threads; pauses the send past a limit."""

    def __init__(self, pause_after: int) -> None:
        self.pause_after = pause_after
        self.aborted: str | None = None  # why the send stopped: the store failed
        self.consecutive = 0
        self.paused: str | None = None
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def pause(self, why: str) -> None:
        """Stop taking rows now, for a reason every row would meet (the server's login)."""
        with self._lock:
            self.paused = self.paused or why

    def failure(self, what: str) -> None:
        with self._lock:
            self.consecutive += 1
            if self.pause_after and self.consecutive >= self.pause_after and not self.paused:
                self.paused = (
                    f"{self.consecutive} failures in a row (last: {what}); check the mail "
                    "server, then run send again: it resumes where it stopped"
                )

    def abort(self, exc: Exception) -> None:
        """The store failed: no thread takes another row."""
        with self._lock:
            if not self.aborted:
                self.aborted = db_reason(exc)

    def success(self) -> None:
        with self._lock:
            self.consecutive = 0

    def count(self, report: SendReport, what: str) -> None:
        """One more in a report's counter (``+=`` alone is not safe across threads)."""
        with self._lock:
            setattr(report, what, getattr(report, what) + 1)


class _Rate:
    """At most ``rate`` messages a second over all threads (0: no limit)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


def _now() -> datetime:
    return datetime.now(UTC)
