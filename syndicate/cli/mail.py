"""The mail commands: subscribers …, send. Thin: they build objects and call the pipeline."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click

from syndicate import pipeline
from syndicate.errors import ConfigError, SyndicateError


def register(cli: click.Group, open_project) -> None:
    """Add the subscribers group and the send command to the CLI."""

    @cli.group()
    def subscribers() -> None:
        """Manage the people who receive digests."""

    @subscribers.command("add")
    @click.argument("email")
    @click.option("--name", default="", help="the subscriber's name")
    @click.option("--digest", "digests", multiple=True, help="a digest (default: all)")
    @click.option("--confirmed", is_flag=True, help="consent already given: active at once")
    @click.pass_context
    def add(ctx, email: str, name: str, digests: tuple[str, ...], confirmed: bool) -> None:
        """Add a subscriber; without --confirmed, a confirmation email is sent (opt-in)."""
        from syndicate import people

        config, store = open_project(ctx)
        try:
            try:
                address = people.normalize_address(email)
            except ValueError as exc:
                raise ConfigError(f"{email!r} is not an email address: {exc}") from exc
            chosen = people.digests_of(config, list(digests))
            sub, pending = people.subscribe(store, address, name, chosen, confirmed)
        finally:
            store.close()
        click.echo(f"{sub.email}: {sub.status} ({', '.join(sub.digests)})")
        if pending:
            _confirm(config, sub)

    @subscribers.command("import")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--digest", "digests", multiple=True, help="a digest (default: all)")
    @click.option("--confirmed", is_flag=True, help="consent attested (a list moved here)")
    @click.pass_context
    def import_(ctx, path: Path, digests: tuple[str, ...], confirmed: bool) -> None:
        """Import a CSV with an email column (and optionally name)."""
        from syndicate import people

        config, store = open_project(ctx)
        try:
            chosen = people.digests_of(config, list(digests))
            report = people.import_csv(store, path, chosen, confirmed)
        finally:
            store.close()
        for line in report.problems:
            click.echo(line, err=True)
        failed = sum(not _confirm(config, sub) for sub in report.pending)
        click.echo(
            f"imported: {report.added} new, {report.updated} updated, "
            f"{len(report.problems)} problems, {len(report.pending)} confirmations"
            + (f" ({failed} not sent)" if failed else "")
        )
        ctx.exit(1 if failed or any("skipped" in p for p in report.problems) else 0)

    @subscribers.command("list")
    @click.pass_context
    def list_(ctx) -> None:
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
    def export(ctx, fmt: str) -> None:
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
    def remove(ctx, email: str) -> None:
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
    def erase(ctx, email: str) -> None:
        """GDPR erasure: delete the person's data, keep a hash so they are never mailed."""
        from syndicate import people

        _, store = open_project(ctx)
        try:
            found = people.erase(store, email)
        finally:
            store.close()
        click.echo(f"{email}: {'erased' if found else 'not found'}; address suppressed")

    @cli.group()
    def bounces() -> None:
        """Read delivery status notifications (bounces)."""

    @bounces.command("process")
    @click.argument("path", type=click.Path(file_okay=False, path_type=Path))
    @click.pass_context
    def bounces_process(ctx, path: Path) -> None:
        """Read a Maildir of RFC 3464 bounces: suppress hard-bounced addresses, count soft."""
        from syndicate.deliver.bounces import process_bounces

        _, store = open_project(ctx)
        try:
            report = process_bounces(store, path)
        finally:
            store.close()
        for line in report.problems:
            click.echo(line, err=True)
        click.echo(report.summary())
        ctx.exit(1 if report.malformed else 0)

    @cli.command()
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
        ctx,
        name: str,
        dry_run: bool,
        to: str | None,
        force: bool,
        out: Path | None,
        slot: str | None,
    ):
        """Make (or resume) the edition of digest NAME for now and deliver it."""
        from syndicate.cli.progress import progress_for_terminal
        from syndicate.digest import make
        from syndicate.project.schedules import digest_schedule

        config, store = open_project(ctx)
        try:
            schedule = digest_schedule(config.project, name)
            if force:
                schedule = replace(schedule, skip_if_empty=False)
            now = datetime.now(UTC)
            if dry_run or to:
                made = make.preview(config, store, schedule, now)
                if made is None:
                    click.echo(f"{name}: nothing new since the last edition; nothing to send")
                    return
                ctx.exit(_test_send(config, store, made, schedule, to, out, dry_run))
            at = _slot(slot, config) if slot else None
            made = _edition_to_send(config, store, schedule, now, at)
            if made is None:
                click.echo(f"{name}: nothing new since the last edition; no edition made")
                return
            subs = [s for s in store.subscribers(digest=name, status="active")]
            added = store.add_deliveries(made.edition.id, subs)
            counts = store.delivery_counts(made.edition.id)
            click.echo(
                f"{name}: edition of {made.edition.slot:%Y-%m-%d %H:%M} UTC, "
                f"{len(made.edition.stories)} stories, {sum(counts.values())} recipients"
                + (f" ({added} added now)" if added else "")
            )
            with progress_for_terminal() as progress:
                report = pipeline.send_edition(config, store, made, progress)
        finally:
            store.close()
        click.echo(report.summary())
        ctx.exit(1 if report.failed or report.paused or report.store_error else 0)


def _slot(value: str, config) -> datetime:
    from syndicate.sources.metadata import parse_date

    when = parse_date(value, config.site.tz)
    if when is None:
        raise ConfigError(f"--slot {value!r} is not a time", "use ISO 8601, e.g. 2024-05-01T07:00")
    return when


def _edition_to_send(config, store, schedule, now, slot=None):
    """The edition for a given slot; else the unfinished edition of this schedule, else a
    new one for this minute's slot."""
    from syndicate.digest import make

    slot = slot or store.unfinished_slot(schedule.name)
    if slot is None:
        slot = now.replace(second=0, microsecond=0)
    made, _ = make.create_edition(config, store, schedule, slot, now)
    return made


def _test_send(config, store, made, schedule, to, out, dry_run) -> int:
    from syndicate.deliver import TransportError, open_transport
    from syndicate.digest.mime import recipient
    from syndicate.models import Subscriber

    if to:
        sub = store.subscriber(to) or Subscriber(to.strip(), "")
        transport = open_transport(config.mail_url, config.project)
        conn = transport.connect()
        try:
            conn.send(recipient_of(made), recipient(sub), made.message.compose(sub))
        except TransportError as exc:
            click.echo(f"failed: {to}: {exc}", err=True)
            return 1
        finally:
            conn.close()
        click.echo(f"{schedule.name}: test copy sent to {to} ({transport.describe()})")
        return 0
    out = out or config.project / "public" / "dry-run" / schedule.name
    out.mkdir(parents=True, exist_ok=True)
    subs = store.subscribers(digest=schedule.name, status="active")
    blocked = store.suppressed([s.email for s in subs])
    written = 0
    for sub in subs:
        if sub.email in blocked:
            continue
        (out / f"{sub.id}.eml").write_bytes(made.message.compose(sub))
        written += 1
    click.echo(
        f"{schedule.name}: dry run: {written} messages written to {out}/, "
        f"{len(subs) - written} suppressed skipped; ledger untouched"
    )
    return 0


def recipient_of(made) -> str:
    """The envelope sender of an edition's messages."""
    from email.utils import parseaddr

    return parseaddr(made.message.sender.from_addr)[1]


def _confirm(config, sub) -> bool:
    """Send the confirmation email; report and return False when it cannot go."""
    from syndicate import people
    from syndicate.project.schedules import load_schedules

    schedules = load_schedules(config.project)
    schedule = schedules.get(sub.digests[0]) if sub.digests else None
    try:
        people.send_confirmation(config, schedule, sub)
    except SyndicateError as exc:
        click.echo(f"failed: confirmation to {sub.email}: {exc}; run add again later", err=True)
        return False
    click.echo(f"{sub.email}: confirmation email sent")
    return True
