"""The Store contract, continued: editions, the delivery ledger and subscribers, on SQLite
and on PostgreSQL. Claims are raced from threads with a store each, as separate processes
would (and as workers on several machines do)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from syndicate.models import Edition, Subscriber
from syndicate.store import open_store

NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def _edition(store, slot=NOW) -> int:
    made, created = store.save_edition(
        Edition("daily", slot, None, slot, [], subject="S", html="<p>h</p>", text="t")
    )
    return made.id


def _people(store, n: int) -> list[Subscriber]:
    for i in range(n):
        store.save_subscriber(Subscriber(f"Reader{i}@Example.org", f"R {i}", "active", ["daily"]))
    return store.subscribers(digest="daily", status="active")


def test_an_edition_per_slot_whoever_makes_it(store, store_url):
    first, created = store.save_edition(Edition("daily", NOW, None, NOW, [], subject="A"))
    other = open_store(store_url)
    try:
        again, created_again = other.save_edition(Edition("daily", NOW, None, NOW, [], "B"))
    finally:
        other.close()
    assert created and not created_again and again.id == first.id and again.subject == "A"


def test_ledger_rows_are_made_once_and_marked(store):
    edition = _edition(store)
    people = _people(store, 5)
    assert store.add_deliveries(edition, people) == 5
    assert store.add_deliveries(edition, people) == 0  # idempotent
    rows = store.claim(edition, "h:1:1", 3, NOW, LEASE)
    assert len(rows) == 3
    store.mark_sent(rows[0].id, "<m1@x>", NOW)
    store.mark_deferred(rows[1].id, "451 busy", NOW + timedelta(minutes=1))
    store.mark_failed(rows[2].id, "554 no")
    assert store.delivery_counts(edition) == {"sent": 1, "deferred": 1, "failed": 1, "pending": 2}
    # The deferred row is due only at its time; the rest are free.
    assert len(store.claim(edition, "h:1:2", 10, NOW, LEASE)) == 2
    later = store.claim(edition, "h:1:3", 10, NOW + timedelta(minutes=2), LEASE)
    assert [r.error for r in later] == ["451 busy"]
    [recent] = store.recent_editions(5)
    assert recent["counts"] == {"sent": 1, "deferred": 1, "failed": 1, "pending": 2}


def test_racing_claimers_never_share_a_row(store, store_url):
    edition = _edition(store)
    store.add_deliveries(edition, _people(store, 300))
    taken: dict[str, list[int]] = {}

    def claimer(name: str) -> None:
        mine = open_store(store_url)
        got: list[int] = []
        try:
            while rows := mine.claim(edition, name, 7, NOW, LEASE):
                got += [r.id for r in rows]
        finally:
            mine.close()
        taken[name] = got

    threads = [threading.Thread(target=claimer, args=(f"other-host:{i}:1",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for got in taken.values() for i in got]
    assert len(every) == len(set(every)) == 300
    assert sum(1 for got in taken.values() if got) >= 2  # the work was shared


def test_a_lease_runs_out_and_a_release_frees(store):
    edition = _edition(store)
    store.add_deliveries(edition, _people(store, 4))
    held = store.claim(edition, "far-away-host:99:1", 4, NOW, LEASE)
    assert len(held) == 4
    assert store.claim(edition, "here:1:1", 4, NOW + timedelta(minutes=5), LEASE) == []
    # A claimer on another machine cannot be asked if it lives: its lease decides.
    assert len(store.claim(edition, "here:1:1", 4, NOW + timedelta(minutes=11), LEASE)) == 4
    store.release("here:1:1")
    assert len(store.claim(edition, "here:1:2", 4, NOW + timedelta(minutes=11), LEASE)) == 4


def test_subscribers_suppression_and_totals(store):
    _people(store, 3)
    assert store.subscriber("reader1@example.org").name == "R 1"  # any case finds them
    store.suppress("READER2@example.org", "hard-bounce")
    assert store.suppressed(["reader2@example.org", "reader0@example.org"]) == {
        "reader2@example.org"
    }
    # Active by its status, yet no send reaches it: counted as suppressed, not active.
    assert store.subscriber_totals() == {"active": 2, "suppressed": 1}


def test_old_deferred_rows_expire_and_renewed_claims_hold(store):
    edition = _edition(store)
    _people(store, 3)
    store.add_deliveries(edition, store.subscribers(digest="daily", status="active"))
    real_now = datetime.now(UTC)  # editions are stamped with the real time when saved
    first, second, third = store.claim(edition, "here:1:1", 3, NOW, LEASE)
    store.mark_deferred(first.id, "451 later", NOW)
    store.mark_deferred(second.id, "451 later", NOW)
    store.claim(edition, "here:1:1", 1, NOW + timedelta(seconds=1), LEASE)  # holds one again
    # Not old yet: nothing expires. Old: the unheld deferred row fails, the held one stays.
    assert store.expire_deferred(real_now - timedelta(hours=1), NOW) == 0
    assert store.expire_deferred(real_now + timedelta(hours=1), NOW) == 1
    counts = store.delivery_counts(edition)
    assert counts == {"failed": 1, "deferred": 1, "pending": 1}
    # A renewed claim outlives its first lease; another claimer gets nothing of it.
    store.renew("here:1:1", NOW + 2 * LEASE)
    assert store.claim(edition, "far:2:1", 10, NOW + LEASE + timedelta(seconds=1), LEASE) == []
    store.release("here:1:1")
    got = store.claim(edition, "far:2:1", 10, NOW + LEASE + timedelta(seconds=1), LEASE)
    assert len(got) == 2
