"""The mail commands: subscribers …, bounces process, send. Thin: they build objects and
call the pipeline. cli/main.py adds them to the root group."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from syndicate import pipeline
from syndicate.cli.context import open_project, project_of
from syndicate.errors import ConfigError, SyndicateError


@click.group()
def subscribers() -> None:
    """Manage the people who receive digests."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", default="", help="the subscriber's name")
@click.option("--digest", "digests", multiple=True, help="a digest (default: all)")
@click.option("--confirmed", is_flag=True, help="consent already given: active at once")
@click.pass_context
def subscribers_add(
    ctx: click.Context, email: str, name: str, digests: tuple[str, ...], confirmed: bool
) -> None:
    """Add a subscriber; without --confirmed, a confirmation email is sent (opt-in)."""
    from syndicate import people

    config, store = open_project(ctx, signs=not confirmed)
    project = project_of(ctx)
    try:
        try:
            address = people.normalize_address(email)
        except ValueError as exc:
            raise ConfigError(f"{email!r} is not an email address: {exc}") from exc
        chosen = people.digests_of(project.digests, list(digests))
        sub, pending = people.subscribe(store, address, name, chosen, confirmed)
    finally:
        store.close()
    click.echo(f"{sub.email}: {sub.status} ({', '.join(sub.digests)})")
    if pending:
        _confirm(project, sub)


@subscribers.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--digest", "digests", multiple=True, help="a digest (default: all)")
@click.option("--confirmed", is_flag=True, help="consent attested (a list moved here)")
@click.pass_context
def subscribers_import(
    ctx: click.Context, path: Path, digests: tuple[str, ...], confirmed: bool
) -> None:
    """Import a CSV with an email column (and optionally name)."""
    from syndicate import people

    _, store = open_project(ctx, signs=not confirmed)
    project = project_of(ctx)
    try:
        chosen = people.digests_of(project.digests, list(digests))
        report = people.import_csv(store, path, chosen, confirmed)
    finally:
        store.close()
    for line in report.problems:
        click.echo(line, err=True)
    failed = sum(not _confirm(project, sub) for sub in report.pending)
    click.echo(
        f"imported: {report.added} new, {report.updated} updated, "
        f"{len(report.problems)} problems, {len(report.pending)} confirmations"
        + (f" ({failed} not sent)" if failed else "")
    )
    ctx.exit(1 if failed or any("skipped" in p for p in report.problems) else 0)


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
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.pass_context
def subscribers_export(ctx: click.Context, fmt: str) -> None:
    """Every subscriber with the proof of consent, as CSV or JSON lines."""
    from syndicate import people

    _, store = open_project(ctx)
    try:
        sys.stdout.write(people.export(store, fmt))
    finally:
        store.close()


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
    """GDPR erasure: delete the person's data, keep a hash so they are never mailed."""
    from syndicate import people

    _, store = open_project(ctx)
    try:
        found = people.erase(store, email)
    finally:
        store.close()
    click.echo(f"{email}: {'erased' if found else 'not found'}; address suppressed")


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
@click.option("--force", is_flag=True, help="make an edition even when nothing is new")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="where --dry-run writes (default public/dry-run/NAME)",
)
@click.option("--slot", help="the edition's slot, ISO 8601 (default: this minute)")
@click.pass_context
def send(
    ctx: click.Context,
    name: str,
    dry_run: bool,
    to: str | None,
    force: bool,
    out: Path | None,
    slot: str | None,
):
    """Make (or resume) the edition of digest NAME for now and deliver it."""
    from syndicate.cli.progress import progress_for_terminal

    config, store = open_project(ctx, signs=True)
    try:
        schedule = project_of(ctx).digest(name)
        if force:
            schedule = pipeline.forced(schedule)
        now = datetime.now(UTC)
        if dry_run or to:
            made = pipeline.preview_edition(config, store, schedule, now)
            if made is None:
                click.echo(f"{name}: nothing new since the last edition; nothing to send")
                return
            ctx.exit(_test_send(config, store, made, to, out, dry_run))
        at = pipeline.edition_slot(store, schedule, now, _slot(slot, config) if slot else None)

        def announce(run: pipeline.DigestRun) -> None:
            click.echo(
                f"{name}: edition of {run.made.edition.slot:%Y-%m-%d %H:%M} UTC, "
                f"{len(run.made.edition.stories)} stories, {run.recipients} recipients"
                + (f" ({run.added} added now)" if run.added else "")
            )

        with progress_for_terminal() as progress:
            run = pipeline.deliver_digest(
                config, store, schedule, at, now, progress=progress, announce=announce
            )
    finally:
        store.close()
    if run.made is None:
        click.echo(f"{name}: nothing new since the last edition; no edition made")
        return
    if run.report is None:
        click.echo("sent: nothing left to send for this edition")
        return
    click.echo(run.report.summary())
    ctx.exit(1 if run.report.failed or run.report.paused or run.report.store_error else 0)


def _slot(value: str, config) -> datetime:
    from syndicate.project.timing import parse_when

    when = parse_when(value, config.site.tz)
    if when is None:
        raise ConfigError(f"--slot {value!r} is not a time", "use ISO 8601, e.g. 2024-05-01T07:00")
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
