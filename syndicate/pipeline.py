"""Where the stages meet. The CLI, the daemon, the worker, the web app and the demo call
these and nothing below them.

- gather: every source into the store, each on its own (one failing source is reported,
  the others still run), then cross-links resolved and the run recorded.
- build_feeds / validate_feeds: the feed files.
- preview_edition, deliver_digest: an edition made (or found) for a slot, stored with its
  recipients' ledger rows in one transaction (or as a draft awaiting approval), later
  joiners added by the one late-joiner rule (see recipients_welcome), then sent here or
  left to the send workers; load_edition: a stored edition as a worker composes it.
- edition_slot / plan_send: the slot `send` works on (the digest's own latest slot) and
  what it is about to do; decide_edition: an editor approves or holds; backlog: the
  stories waiting for an edition, and those that aged out.
- send_test_copy / write_dry_run: `send --to` and `send --dry-run`, outside the ledger.
- send_confirmation / send_confirmations: the double opt-in mail, to one or to a list.
- check_mail: `mail check`, the way to the mail system tried, nothing sent.
- public_edition_html: a stored edition as the web archive shows it (no personal parts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.errors import ConfigError, SyndicateError
from syndicate.models import (
    DeliveryStatus,
    EditionState,
    GatherReport,
    Subscriber,
    SubscriberStatus,
)
from syndicate.project import Project
from syndicate.project.schedules import Schedule, digest_schedule
from syndicate.project.settings import Config
from syndicate.sources import Progress, source_for
from syndicate.store import Store

if TYPE_CHECKING:  # the feed writers and the mail machinery load only when used
    from syndicate.deliver import CheckStep, Transport
    from syndicate.deliver.bounces import BounceReport
    from syndicate.deliver.send import RetryPolicy, SendReport
    from syndicate.digest.make import Made
    from syndicate.feeds.build import BuildReport
    from syndicate.sources.sitename import SiteName


def gather(
    config: Config, store: Store, progress: Progress, source: str | None = None
) -> GatherReport:
    """Run every source (or the one named) into the store; resolve cross-links; report.

    A source that raises is one failure line of the report, and the other sources run:
    one broken feed URL or site never stops the rest of a gather."""
    if source is not None and source not in config.sources:
        raise ConfigError(
            f"no source named {source!r}",
            f"sources in syndicate.toml: {', '.join(config.sources) or 'none'}",
        )
    names = [source] if source else list(config.sources)
    report = GatherReport(started=datetime.now(UTC))
    for name in names:
        try:
            source_for(config.sources[name], config.site, store).gather(report, progress)
        except Exception as exc:  # noqa: BLE001 - reported; the next source runs
            why = str(exc) if isinstance(exc, SyndicateError) else f"{type(exc).__name__}: {exc}"
            progress.failure(report.fail(f"source {name}", why, "its other pages skipped"))
    report.crosslinks = store.resolve_crosslinks()
    report.finished = datetime.now(UTC)
    store.record_gather(",".join(names), report)
    return report


def site_name(url: str) -> SiteName:
    """The publication's name as its home page gives it (`init` without --name), else its
    host with the reason the page could not tell."""
    from syndicate.sources.sitename import read_site_name

    return read_site_name(url)


def build_feeds(config: Config, store: Store, out: Path | None = None) -> BuildReport:
    """Write every feed of feeds/*.toml (default into the project's public/feeds)."""
    from syndicate.feeds.build import build_feeds as build
    from syndicate.feeds.websub import ping_changed

    report = build(config, store, out)
    hub = config.feeds.hub
    if hub:
        report.failures += ping_changed(hub, report.changed_urls, out or config.feeds_out)
    return report


def validate_feeds(config: Config, out: Path | None = None) -> tuple[int, list[str]]:
    """Check the built feeds (default: [feeds] out): (files checked, problems)."""
    from syndicate.feeds.validate import validate_dir

    return validate_dir(out or config.feeds_out)


def create_edition(
    config: Config, store: Store, schedule_name: str, slot: datetime
) -> tuple[Made | None, bool]:
    """Make and store the edition of (schedule, slot) once; see digest.make.create_edition."""
    from syndicate.digest.make import create_edition as make

    return make(
        config, store, digest_schedule(config.project, schedule_name), slot, datetime.now(UTC)
    )


def preview_edition(
    config: Config,
    store: Store,
    schedule: Schedule,
    now: datetime | None = None,
    *,
    again: bool = False,
) -> Made | None:
    """The next edition as it would be made now, rendered, nothing stored; None when
    nothing is new and the schedule skips empty editions. ``again``: as `send --force`
    makes it (the last edition's stories once more when nothing is new)."""
    from syndicate.digest.make import preview

    return preview(config, store, schedule, now or datetime.now(UTC), again=again)


def preview_reader(
    config: Config, schedule: Schedule, local: str = "preview", name: str = "Preview Reader"
) -> Subscriber:
    """The made-up subscriber a preview is personalized for (at the sender's domain)."""
    from syndicate.digest.make import sender_for

    return Subscriber(f"{local}@{sender_for(config, schedule).domain}", name)


def write_preview(made: Made, out: Path, reader: Subscriber) -> None:
    """Write a preview file (.html, .eml, .txt or .mjml, by out's extension)."""
    from syndicate.digest.make import write_preview as write

    write(made, out, reader)


def recipients_welcome(schedule: Schedule, slot: datetime, now: datetime, created: bool) -> bool:
    """The late-joiner rule: may active subscribers without a row join this edition now?

    Everyone active joins an edition when it is made. Later (a send resumed, a second
    daemon, `send` run again) those who joined since are added while the edition is
    within the schedule's lateness of its slot, the same span in which a missed edition
    may still go out; after that its news is stale, and they wait for the next one."""
    return created or now - slot <= schedule.max_lateness


@dataclass
class DigestRun:
    """What deliver_digest did: the edition (None: nothing new, none made), whether this
    call made it, the recipients it added, how many it has, and the send's report (None
    when it was not sent here: left to the workers, done already, being sent by another
    thread of this process, or not sendable: a draft, held or skipped). ``decided``: what
    this call did to a draft (sent to its editors, or its deadline's choice)."""

    made: Made | None
    created: bool = False
    added: int = 0
    recipients: int = 0
    report: SendReport | None = None
    decided: str = ""

    @property
    def state(self) -> EditionState | None:
        """The edition's state now (None: no edition)."""
        return self.made.edition.state if self.made else None

    def outcome(self) -> SendReport:
        """The send's report; an all-zero one when nothing was sent here."""
        from syndicate.deliver.send import SendReport

        return self.report or SendReport()


# The editions this process is sending now: a firing and a retry sweep (or two commands
# of one process) never send one edition side by side. Other processes are kept apart
# by the ledger's claims.
_sending: set[int] = set()
_sending_lock = threading.Lock()


def deliver_digest(
    config: Config,
    store: Store,
    schedule: Schedule,
    slot: datetime,
    now: datetime | None = None,
    *,
    send: bool = True,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    announce: Callable[[DigestRun], None] | None = None,
    again: bool = False,
) -> DigestRun:
    """Make or resume the edition of (schedule, slot), add its recipients by the one
    late-joiner rule, and send what is pending or due (send=False: leave it to the send
    workers). announce is called once the recipients are known, before sending.

    A new edition and its recipients' ledger rows are stored in one transaction. With
    ``approve = true`` the edition is made as a draft instead: its editors get a test
    copy, and it waits for `editions approve` until ``approve_by`` after its slot, when
    the schedule's ``unapproved`` choice (send or skip) is taken."""
    from syndicate.digest.make import create_edition as make

    now = now or datetime.now(UTC)

    def everyone() -> list[Subscriber]:
        return store.subscribers(digest=schedule.name, status=SubscriberStatus.ACTIVE)

    made, created = make(config, store, schedule, slot, now, everyone, again=again)
    run = DigestRun(made, created)
    if made is None:
        return run
    edition, edition_id = made.edition, _stored_id(made)
    if edition.state == EditionState.DRAFT:
        if created:
            run.decided = _to_editors(config, store, schedule, made)
        elif now >= edition.slot + schedule.approval_span:
            run.decided = _deadline(store, schedule, made, everyone)
        if edition.state == EditionState.DRAFT or not edition.state.sendable:
            if announce is not None:
                announce(run)
            return run
    elif not edition.state.sendable:
        return run
    if created:
        run.added = sum(store.delivery_counts(edition_id).values())
    elif recipients_welcome(schedule, edition.slot, now, created):
        run.added = store.add_deliveries(edition_id, everyone())
    counts = store.delivery_counts(edition_id)
    run.recipients = sum(counts.values())
    if announce is not None:
        announce(run)
    if not send or not (counts.get(DeliveryStatus.PENDING) or counts.get(DeliveryStatus.DEFERRED)):
        return run
    with _sending_lock:
        if edition_id in _sending:
            return run
        _sending.add(edition_id)
    try:
        run.report = send_edition(config, store, made, progress, stop)
    finally:
        with _sending_lock:
            _sending.discard(edition_id)
    return run


@dataclass
class SendPlan:
    """What `send DIGEST` is about to do, shown before it does it: the slot, the edition
    (found, or as it would be made now), and how many people it would mail."""

    slot: datetime
    made: Made | None  # None: nothing new, no edition would be made
    existing: bool  # the slot's edition exists already (a resumed send)
    to_mail: int  # recipients with a message still to send, joiners included
    already: int  # recipients already done (sent, failed or skipped)
    backlog: int  # stories of the window left for the next edition

    @property
    def stories(self) -> int:
        """How many stories the edition carries in full."""
        return len(self.made.edition.featured) if self.made else 0


def plan_send(
    config: Config,
    store: Store,
    schedule: Schedule,
    slot: datetime,
    now: datetime,
    *,
    again: bool = False,
) -> SendPlan:
    """What deliver_digest(schedule, slot) would do now; nothing is stored or sent."""
    from syndicate.digest.make import preview, remade

    existing = store.edition(schedule.name, slot)
    active = store.subscribers(digest=schedule.name, status=SubscriberStatus.ACTIVE)
    if existing is None:
        made = preview(config, store, schedule, now, slot, again=again)
        blocked = store.suppressed([s.email for s in active])
        wanted = 0 if made is None else sum(1 for s in active if s.email not in blocked)
        backlog = made.edition.backlog if made else 0
        return SendPlan(slot, made, False, wanted, 0, backlog)
    counts = store.delivery_counts(existing.id) if existing.id is not None else {}
    left = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.DEFERRED, 0)
    joiners = 0
    if existing.state.sendable and recipients_welcome(schedule, slot, now, False):
        have = store.recipients_of(existing.id) if existing.id is not None else set()
        joiners = sum(1 for s in active if s.id not in have)
    made = remade(config, schedule, existing)
    return SendPlan(slot, made, True, left + joiners, sum(counts.values()) - left, 0)


def backlog(store: Store, schedule: Schedule, now: datetime) -> tuple[int, int]:
    """(stories waiting for the digest's next edition, stories that aged out unsent since
    its first edition): what `status` and `editions list` show, so no story is lost
    silently."""
    from syndicate.digest.edition import next_edition

    waiting = next_edition(store, schedule, now, now)
    waiting_n = len(waiting.featured) + len(waiting.listed) + waiting.backlog
    first = store.first_edition_made(schedule.name)
    horizon = now - schedule.carry_span
    aged = 0
    if first is not None and first < horizon:
        aged = store.never_carried(schedule.name, schedule.sections, first, horizon)
    return waiting_n, aged


def _to_editors(config: Config, store: Store, schedule: Schedule, made: Made) -> str:
    """A test copy of a new draft to each of the schedule's editors; what happened."""
    sent, failed = [], []
    for editor in schedule.editors:
        try:
            send_test_copy(config, store, made, editor)
            sent.append(editor)
        except SyndicateError as exc:  # the draft stands; the editor can preview it
            failed.append(f"{editor} ({exc})")
    told = f"draft sent to {', '.join(sent)}" if sent else "draft made"
    return told + (f"; could not send it to {'; '.join(failed)}" if failed else "")


def _deadline(
    store: Store, schedule: Schedule, made: Made, everyone: Callable[[], list[Subscriber]]
) -> str:
    """A draft whose approve_by passed: sent or skipped as the schedule says."""
    edition, edition_id = made.edition, _stored_id(made)
    late = f"not approved within {schedule.approve_by} of its slot"
    if schedule.unapproved == "send":
        state, note, wanted = EditionState.APPROVED, f"{late}: sent anyway", everyone()
    else:
        state, note, wanted = EditionState.SKIPPED, f"{late}: skipped", None
    by = "deadline"
    if store.decide_edition(edition_id, state, by, note, wanted, only_from=[EditionState.DRAFT]):
        edition.state, edition.decided_by, edition.note = state, by, note
        return note
    # An editor decided in the meantime: take what they decided.
    fresh = store.edition_by_id(edition_id)
    if fresh is not None:
        edition.state, edition.decided_by, edition.note = fresh.state, fresh.decided_by, fresh.note
    return ""


def decide_edition(
    project: Project, store: Store, edition_id: int, state: EditionState, by: str, note: str = ""
) -> Made:
    """An editor approves or holds an edition (`editions approve` / `hold`). Approving
    fills its ledger with the digest's active subscribers in the same transaction; a held
    edition's stories return in the next edition. ConfigError when the edition cannot
    take that decision (already sent, or a newer edition exists)."""
    made = load_edition(project, store, edition_id)
    edition = made.edition
    allowed = {
        EditionState.APPROVED: (EditionState.DRAFT, EditionState.HELD),
        EditionState.HELD: (EditionState.DRAFT,),
    }[state]
    if edition.state not in allowed:
        raise ConfigError(
            f"edition {edition_id} is {edition.state}; only a "
            f"{' or '.join(str(x) for x in allowed)} edition can be {state}",
            "see `syndicate editions list`",
        )
    newer = store.last_edition(edition.schedule)
    if state == EditionState.APPROVED and newer is not None and newer.slot > edition.slot:
        raise ConfigError(
            f"edition {edition_id} is older than the digest's newest edition "
            f"({newer.slot:%Y-%m-%d %H:%M} UTC), which may carry its stories",
            "leave it held; its stories are in the next edition",
        )
    wanted = None
    if state == EditionState.APPROVED:
        wanted = store.subscribers(digest=edition.schedule, status=SubscriberStatus.ACTIVE)
    if not store.decide_edition(edition_id, state, by, note, wanted, only_from=allowed):
        raise ConfigError(
            f"edition {edition_id} changed while deciding", "see `syndicate editions list`"
        )
    edition.state, edition.decided_by, edition.note = state, by, note or None
    return made


def _stored_id(made: Made) -> int:
    """The id of a stored edition (one just made in memory has none yet)."""
    if made.edition.id is None:
        raise ValueError("the edition is not stored")
    return made.edition.id


# How far back `send` looks for a digest's latest slot: a year covers any cron line.
_SLOT_LOOKBACK = (timedelta(days=2), timedelta(days=40), timedelta(days=400))


def edition_slot(
    store: Store, schedule: Schedule, tz: tzinfo, now: datetime, slot: datetime | None
) -> datetime:
    """The slot `send` works on: the one given; else the unfinished edition's of this
    schedule; else the schedule's own latest slot by its cron line or interval, so two
    `send`s (two editors, two cron lines, a minute boundary between them) and the daemon
    all name the same edition; a schedule without a clock, this minute."""
    if slot is not None:
        return slot
    unfinished = store.unfinished_slot(schedule.name)
    if unfinished is not None:
        return unfinished
    when = schedule.when(tz)
    if when is not None:
        for back in _SLOT_LOOKBACK:
            latest = when.latest(now, back)
            if latest is not None:
                return latest
    return now.replace(second=0, microsecond=0)


def next_slot(schedule: Schedule, tz: tzinfo, now: datetime) -> datetime | None:
    """When the schedule's next edition is due (None: no clock)."""
    when = schedule.when(tz)
    return when.next_after(now) if when is not None else None


def forced(schedule: Schedule) -> Schedule:
    """The schedule with an edition made even when nothing is new (`send --force`)."""
    return replace(schedule, skip_if_empty=False)


def load_edition(project: Project, store: Store, edition_id: int) -> Made:
    """A stored edition ready to compose from its stored HTML and text (never re-rendered),
    with its schedule's sender details; ConfigError when it cannot be composed now."""
    from syndicate.digest.make import remade

    edition = store.edition_by_id(edition_id)
    if edition is None:
        raise ConfigError(f"edition {edition_id} is gone from the store")
    schedule = project.schedule(edition.schedule)
    if schedule is None or schedule.kind != "digest":
        raise ConfigError(
            f"edition {edition_id} is of schedule {edition.schedule!r}, which is not a "
            f"digest in {project.root / 'schedules'}",
            "give every worker the same schedules/ as the daemons",
        )
    return remade(project.config, schedule, edition)


def public_edition_html(html: str, own_url: str = "") -> str:
    """An edition's stored HTML as /editions/ shows it: the subscriber's name a neutral
    word, no unsubscribe or preferences link, no link to the page itself (see
    digest/public.py); never re-rendered."""
    from syndicate.digest.public import public_html

    return public_html(html, own_url)


def open_transport(config: Config) -> Transport:
    """The project's mail transport ([mail] url)."""
    from syndicate.deliver import open_transport as open_

    return open_(config.mail_url, config.project)


def retry_policy(config: Config) -> RetryPolicy:
    """The [mail] settings that govern claiming, retrying and pausing, as a RetryPolicy."""
    from syndicate.deliver.send import RetryPolicy

    return RetryPolicy.of(config.mail)


def send_edition(
    config: Config,
    store: Store,
    made: Made,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    transport: Transport | None = None,
    policy: RetryPolicy | None = None,
) -> SendReport:
    """Deliver a stored edition to its ledger's rows; see deliver.send.deliver_edition."""
    from syndicate.deliver.send import deliver_edition

    return deliver_edition(
        store,
        _stored_id(made),
        made.message,
        transport or open_transport(config),
        policy or retry_policy(config),
        progress,
        edition_made=made.edition.created_at,
        stop=stop,
    )


def send_test_copy(config: Config, store: Store, made: Made, to: str) -> str:
    """Send one copy of an edition to one address, outside the ledger (`send --to`);
    returns the transport's description, raises TransportError when it is refused."""
    from syndicate.digest.make import envelope_sender
    from syndicate.digest.mime import recipient

    sub = store.subscriber(to) or Subscriber(to.strip(), "")
    transport = open_transport(config)
    conn = transport.connect()
    try:
        raw = made.message.compose(sub, fresh_id=True)  # each test copy is a new message
        conn.send(envelope_sender(made.message.sender), recipient(sub), raw)
    finally:
        conn.close()
    return transport.describe()


def write_dry_run(config: Config, store: Store, made: Made, out: Path) -> tuple[int, int]:
    """Write the message each active, unsuppressed subscriber would get as out/ID.eml, the
    ledger untouched (`send --dry-run`): (written, suppressed and skipped)."""
    out.mkdir(parents=True, exist_ok=True)
    subs = store.subscribers(digest=made.edition.schedule, status=SubscriberStatus.ACTIVE)
    blocked = store.suppressed([s.email for s in subs])
    written = 0
    for sub in subs:
        if sub.email in blocked:
            continue
        (out / f"{sub.id}.eml").write_bytes(made.message.compose(sub))
        written += 1
    return written, len(subs) - written


def process_bounces(store: Store, maildir: Path) -> BounceReport:
    """Read a Maildir of delivery status notifications; see deliver.bounces."""
    from syndicate.deliver.bounces import process_bounces as process

    return process(store, maildir)


def send_confirmation(config: Config, sub: Subscriber, schedule: Schedule | None = None) -> None:
    """Email the double opt-in link for schedule's digest (sub's first when the schedule is
    not known); raises TransportError (or a ConfigError) when it cannot be sent."""
    envelope, message = _confirmation(config, sub, schedule)
    conn = open_transport(config).connect()
    try:
        conn.send(envelope, sub.email, message)
    finally:
        conn.close()


def _confirmation(config: Config, sub: Subscriber, schedule: Schedule | None) -> tuple[str, bytes]:
    """(envelope sender, message) of the double opt-in mail for schedule's digest."""
    from syndicate.digest.make import confirmation, envelope_sender, sender_for
    from syndicate.project.secret import secret_key
    from syndicate.tokens import Tokens

    if schedule is None:
        digest = sub.digests[0] if sub.digests else ""
        schedule = Schedule(name=digest, kind="digest", title=digest)
    digest = schedule.name
    tokens = Tokens(secret_key(config.project))
    link = f"{config.public_url}/confirm/{tokens.confirm(sub.id, digest)}"
    message = confirmation(config, schedule, sub, link)
    return envelope_sender(sender_for(config, schedule)), message


def send_confirmations(
    project: Project, subs: Sequence[Subscriber], done: Callable[[Subscriber, str | None], None]
) -> int:
    """Email the double opt-in link to each of subs (for their first digest) over one
    connection, at most the transport's rate a second (the [mail] url's ?rate=): done(sub,
    None) after each one sent, done(sub, why) after each one that was not, and the others
    still go. After [mail] pause_after failures in a row the server is taken to be down
    (each try could wait out a time-out): the rest are not tried, each reported so.
    Returns how many were not sent."""
    config = project.config
    transport = open_transport(config)
    interval = 1.0 / transport.rate if transport.rate > 0 else 0.0
    conn = transport.connect()
    due = time.monotonic()
    failed = in_a_row = 0
    try:
        for sub in subs:
            if in_a_row >= config.mail.pause_after:
                failed += 1
                done(sub, f"not tried after {in_a_row} failures in a row")
                continue
            schedule = project.schedule(sub.digests[0]) if sub.digests else None
            try:
                envelope, message = _confirmation(config, sub, schedule)
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)  # the rate limit: a message every `interval` seconds
                due = max(due, time.monotonic()) + interval
                conn.send(envelope, sub.email, message)
            except SyndicateError as exc:  # refused, unreachable, a broken template
                failed += 1
                in_a_row += 1
                done(sub, str(exc))
                continue
            in_a_row = 0
            done(sub, None)
    finally:
        conn.close()
    return failed


def check_mail(
    project: Project, transport: Transport, to: str | None = None
) -> Iterator[CheckStep]:
    """`mail check`: the transport tried step by step with the envelope sender of each
    digest (one when they share it) and a test recipient (default postmaster at the first
    sender's domain, which every mail domain must have), sending nothing; then a warning
    for what mail should carry and the settings lack ([site] postal_address)."""
    from syndicate.deliver import CheckStep
    from syndicate.digest.make import envelope_sender, sender_for

    config = project.config
    schedules = list(project.digests.values()) or [Schedule(name="", kind="digest", title="")]
    senders = [sender_for(config, schedule) for schedule in schedules]
    envelopes = list(dict.fromkeys(envelope_sender(sender) for sender in senders))
    recipient = to or f"postmaster@{senders[0].domain}"
    check = getattr(transport, "check", None)
    if check is None:  # a transport registered by a plugin may have none
        yield CheckStep("transport", "skipped", f"{transport.describe()} has no check")
    else:
        yield from check(envelopes, recipient)
    if not config.site.postal_address.strip():
        yield CheckStep(
            "postal",
            "warning",
            "[site] postal_address is empty; CAN-SPAM asks commercial mail for the sender's "
            "postal address (the footer shows it)",
        )
