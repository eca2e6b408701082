"""What goes into the next edition of a digest (DESIGN invariant 2).

Its window starts where the previous edition of the same schedule ended, not at a wall-clock
time, so a late or skipped run neither drops nor repeats a story. A story an earlier edition
carried comes back once more, marked updated, only when its content changed since.
"""

from __future__ import annotations

from datetime import datetime

from syndicate.models import Edition, EditionStory
from syndicate.project.schedules import Schedule
from syndicate.store import EditionStore


def next_edition(store: EditionStore, schedule: Schedule, slot: datetime, now: datetime) -> Edition:
    """The edition (schedule, slot) would carry if made now; not stored, not rendered."""
    previous = store.last_edition(schedule.name, before=slot)
    since = previous.window_end if previous else None
    candidates = store.digest_candidates(since, schedule.sections, schedule.max_stories)
    history = store.sent_before(schedule.name, [story.id for story, _ in candidates])
    chosen: list[EditionStory] = []
    for story, digest in candidates:
        sent = history.get(story.id)
        if sent is None:
            chosen.append(EditionStory(story, False, digest))
        elif sent[0] != digest and not sent[1]:
            chosen.append(EditionStory(story, True, digest))
        if len(chosen) == schedule.max_stories:
            break
    return Edition(schedule.name, slot, since, now, chosen)
