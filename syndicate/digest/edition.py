"""What goes into the next edition of a digest (DESIGN invariant 2: an edition neither drops
nor repeats a story).

The candidates are the stories of the schedule's sections gathered (or changed) within its
``carry_for`` span that no edition of the schedule carried. The newest dated one leads; then
those gathered before the previous edition, left over by it (held over, or in a held or
skipped edition), oldest first, so none waits for ever behind newer news; then this
window's new stories, newest first. A story an earlier edition carried comes back once more, marked
updated, only when its content changed since. Beyond ``max_stories`` the rest wait for the
next edition (``overflow = "carry"``) or appear as headlines under "More stories" and count
as sent (``overflow = "list"``). A story left over for longer than ``carry_for`` ages out;
`editions list` and `status` count those, so none is lost silently.

Within the edition the stories are shown newest first, undated ones last: an undated story
never leads an edition.
"""

from __future__ import annotations

from datetime import UTC, datetime

from syndicate.models import Edition, EditionStory, Story
from syndicate.project.schedules import Schedule
from syndicate.store import EditionStore

# The most headlines a "More stories" list carries; the rest still wait (a digest is no
# archive page).
MAX_LISTED = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def next_edition(
    store: EditionStore, schedule: Schedule, slot: datetime, now: datetime, *, again: bool = False
) -> Edition:
    """The edition (schedule, slot) would carry if made now; not stored, not rendered.
    ``again`` (`send --force`): the previous edition's window once more, stories already
    sent included, for an edition when nothing is new."""
    previous = store.last_edition(schedule.name, before=slot)
    since = previous.window_end if previous else None
    horizon = now - schedule.carry_span
    if again and previous is not None:
        horizon = min(horizon, previous.window_start or previous.created_at or horizon)
    # A digest's first edition also looks at the newest stories of any age: a digest added
    # to a project whose stories were all gathered long ago still has something to carry.
    newest = schedule.max_stories if previous is None or again else 0
    candidates = store.digest_candidates(horizon, schedule.sections, newest)
    history = store.sent_before(schedule.name, [story.id for story, _ in candidates])
    held: list[EditionStory] = []
    fresh: list[EditionStory] = []
    for story, digest in candidates:
        sent = history.get(story.id)
        if sent is None or again:
            entry = EditionStory(story, sent is not None and sent[0] != digest, digest)
        elif sent[0] != digest and not sent[1]:
            entry = EditionStory(story, True, digest)
        else:
            continue
        waited = not again and since is not None and _seen(story) < since and not entry.updated
        (held if waited else fresh).append(entry)
    held.sort(key=lambda e: _age_key(e.story))  # oldest first: they have waited longest
    queue = held + fresh  # fresh is newest first, as the store gave them
    # The newest dated story leads, whatever waits: a backlog never pushes the news of the
    # hour out of the edition (or out of its subject); the other places go oldest first.
    dated = [e for e in queue if e.story.published is not None]
    if dated:
        lead = max(dated, key=lambda e: _age_key(e.story))
        queue.remove(lead)
        queue.insert(0, lead)
    chosen = queue[: schedule.max_stories]
    rest = queue[schedule.max_stories :]
    listed: list[EditionStory] = []
    if schedule.overflow == "list" and rest:
        listed = [
            EditionStory(e.story, e.updated, e.content_hash, listed=True) for e in rest[:MAX_LISTED]
        ]
        rest = rest[MAX_LISTED:]
    edition = Edition(schedule.name, slot, since, now, shown_order(chosen) + listed)
    edition.backlog = len(rest)
    return edition


def shown_order(stories: list[EditionStory]) -> list[EditionStory]:
    """Newest dated story first (it leads the edition and names its subject); undated
    stories after the dated ones, newest gathered first."""
    dated = [e for e in stories if e.story.published is not None]
    undated = [e for e in stories if e.story.published is None]
    dated.sort(key=lambda e: (e.story.published, _seen(e.story)), reverse=True)
    undated.sort(key=lambda e: _seen(e.story), reverse=True)
    return dated + undated


def _seen(story: Story) -> datetime:
    return story.first_seen or _EPOCH


def _age_key(story: Story) -> tuple[datetime, datetime]:
    return (story.published or _seen(story), _seen(story))
