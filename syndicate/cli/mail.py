"""The mail commands: subscribers …, bounces process, send. Thin: they build objects and
call the pipeline. cli/main.py adds them to the root group."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from syndicate import pipeline, testhooks
from syndicate.cli.context import open_project, project_of
from syndicate.errors import ConfigError, SyndicateError
from syndicate.models import EditionState, error_kind


@click.group()
def subscribers() -> None:
    """Manage the people who receive digests."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", default="", help="the subscriber's name")
@click.option("--digest", "digests", multiple=True, help="a digest (default: all)")
@click.option("--confirmed", is_flag=True, help="consent already given: active at once")
@click.option(
    "--reactivate",
    is_flag=True,
    help="bring back an address that was erased, bounced, complained or unsubscribed "
    "(active at once; needs --reason)",
)
@click.option("--reason", help="with --reactivate: how and when the person asked (recorded)")
@click.pass_context
def subscribers_add(
    ctx: click.Context,
    email: str,
    name: str,
    digests: tuple[str, ...],
    confirmed: bool,
    reactivate: bool,
    reason: str | None,
) -> None:
    """Add a subscriber; without --confirmed, a confirmation email is sent (opt-in)."""
    from syndicate import people

    if reactivate and not (reason or "").strip():
        raise ConfigError(
            "--reactivate needs --reason", "e.g. --reason 'asked by phone on 2 Dec, ticket 4411'"
        )
    if reason is not None and not reactivate:
        raise ConfigError("--reason goes with --reactivate", "add --reactivate, or drop --reason")
    active = confirmed or reactivate
    config, store = open_project(ctx, signs=not active)
    project = project_of(ctx)
    try:
        try:
            address = people.normalize_address(email)
        except ValueError as exc:
            raise ConfigError(f"{email!r} is not an email address: {exc}") from exc
        chosen = people.digests_of(project.digests, list(digests))
        sub, pending = people.subscribe(
            store, address, name, chosen, active, reactivate=reason if reactivate else None
        )
    finally:
        store.close()
    click.echo(f"{sub.email}: {sub.status} ({', '.join(sub.digests)})")
    if pending:
        _confirm(project, sub)


@subscribers.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--digest", "digests", multiple=True, help="a digest (default: all)")
@click.option("--confirmed", is_flag=True, help="consent attested (a list moved here)")
@click.option("--yes", is_flag=True, help="send the confirmation emails without asking")
@click.pass_context
def subscribers_import(
    ctx: click.Context, path: Path, digests: tuple[str, ...], confirmed: bool, yes: bool
) -> None:
    """Import a CSV with an email column (and optionally name). Without --confirmed, each
    new address gets a confirmation email: how many is said first, and asked (--yes: not)."""
    from syndicate import people
    from syndicate.people import lists

    _, store = open_project(ctx, signs=not confirmed)
    project = project_of(ctx)
    try:
        chosen = people.digests_of(project.digests, list(digests))
        plan = lists.plan_import(store, path, confirmed)
        for line in plan.problems:
            click.echo(line, err=True)
        if plan.confirmations and not yes and not _send_them(plan.confirmations, project, path):
            click.echo("import cancelled; nothing changed")
            ctx.exit(1)
        report = lists.apply_import(store, plan, chosen, confirmed)
    finally:
        store.close()

    def said(sub, why: str | None) -> None:
        if why is None:
            click.echo(f"{sub.email}: confirmation email sent")
        else:
            click.echo(f"failed: confirmation to {sub.email}: {why}", err=True)

    failed = pipeline.send_confirmations(project, report.pending, said) if report.pending else 0
    click.echo(
        f"imported: {report.added} new, {report.updated} updated, "
        f"{len(report.problems)} problems, {len(report.pending)} confirmations"
        + (f" ({failed} not sent; add them again later)" if failed else "")
    )
    ctx.exit(1 if failed or report.skipped else 0)


def _send_them(count: int, project, path: Path) -> bool:
    """Ask on a terminal whether to send count confirmation mails now; refuse (exit 2)
    where nobody can be asked: a script must say --yes."""
    transport = pipeline.open_transport(project.config)
    rate = f", at most {transport.rate:g} a second" if transport.rate else ""
    what = f"{count} confirmation email{'s' if count != 1 else ''}"
    if not sys.stdin.isatty():
        raise ConfigError(
            f"{path}: importing sends {what} and there is no terminal to ask",
            "add --yes to send them (or --confirmed when the list's consent was given "
            "elsewhere); nothing was changed",
        )
    return click.confirm(f"{what} will be sent now via {transport.describe()}{rate}. Send them?")


@subscribers.command("list")
@click.pass_context
def subscribers_list(ctx: click.Context) -> None:
    """One line per subscriber: email, name, status, digests."""
    _, store = open_project(ctx)
    try:
        subs = store.subscribers()
    finally:
        store.close()
    for s in subs:
        click.echo(f"{s.email}\t{s.name}\t{s.status}\t{','.join(s.digests)}")
    click.echo(f"{len(subs)} subscribers", err=True)


@subscribers.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), help="default csv")
@click.option("--email", help="one person's data only, as one JSON document")
@click.pass_context
def subscribers_export(ctx: click.Context, fmt: str | None, email: str | None) -> None:
    """Every subscriber with the proof of consent, as CSV or JSON lines; or with --email,
    all that is kept of one person (subscriptions, consent, status, bounces, reactivations,
    suppression, every message sent them) as JSON."""
    import json

    from syndicate.people import lists

    if email and fmt == "csv":
        raise ConfigError("--email exports JSON", "drop --format csv")
    _, store = open_project(ctx)
    try:
        if not email:
            sys.stdout.write(lists.export(store, fmt or "csv"))
            return
        found = lists.export_person(store, email)
    finally:
        store.close()
    if found is None:
        raise SyndicateError(
            f"nothing is kept about {email.strip()!r}: not a subscriber, never mailed, not "
            "suppressed",
            "check the spelling; see 'syndicate subscribers list'",
        )
    click.echo(json.dumps(found, ensure_ascii=False, indent=2))


@subscribers.command("remove")
@click.argument("email")
@click.pass_context
def subscribers_remove(ctx: click.Context, email: str) -> None:
    """Delete a subscriber (they may subscribe again)."""
    _, store = open_project(ctx)
    try:
        found = store.remove_subscriber(email)
    finally:
        store.close()
    if not found:
        raise ConfigError(f"no subscriber {email!r}", "see 'syndicate subscribers list'")
    click.echo(f"{email}: removed")


@subscribers.command("erase")
@click.argument("email")
@click.pass_context
def subscribers_erase(ctx: click.Context, email: str) -> None:
    """GDPR erasure: delete the person's data everywhere (their messages kept only as
    anonymous counts), keep a hash of the address so it is never mailed."""
    from syndicate import people

    _, store = open_project(ctx)
    try:
        found, rows = people.erase(store, email)
    finally:
        store.close()
    click.echo(
        f"{email}: {'erased' if found else 'not a subscriber'}; {rows} messages kept as "
        "anonymous counts; address suppressed (a hash of it kept)"
    )


@click.group()
def bounces() -> None:
    """Read delivery status notifications (bounces)."""


@bounces.command("process")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def bounces_process(ctx: click.Context, path: Path) -> None:
    """Read a Maildir of RFC 3464 bounces: suppress hard-bounced addresses, count soft."""
    _, store = open_project(ctx)
    try:
        report = pipeline.process_bounces(store, path)
    finally:
        store.close()
    for line in report.problems:
        click.echo(line, err=True)
    click.echo(report.summary())
    ctx.exit(1 if report.malformed else 0)


@click.command()
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="write .eml files, touch no ledger")
@click.option("--to", "to", help="send one test copy to this address, outside the ledger")
@click.option(
    "--force", is_flag=True, help="make an edition even when the window's stories were all sent"
)
@click.option("--allow-empty", is_flag=True, help="send an edition even with no stories")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation (scripts)")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="where --dry-run writes (default public/dry-run/NAME)",
)
@click.option(
    "--slot",
    help="the edition's slot, ISO 8601 or 'now' (default: the digest's latest scheduled slot)",
)
@click.pass_context
def send(
    ctx: click.Context,
    name: str,
    dry_run: bool,
    to: str | None,
    force: bool,
    allow_empty: bool,
    yes: bool,
    out: Path | None,
    slot: str | None,
):
    """Make (or resume) the edition of digest NAME and deliver it.

    The edition is the one of the digest's latest scheduled slot (by its cron line or
    interval), so two sends, or a send and the daemon, make one edition and mail each
    person once. It says what it is about to do and, on a terminal, asks first."""
    from syndicate.cli.progress import sending_progress

    project = project_of(ctx, signs=True)
    config, store = open_project(ctx)
    try:
        schedule = project.digest(name)
        if allow_empty:
            schedule = pipeline.forced(schedule)
        now = testhooks.now()
        if dry_run or to:
            made = pipeline.preview_edition(config, store, schedule, now, again=force)
            if made is None:
                click.echo(f"{name}: nothing new since the last edition; nothing to send")
                return
            ctx.exit(_test_send(config, store, made, to, out, dry_run))
        given = _slot(slot, config, now) if slot else None
        at = pipeline.edition_slot(store, schedule, config.site.tz, now, given)
        plan = pipeline.plan_send(config, store, schedule, at, now, again=force)
        if not _worth_sending(config, store, schedule, plan, now):
            return
        transport = pipeline.open_transport(config)
        _show_plan(config, schedule, plan, transport.describe())
        drafting = schedule.approve and not plan.existing  # only the editors get it now
        if not yes and sys.stdin.isatty() and plan.to_mail and not drafting:
            click.confirm(f"Send to {plan.to_mail} recipients?", abort=True)

        def announce(run: pipeline.DigestRun) -> None:
            if run.decided:
                click.echo(f"{name}: {run.decided}")

        with sending_progress() as progress:
            run = pipeline.deliver_digest(
                config, store, schedule, at, now, progress=progress, announce=announce,
                again=force,
            )  # fmt: skip
        ctx.exit(_sent(config, store, run))
    finally:
        store.close()


def send_approved(config, store, schedule, made) -> int:
    """Send an edition an editor just approved (`editions approve`); the exit code."""
    from syndicate.cli.progress import sending_progress

    with sending_progress() as progress:
        run = pipeline.deliver_digest(config, store, schedule, made.edition.slot, progress=progress)
    return _sent(config, store, run)


def _worth_sending(config, store, schedule, plan: pipeline.SendPlan, now: datetime) -> bool:
    """False (having said why) when send has nothing to do: no stories, all sent, a draft."""
    name, local = schedule.name, config.site.tz
    when = f"{plan.slot.astimezone(local):%Y-%m-%d %H:%M}"
    if plan.made is None or (not plan.existing and plan.stories == 0 and schedule.skip_if_empty):
        click.echo(
            f"{name}: no new stories since the last edition; nothing sent "
            "(--force: an edition of the last one's stories again; --allow-empty: one with none)"
        )
        return False
    edition = plan.made.edition
    if plan.existing and not edition.state.sendable:
        if edition.state == EditionState.DRAFT:
            click.echo(
                f"{name}: edition {edition.id} ({when}) is a draft waiting for approval; "
                f"approve it with `syndicate editions approve {edition.id}`"
            )
        else:
            click.echo(f"{name}: edition {edition.id} ({when}) is {edition.state}; nothing sent")
        return False
    if plan.existing and plan.to_mail == 0:
        waiting, _ = pipeline.backlog(store, schedule, now)
        nxt = pipeline.next_slot(schedule, local, now)
        later = f" at {nxt.astimezone(local):%Y-%m-%d %H:%M}" if nxt else ""
        click.echo(
            f"{name}: the edition of {when} is sent ({plan.stories} stories, {plan.already} "
            f"recipients); nothing left to send"
            + (
                f". {waiting} new stories wait for the next edition{later}, or send one now "
                f"with --slot now"
                if waiting
                else ""
            )
        )
        return False
    return True


def _show_plan(config, schedule, plan: pipeline.SendPlan, transport: str) -> None:
    """What send is about to do, in one or two lines, before it does it."""
    assert plan.made is not None
    edition = plan.made.edition
    when = f"{plan.slot.astimezone(config.site.tz):%Y-%m-%d %H:%M}"
    what = "resuming the edition" if plan.existing else "edition"
    more = f" (+{len(edition.listed)} headlines)" if edition.listed else ""
    waiting = f"; {plan.backlog} more wait for the next edition" if plan.backlog else ""
    click.echo(f"{schedule.name}: {what} of {when}: {edition.subject!r}")
    who = (
        f"draft for {', '.join(schedule.editors)} to approve"
        if schedule.approve and not plan.existing
        else f"{plan.to_mail} recipients"
    )
    click.echo(f"  {plan.stories} stories{more}{waiting}; {who}; via {transport}")


def _sent(config, store, run: pipeline.DigestRun) -> int:
    """Print how the send went, one line per kind of error; the exit code."""
    if run.made is None:
        click.echo("nothing new since the last edition; no edition made")
        return 0
    report = run.report
    if report is None:
        if run.state == EditionState.DRAFT:
            return 0
        click.echo("sent: nothing left to send for this edition")
        return 0
    click.echo(report.summary())
    edition_id = run.made.edition.id
    records = store.edition_records(edition_id=edition_id) if edition_id is not None else []
    for line in error_lines(records[0] if records else None, report, config.site.tz):
        click.echo(line, err=True)
    nothing = report.sent == 0 and (report.deferred or report.failed)
    return 1 if report.failed or report.paused or report.store_error or nothing else 0


def error_lines(record, report, tz) -> list[str]:
    """One line per kind of error of an edition's rows not sent: "deferred 300: connection
    refused by 127.0.0.1:2525 (retrying until 09:15)"."""
    if record is None:
        return []
    until = getattr(report, "retry_until", None) if report is not None else None
    lines = []
    for (status, _kind), (n, first) in sorted(record.errors.items(), key=lambda x: -x[1][0]):
        tail = ""
        if status == "deferred" and until is not None:
            tail = f" (retrying until {until.astimezone(tz):%Y-%m-%d %H:%M})"
        lines.append(f"{status} {n}: {error_kind(first)}{tail}")
    return lines


def _slot(value: str, config, now: datetime) -> datetime:
    from syndicate.project.timing import parse_when

    if value.strip().lower() == "now":
        return now.replace(second=0, microsecond=0)
    when = parse_when(value, config.site.tz)
    if when is None:
        raise ConfigError(
            f"--slot {value!r} is not a time", "use ISO 8601, e.g. 2024-05-01T07:00, or 'now'"
        )
    return when


def _test_send(config, store, made, to, out, dry_run) -> int:
    schedule = made.edition.schedule
    if to:
        try:
            shown = pipeline.send_test_copy(config, store, made, to)
        except SyndicateError as exc:  # the server refused it, or cannot be reached
            click.echo(f"failed: {to}: {exc}", err=True)
            return 1
        click.echo(f"{schedule}: test copy sent to {to} ({shown})")
        return 0
    out = out or config.project / "public" / "dry-run" / schedule
    written, skipped = pipeline.write_dry_run(config, store, made, out)
    click.echo(
        f"{schedule}: dry run: {written} messages written to {out}/, "
        f"{skipped} suppressed skipped; ledger untouched"
    )
    return 0


def _confirm(project, sub) -> bool:
    """Send the confirmation email; report and return False when it cannot go."""
    schedule = project.schedule(sub.digests[0]) if sub.digests else None
    try:
        pipeline.send_confirmation(project.config, sub, schedule)
    except SyndicateError as exc:
        click.echo(f"failed: confirmation to {sub.email}: {exc}; run add again later", err=True)
        return False
    click.echo(f"{sub.email}: confirmation email sent")
    return True
