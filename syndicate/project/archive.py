"""Where an edition lives on the web: its slot-date, the stable key of its page
`/editions/<digest>/<slot-date>/`.

The slot-date is read in the digest's zone (its ``timezone``, else the site's):
``2026-12-03`` when the slot is the digest's only slot of that local day (a daily or weekly
digest), ``2026-12-03-0700`` when the day has other slots or the slot is not one of the
schedule's own (a sub-daily digest; a `send --slot` at another time), and
``2026-12-03-070015`` in the rare case the slot has seconds. Each edition's key is unique
because (schedule, slot) is. It is computed from the slot and the schedule alone, before
the edition is stored, so the link in the email is the page's URL.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from syndicate.project.schedules import Schedule

SLOT_KEY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:-(\d{2})(\d{2})(\d{2})?)?$")


def digest_zone(schedule: Schedule, site_tz: tzinfo) -> tzinfo:
    """The zone a digest's dates are read in: its own timezone, else the site's."""
    return ZoneInfo(schedule.timezone) if schedule.timezone else site_tz


def local_day(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as aware datetimes."""
    start = datetime.combine(day, time(0), tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tz)


def slot_key(schedule: Schedule, slot: datetime, site_tz: tzinfo) -> str:
    """The slot-date of the edition of (schedule, slot); see the module's docstring."""
    tz = digest_zone(schedule, site_tz)
    local = slot.astimezone(tz)
    day = local.date().isoformat()
    start, end = local_day(local.date(), tz)
    when = schedule.when(site_tz)
    slots = []
    if when is not None:
        # Slots in [start, end): slots() takes (after, until], so shift both by a tick.
        tick = timedelta(microseconds=1)
        for found in when.slots(start - tick, end - tick):
            slots.append(found)
            if len(slots) > 1:
                break
    if len(slots) == 1 and slots[0] == slot:
        return day
    seconds = f"{local.second:02d}" if local.second else ""
    return f"{day}-{local:%H%M}{seconds}"


def edition_path(schedule: Schedule, slot: datetime, site_tz: tzinfo) -> str:
    """The path of an edition's page on the web app, from its slot and schedule."""
    return f"/editions/{schedule.name}/{slot_key(schedule, slot, site_tz)}/"


def parse_slot_key(key: str) -> tuple[date, time | None] | None:
    """(local date, local time or None) a slot-date names; None when it is not one."""
    found = SLOT_KEY.match(key)
    if found is None:
        return None
    y, m, d, hh, mm, ss = found.groups()
    try:
        day = date(int(y), int(m), int(d))
        at = time(int(hh), int(mm), int(ss or 0)) if hh is not None else None
    except ValueError:
        return None
    return day, at
