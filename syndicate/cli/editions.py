"""The editor's commands: editions list / show / approve / hold. Thin: they read the store
through the pipeline and print; cli/main.py adds the group to the root."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from syndicate import pipeline
from syndicate.cli.context import open_project, project_of
from syndicate.cli.mail import error_lines
from syndicate.errors import ConfigError
from syndicate.models import EditionRecord, EditionState


@click.group()
def editions() -> None:
    """List, preview, approve and hold the editions of the digests."""


@editions.command("list")
@click.argument("digest", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=10, help="editions per digest")
@click.pass_context
def editions_list(ctx: click.Context, digest: str | None, limit: int) -> None:
    """Upcoming and past editions: slot, stories, subject, state, counts, first errors."""
    project = project_of(ctx)
    config, store = open_project(ctx)
    tz, now = config.site.tz, datetime.now(UTC)
    try:
        names = [digest] if digest else list(project.digests)
        if digest:
            project.digest(digest)  # a usage error naming the digests there are
        if not names:
            click.echo("no digest schedules in schedules/")
            return
        for name in names:
            schedule = project.digest(name)
            waiting, aged = pipeline.backlog(store, schedule, now)
            nxt = pipeline.next_slot(schedule, tz, now)
            upcoming = (
                f"next {nxt.astimezone(tz):%Y-%m-%d %H:%M}" if nxt else "no clock (sent by hand)"
            )
            aged_out = f", {aged} aged out unsent (older than {schedule.carry_for})" if aged else ""
            click.echo(
                f"{name} — {schedule.title}: {upcoming}; {waiting} stories waiting{aged_out}"
            )
            records = store.edition_records(name, limit)
            if not records:
                click.echo("  no editions yet")
            for record in records:
                click.echo("  " + _line(record, tz))
                for line in error_lines(record, None, tz)[:3]:
                    click.echo(f"      {line}")
    finally:
        store.close()


def _line(record: EditionRecord, tz) -> str:
    """One edition in one line: id, slot, state, stories, counts, subject."""
    e = record.edition
    counts = ", ".join(f"{n} {k}" for k, n in sorted(record.counts.items()) if n) or "no recipients"
    listed = f"+{record.listed}" if record.listed else ""
    who = f" by {e.decided_by}" if e.decided_by and e.state != EditionState.READY else ""
    return (
        f"#{e.id:<5} {e.slot.astimezone(tz):%Y-%m-%d %H:%M}  {record.shown_state + who:<22} "
        f"{record.stories}{listed} stories  {counts}  — {e.subject[:60]}"
    )


@editions.command("show")
@click.argument("edition_id", type=int)
@click.option("--open", "open_", is_flag=True, help="write the HTML and open it in a browser")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write FILE.html, FILE.eml or FILE.txt (default: headers and text on stdout)",
)
@click.pass_context
def editions_show(ctx: click.Context, edition_id: int, open_: bool, out: Path | None) -> None:
    """Preview one edition: its headers, recipients and text (or HTML with --open)."""
    project = project_of(ctx, signs=True)
    config, store = open_project(ctx)
    try:
        made = pipeline.load_edition(project, store, edition_id)
        records = store.edition_records(edition_id=edition_id)
    finally:
        store.close()
    schedule = project.digest(made.edition.schedule)
    reader = pipeline.preview_reader(config, schedule)
    record = records[0]
    e = made.edition
    if out is not None or open_:
        page = out or config.project / "public" / "previews" / f"edition-{edition_id}.html"
        pipeline.write_preview(made, page, reader)
        click.echo(f"edition {edition_id} → {page}")
        if open_:
            import webbrowser

            if not webbrowser.open(page.resolve().as_uri()):
                click.echo(f"no browser here; open {page} yourself", err=True)
        return
    raw = made.message.compose(reader, fresh_id=True)
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ")
    when = e.slot.astimezone(config.site.tz)
    click.echo(f"edition {edition_id} of {e.schedule}, slot {when:%Y-%m-%d %H:%M}")
    click.echo(f"state: {record.shown_state}" + (f" ({e.note})" if e.note else ""))
    counts = ", ".join(f"{n} {k}" for k, n in sorted(record.counts.items()) if n)
    click.echo(f"recipients: {sum(record.counts.values())}" + (f" ({counts})" if counts else ""))
    click.echo(
        f"stories: {record.stories}" + (f", {record.listed} headlines" if record.listed else "")
    )
    for line in error_lines(record, None, config.site.tz):
        click.echo(f"  {line}")
    click.echo("")
    for line in unfolded.split("\r\n"):
        if line.split(":", 1)[0] in ("From", "Reply-To", "Subject", "List-Id", "Message-ID"):
            click.echo(line)
    click.echo("")
    click.echo(made.message.personalize(reader)[1], nl=False)


@editions.command("approve")
@click.argument("edition_id", type=int)
@click.option("--by", "by", help="who approves (default: your login name)")
@click.option("--note", default="", help="why, kept with the edition")
@click.option("--no-send", is_flag=True, help="leave the sending to the daemon or workers")
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation (scripts)")
@click.pass_context
def editions_approve(
    ctx: click.Context, edition_id: int, by: str | None, note: str, no_send: bool, yes: bool
) -> None:
    """Approve a draft (or a held edition): its ledger is filled and it is sent."""
    from syndicate.cli.mail import send_approved

    project = project_of(ctx, signs=True)
    config, store = open_project(ctx)
    try:
        made = pipeline.load_edition(project, store, edition_id)
        if not yes and sys.stdin.isatty():
            click.confirm(
                f"Approve edition {edition_id} ({made.edition.subject!r}) and send it?",
                abort=True,
            )
        made = pipeline.decide_edition(
            project, store, edition_id, EditionState.APPROVED, by or _me(), note
        )
        rows = sum(store.delivery_counts(edition_id).values())
        click.echo(
            f"edition {edition_id}: approved by {made.edition.decided_by}; {rows} recipients"
        )
        if no_send:
            return
        ctx.exit(send_approved(config, store, project.digest(made.edition.schedule), made))
    finally:
        store.close()


@editions.command("hold")
@click.argument("edition_id", type=int)
@click.option("--by", "by", help="who holds it (default: your login name)")
@click.option("--note", default="", help="why, kept with the edition")
@click.pass_context
def editions_hold(ctx: click.Context, edition_id: int, by: str | None, note: str) -> None:
    """Hold a draft back: nothing is sent, its stories return in the next edition."""
    project = project_of(ctx)
    _, store = open_project(ctx)
    try:
        made = pipeline.decide_edition(
            project, store, edition_id, EditionState.HELD, by or _me(), note
        )
    finally:
        store.close()
    click.echo(
        f"edition {edition_id}: held by {made.edition.decided_by}; nothing sent, its "
        f"{len(made.edition.featured)} stories return in the next edition"
    )


def _me() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError) as exc:  # no login name (a container without a passwd entry)
        raise ConfigError("cannot tell who you are", "pass --by NAME") from exc
