"""`syndicate status`: what the store says happened, and what the schedules say comes next.

Read from the database only (invariant 1), so it is the same whether a daemon runs or not,
and whichever of several daemons did the work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from syndicate import pipeline
from syndicate.cli.mail import error_lines
from syndicate.errors import ConfigError
from syndicate.models import DeliveryStatus
from syndicate.project import Project
from syndicate.store import Store, TelemetryStore

_STATUSES = tuple(DeliveryStatus)
# Workers and daemons listed: those heard from in this span.
_SEEN_WITHIN = timedelta(minutes=15)
# Throughput is measured over this span of the ledger.
_RATE_WINDOW = timedelta(minutes=1)
# A running process not heard from for this long is shown as silent (killed, cut off).
_SILENT_AFTER = timedelta(seconds=30)


def print_status(project: Project, store: Store, now: datetime | None = None) -> None:
    """Print the status report to stdout."""
    now = now or datetime.now(UTC)
    config = project.config
    tz = config.site.tz

    def local(when: datetime | None) -> str:
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if when else "-"

    gathers = store.last_gathers(1)
    if gathers:
        g = gathers[0]
        took = (g["finished"] - g["started"]).total_seconds()
        click.echo(
            f"last gather:  {local(g['finished'])} ({_ago(now, g['finished'])}), {took:.1f}s: "
            f"{g['new']} new, {g['updated']} updated, {g['unchanged']} unchanged, "
            f"{g['failed']} failed, {g['crosslinks']} cross-links"
        )
    else:
        click.echo("last gather:  never (run `syndicate gather` or start the daemon)")

    click.echo("schedules:")
    try:
        schedules = project.schedules
    except ConfigError as exc:
        click.echo(f"  cannot read schedules/: {exc}")
        schedules = {}
    for name, schedule in sorted(schedules.items()):
        when = schedule.when(tz)
        if when is None:
            click.echo(f"  {name:<14} {schedule.kind:<7} after each gather")
            continue
        upcoming = when.next_after(now)
        rule = f"cron '{schedule.cron}'" if schedule.cron else f"every {schedule.every}"
        click.echo(f"  {name:<14} {schedule.kind:<7} {rule:<22} next {local(upcoming)}")
    if not schedules:
        click.echo("  none")

    records = store.edition_records(limit=5)
    click.echo("last editions:")
    for r in records:
        e, counts = r.edition, r.counts
        shown = ", ".join(f"{counts.get(k, 0)} {k}" for k in _STATUSES if counts.get(k))
        click.echo(
            f"  {e.schedule:<14} slot {local(e.slot)}  {r.shown_state:<8} "
            f"{shown or 'no recipients'}  — {e.subject[:60]}"
        )
        for line in error_lines(r, None, tz)[:3]:  # the first error of each kind
            click.echo(f"      {line}")
    if not records:
        click.echo("  none yet")
    for name, schedule in sorted(schedules.items()):
        if schedule.kind == "digest":
            waiting, aged = pipeline.backlog(store, schedule, now)
            aged_out = f", {aged} aged out unsent (after {schedule.carry_for})" if aged else ""
            click.echo(
                f"backlog:      {name}: {waiting} stories wait for the next edition{aged_out}"
            )

    _senders(store, now, local)

    totals = store.subscriber_totals()
    parts = ", ".join(f"{n} {status}" for status, n in sorted(totals.items()))
    click.echo(f"subscribers:  {sum(totals.values())} ({parts or 'none'})")


def _senders(store: TelemetryStore, now: datetime, local) -> None:
    """The workers and daemons seen lately, each with its messages of the last minute."""
    senders = store.senders(now - _SEEN_WITHIN, now, _RATE_WINDOW)
    window = _RATE_WINDOW.total_seconds()
    click.echo(f"senders (seen in the last {int(_SEEN_WITHIN.total_seconds() // 60)} min):")
    for w in senders:
        rate = f"{w['recent']} sent in the last minute ({w['recent'] / window:.1f}/s)"
        if w["name"] == "others":
            click.echo(f"  {'send':<7} {'(no heartbeat)':<28} {'':<30} {rate}")
            continue
        silent = now - w["last_seen"]
        if w["state"] == "stopped":
            state = f"stopped {_ago(now, w['last_seen'])}"
        elif silent > _SILENT_AFTER:
            state = f"SILENT for {_ago(now, w['last_seen']).removesuffix(' ago')}"
        else:
            state = f"up since {local(w['started'])}"
        shown = ":".join(w["name"].split(":")[:2])  # host:pid (the token is for machines)
        click.echo(f"  {w['kind']:<7} {shown:<28} {state:<30} {rate}")
    if not senders:
        click.echo("  none (start `syndicate run` or `syndicate worker`)")
    total = sum(w["recent"] for w in senders)
    click.echo(f"throughput:   {total / window:.1f} messages/s over the last minute")


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 90:
        return f"{seconds}s ago"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"
