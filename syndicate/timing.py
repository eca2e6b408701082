"""When schedules fire, and which slot a firing belongs to.

A slot is the instant an edition is for: a cron time in the schedule's zone, or a multiple
of an interval counted from the Unix epoch. Both are the same for every daemon on any
machine, which is what lets the database's unique (schedule, slot) key decide, not the
scheduler. APScheduler fires the jobs; these functions name the slot each firing is for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_span(text: str) -> float:
    """Seconds in "4s", "10m", "1h30m", "2d"; ValueError for anything else."""
    compact = text.strip().replace(" ", "")
    if not compact or _SPAN.sub("", compact):
        raise ValueError(f"{text!r} is not a span; write e.g. 30s, 15m, 1h30m, 1d")
    seconds = sum(float(n) * _UNITS[unit.lower()] for n, unit in _SPAN.findall(compact))
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a span longer than zero")
    return seconds


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday, 1 = Monday; names too) in APScheduler's
    terms. Its from_crontab passes the field through, and APScheduler 3 counts 0 = Monday:
    '1-5' would fire Tuesday to Saturday. Spelled as names it cannot be misread."""

    def day(token: str) -> int:
        token = token.strip().lower()
        if token[:3] in _DAYS and len(token) in (3, len(token)):
            return _DAYS.index(token[:3])
        number = int(token)  # ValueError: reported by the caller
        if not 0 <= number <= 7:
            raise ValueError(f"day of week {number} is not 0-7")
        return number % 7

    chosen: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step {step} must be 1 or more")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = day(a), day(b)
            if b.strip() == "7":
                last = 7  # "5-7": Friday to Sunday
        else:
            first = last = day(span)
            if step_text:
                last = 6
        if last < first:
            raise ValueError(f"range {span!r} runs backwards")
        chosen.update(d % 7 for d in range(first, last + 1, step))
    if len(chosen) == 7:
        return "*"
    return ",".join(_DAYS[d] for d in sorted(chosen))


def cron_trigger(expr: str, tz: tzinfo) -> CronTrigger:
    """APScheduler's trigger for a standard 5-field crontab line in a zone."""
    minute, hour, day, month, dow = expr.split()
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=_weekdays(dow), timezone=tz
    )


def cron_problem(expr: str) -> str | None:
    """What is wrong with a 5-field crontab line, naming the field; None when it is fine."""
    fields = expr.split()
    if len(fields) != 5:
        return (
            f"{expr!r} has {len(fields)} fields; a cron line has 5: "
            "minute hour day-of-month month day-of-week, e.g. '0 7 * * *'"
        )
    for name, value in zip(CRON_FIELDS, fields, strict=True):
        try:
            if name == "day_of_week":
                value = _weekdays(value)
            CronTrigger(**{name: value}, timezone=UTC)
        except ValueError as exc:
            return f"field {name.replace('_', '-')} {value!r} is not valid ({exc})"
    return None


@dataclass(frozen=True)
class When:
    """When one schedule fires: a cron line in a zone, or every N seconds."""

    cron: str = ""
    every: float = 0.0
    tz: tzinfo = UTC

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger that fires at these slots."""
        if self.cron:
            return cron_trigger(self.cron, self.tz)
        # Slots counted from the epoch: every daemon, started whenever, agrees on them.
        return IntervalTrigger(seconds=self.every, start_date=EPOCH, timezone=UTC)

    def slots(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Every slot in (after, until], in order, in UTC."""
        if self.every:
            step = self.every
            n = int((after - EPOCH).total_seconds() // step) + 1
            while (slot := EPOCH + timedelta(seconds=n * step)) <= until:
                if slot > after:
                    yield slot
                n += 1
            return
        trigger = cron_trigger(self.cron, self.tz)
        # Vixie cron's rule for the hour that happens twice when clocks go back: a job at
        # a set time runs once (the first), one with a wildcard hour runs right through.
        once = not self.cron.split()[1].startswith("*")
        recent: list[datetime] = []
        probe = after
        while True:
            fire = trigger.get_next_fire_time(None, probe + timedelta(microseconds=1))
            if fire is None:
                return
            fire_utc = fire.astimezone(UTC)
            if fire_utc > until:
                return
            # When clocks go forward, a missing time fires an hour on, once: the day is
            # neither skipped nor doubled.
            wall = fire.replace(tzinfo=None)
            if fire_utc > after and not (once and wall in recent):
                yield fire_utc
            recent = [*recent[-7:], wall]
            # Cron has minutes, not seconds; a minute on always reaches the next time,
            # where a microsecond can meet the repeated hour again.
            probe = max(fire_utc, probe) + timedelta(seconds=59)

    def latest(self, now: datetime, within: timedelta) -> datetime | None:
        """The newest slot in (now - within, now], if any."""
        found = None
        for found in self.slots(now - within, now):  # noqa: B007 (the last one is wanted)
            pass
        return found

    def next_after(self, now: datetime) -> datetime | None:
        """The first slot after now."""
        horizon = now + timedelta(days=400)
        return next(self.slots(now, horizon), None)
