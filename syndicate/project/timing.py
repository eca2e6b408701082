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
from datetime import UTC, date, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(text: str, tz: tzinfo) -> datetime | None:
    """An ISO 8601 date or time given on the command line (--since, --slot), read in tz
    when it names no zone; None when it is not one. A date alone is its midnight."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


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
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# (name, lowest, highest, names): day-of-week 7 is Sunday again, as in crontab.
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)


def _field(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> frozenset[int]:
    """The values a crontab field stands for: *, */n, a, a-b, a-b/n, lists, and names."""

    def value(token: str) -> int:
        token = token.strip().lower()
        if names and token[:3] in names and token.isalpha():
            return names.index(token[:3]) + (1 if name == "month" else 0)
        if not token.isdigit():
            raise ValueError(f"{token!r} is not a number")
        number = int(token)
        if not low <= number <= high:
            raise ValueError(f"{number} is outside {low}-{high}")
        return number

    chosen: set[int] = set()
    for item in text.split(","):
        span, slash, step_text = item.partition("/")
        step = value(step_text) if slash and step_text.isdigit() else 1
        if slash and (not step_text.isdigit() or step < 1):
            raise ValueError(f"step {step_text!r} must be a whole number of 1 or more")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (value(x) for x in span.split("-", 1))
        else:
            first = value(span)
            last = high if slash else first
        if last < first:
            raise ValueError(f"range {span!r} runs backwards")
        chosen.update(range(first, last + 1, step))
    if name == "day-of-week":
        chosen = {d % 7 for d in chosen}
    return frozenset(chosen)


@dataclass(frozen=True)
class Cron:
    """A standard 5-field crontab line, read the way cron reads it: when both day fields
    are restricted, a day matches either; day-of-week 0 and 7 are Sunday."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day-of-month is *
    any_weekday: bool  # day-of-week is *
    any_hour: bool  # the hour field starts with *: runs right through a repeated hour

    @classmethod
    def parse(cls, expr: str) -> Cron:
        """ValueError naming the field when the line is not valid."""
        fields = expr.split()
        if len(fields) != 5:
            raise ValueError(
                f"{expr!r} has {len(fields)} fields; a cron line has 5: "
                "minute hour day-of-month month day-of-week, e.g. '0 7 * * *'"
            )
        values = []
        for text, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
            try:
                values.append(_field(text, name, low, high, names))
            except ValueError as exc:
                raise ValueError(f"field {name} {text!r} is not valid ({exc})") from None
        minutes, hours, days, months, weekdays = values
        return cls(
            tuple(sorted(minutes)),
            tuple(sorted(hours)),
            days,
            months,
            weekdays,
            fields[2] == "*",
            fields[4] == "*",
            fields[1].startswith("*"),
        )

    def day_matches(self, day: date) -> bool:
        """Whether cron runs on this (local) date."""
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_date and by_weekday
        return by_date or by_weekday

    def instants(self, day: date, tz: tzinfo) -> list[datetime]:
        """The UTC instants cron fires at on a local date, in order.

        A time that does not exist (clocks going forward) fires at the same instant an
        hour on; a time that happens twice (clocks going back) fires once, the first time,
        unless the hour field is a wildcard (Vixie cron's rule): the day is neither
        skipped nor doubled."""
        found: set[datetime] = set()
        for hour in self.hours:
            for minute in self.minutes:
                wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                first = wall.astimezone(UTC)
                found.add(first)
                second = wall.replace(fold=1).astimezone(UTC)
                if second != first and self.any_hour and _exists(wall.replace(fold=1), tz):
                    found.add(second)
        return sorted(found)

    def after(self, moment: datetime, tz: tzinfo) -> Iterator[datetime]:
        """Fire times after ``moment``, in order, without end (a year with none stops)."""
        day = moment.astimezone(tz).date() - timedelta(days=1)  # a shifted time may cross
        empty_days = 0
        while empty_days < 800:
            hits = (
                [i for i in self.instants(day, tz) if i > moment] if self.day_matches(day) else []
            )
            empty_days = 0 if hits else empty_days + 1
            yield from hits
            day += timedelta(days=1)


def _exists(wall: datetime, tz: tzinfo) -> bool:
    """Whether a local wall time (with its fold) is real: it survives a round trip."""
    back = wall.astimezone(UTC).astimezone(tz)
    return back.replace(tzinfo=None) == wall.replace(tzinfo=None)


def cron_problem(expr: str) -> str | None:
    """What is wrong with a 5-field crontab line, naming the field; None when it is fine."""
    try:
        Cron.parse(expr)
    except ValueError as exc:
        return str(exc)
    return None


class SlotTrigger(BaseTrigger):
    """An APScheduler trigger that fires at a When's slots. APScheduler 3's CronTrigger
    is not used: across a spring change it can skip the next day (from just after
    midnight before a 02:00 change, "0 0 * * *" next fires two days on), and its
    day-of-week counts 0 as Monday."""

    def __init__(self, when: When) -> None:
        self.when = when

    def get_next_fire_time(self, previous_fire_time, now):
        after = previous_fire_time or (now - timedelta(microseconds=1))
        return self.when.next_after(after)

    def __str__(self) -> str:
        return f"cron[{self.when.cron}]" if self.when.cron else f"every[{self.when.every}s]"


@dataclass(frozen=True)
class When:
    """When one schedule fires: a cron line in a zone, or every N seconds."""

    cron: str = ""
    every: float = 0.0
    tz: tzinfo = UTC

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger that fires at these slots."""
        return SlotTrigger(self)

    def slots(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Every slot in (after, until], in order, in UTC."""
        if self.every:
            # Counted from the epoch: every daemon, started whenever, agrees on them.
            step = self.every
            n = int((after - EPOCH).total_seconds() // step) + 1
            while (slot := EPOCH + timedelta(seconds=n * step)) <= until:
                if slot > after:
                    yield slot
                n += 1
            return
        for slot in Cron.parse(self.cron).after(after, self.tz):
            if slot > until:
                return
            yield slot

    def latest(self, now: datetime, within: timedelta) -> datetime | None:
        """The newest slot in (now - within, now], if any."""
        if self.every:  # arithmetic, not a walk through every slot of the window
            n = (now - EPOCH).total_seconds() // self.every
            slot = EPOCH + timedelta(seconds=n * self.every)
            return slot if slot > now - within else None
        found = None
        for found in self.slots(now - within, now):  # noqa: B007 (the last one is wanted)
            pass
        return found

    def next_after(self, moment: datetime) -> datetime | None:
        """The first slot after ``moment``."""
        if self.every:
            return next(self.slots(moment, moment + timedelta(seconds=self.every)), None)
        return next(Cron.parse(self.cron).after(moment, self.tz), None)
