"""Where the stages meet. The CLI, the daemon, the worker, the web app and the demo call
these and nothing below them.

- gather: every source into the store, each on its own (one failing source is reported,
  the others still run), then cross-links resolved and the run recorded.
- build_feeds / validate_feeds: the feed files.
- preview_edition, deliver_digest: an edition made (or found) for a slot, its recipients
  added by the one late-joiner rule (see recipients_welcome), then sent here or left to
  the send workers; load_edition: a stored edition as a worker composes it.
- send_test_copy / write_dry_run: `send --to` and `send --dry-run`, outside the ledger.
- send_confirmation: the double opt-in mail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syndicate.errors import ConfigError, SyndicateError
from syndicate.models import DeliveryStatus, GatherReport, Subscriber, SubscriberStatus
from syndicate.project import Project
from syndicate.project.schedules import Schedule, digest_schedule
from syndicate.project.settings import Config
from syndicate.sources import Progress, source_for
from syndicate.store import Store

if TYPE_CHECKING:  # the feed writers and the mail machinery load only when used
    from syndicate.deliver import Transport
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
    config: Config, store: Store, schedule: Schedule, now: datetime | None = None
) -> Made | None:
    """The next edition as it would be made now, rendered, nothing stored; None when
    nothing is new and the schedule skips empty editions."""
    from syndicate.digest.make import preview

    return preview(config, store, schedule, now or datetime.now(UTC))


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
    when it was not sent here: left to the workers, done already, or being sent by another
    thread of this process)."""

    made: Made | None
    created: bool = False
    added: int = 0
    recipients: int = 0
    report: SendReport | None = None

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
) -> DigestRun:
    """Make or resume the edition of (schedule, slot), add its recipients by the one
    late-joiner rule, and send what is pending or due (send=False: leave it to the send
    workers). announce is called once the recipients are known, before sending."""
    from syndicate.digest.make import create_edition as make

    now = now or datetime.now(UTC)
    made, created = make(config, store, schedule, slot, now)
    run = DigestRun(made, created)
    if made is None:
        return run
    edition, edition_id = made.edition, _stored_id(made)
    if recipients_welcome(schedule, edition.slot, now, created):
        run.added = store.add_deliveries(
            edition_id, store.subscribers(digest=schedule.name, status=SubscriberStatus.ACTIVE)
        )
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


def _stored_id(made: Made) -> int:
    """The id of a stored edition (one just made in memory has none yet)."""
    if made.edition.id is None:
        raise ValueError("the edition is not stored")
    return made.edition.id


def edition_slot(
    store: Store, schedule: Schedule, now: datetime, slot: datetime | None
) -> datetime:
    """The slot `send` works on: the one given, else the unfinished edition's of this
    schedule, else this minute."""
    return slot or store.unfinished_slot(schedule.name) or now.replace(second=0, microsecond=0)


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
        conn.send(envelope_sender(made.message.sender), recipient(sub), made.message.compose(sub))
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
    conn = open_transport(config).connect()
    try:
        conn.send(envelope_sender(sender_for(config, schedule)), sub.email, message)
    finally:
        conn.close()
