"""`syndicate status`: what the store says happened, and what the schedules say comes next.

Read from the database only (invariant 1), so it is the same whether a daemon runs or not,
and whichever of several daemons did the work.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from syndicate.config import Config
from syndicate.errors import ConfigError
from syndicate.schedules import load_schedules
from syndicate.store import Store

_STATUSES = ("sent", "pending", "deferred", "failed", "skipped")


def print_status(config: Config, store: Store, now: datetime | None = None) -> None:
    """Print the status report to stdout."""
    now = now or datetime.now(UTC)
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
        schedules = load_schedules(config.project)
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

    editions = store.recent_editions(5)
    click.echo("last editions:")
    for e in editions:
        counts = e["counts"]
        shown = ", ".join(f"{counts.get(k, 0)} {k}" for k in _STATUSES if counts.get(k))
        click.echo(
            f"  {e['schedule']:<14} slot {local(e['slot'])}  {shown or 'no recipients'}"
            f"  — {e['subject'][:60]}"
        )
    if not editions:
        click.echo("  none yet")

    totals = store.subscriber_totals()
    parts = ", ".join(f"{n} {status}" for status, n in sorted(totals.items()))
    click.echo(f"subscribers:  {sum(totals.values())} ({parts or 'none'})")


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 90:
        return f"{seconds}s ago"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"
