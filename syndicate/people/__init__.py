"""Subscribers: adding (with double opt-in), confirming, leaving, bouncing, erasing; the
lists (a CSV import, the exports) are in people/lists.py.

Every change of a subscriber's status is made here, and none that would be untrue: an
address that was erased, bounced, complained or unsubscribed is not made active on an
operator's word alone (see standing and subscribe), only by the person confirming anew, or
with ``reactivate`` and a reason, which is recorded with who gave it and when.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email

from syndicate.errors import ConfigError, SyndicateError
from syndicate.models import Reactivation, Subscriber, SubscriberStatus, one_line
from syndicate.store import PeopleStore


def normalize_address(raw: str) -> str:
    """A checked, normalized address (email-validator, no DNS); ValueError says why not."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


def digests_of(digests: Mapping[str, object], wanted: list[str]) -> list[str]:
    """The digest names asked for (default: every digest), checked against the project's
    digest schedules (by name)."""
    known = list(digests)
    if not wanted:
        return known
    unknown = [d for d in wanted if d not in known]
    if unknown:
        raise ConfigError(
            f"no digest named {', '.join(unknown)}", f"digests: {', '.join(known) or 'none'}"
        )
    return wanted


@dataclass(frozen=True)
class Standing:
    """What keeps an address from being made active on someone else's word: it was
    erased, bounced, complained or unsubscribed; the suppression's reason and time."""

    was: str
    detail: str = ""
    since: datetime | None = None

    def describe(self) -> str:
        """What the address is, in a phrase after it."""
        on = f" on {self.since:%Y-%m-%d}" if self.since else ""
        why = f"{self.detail}: " if self.detail else ""
        return {
            "erased": f"was erased{on} (GDPR erasure; only a hash of it is kept)",
            "bounced": f"bounced{on} ({why}the mailbox does not take mail)",
            "complained": f"complained{on} (marked a mail as spam)",
            "unsubscribed": "unsubscribed (their own choice)",
        }[self.was]


def standing(store: PeopleStore, email: str, sub: Subscriber | None = None) -> Standing | None:
    """Why this address may not be made active by attestation, or None when it may. The
    suppression list says erased, complained (a reason starting 'complain') or bounced
    (any other reason); else the subscriber's own status, bounced or unsubscribed."""
    found = store.suppression(email)
    if found is not None:
        reason, at = found
        if reason == "erased":
            return Standing("erased", reason, at)
        if reason.startswith("complain"):
            return Standing("complained", reason, at)
        return Standing("bounced", reason, at)
    if sub is not None and sub.status == SubscriberStatus.BOUNCED:
        return Standing("bounced")
    if sub is not None and sub.status == SubscriberStatus.UNSUBSCRIBED:
        return Standing("unsubscribed")
    return None


class Refused(SyndicateError):
    """A status change that would be untrue (exit 1: nothing was changed)."""

    def __init__(self, email: str, stand: Standing) -> None:
        super().__init__(
            f"{email} {stand.describe()}; not made active, nothing changed",
            "add it without --confirmed to send a confirmation mail (the person's click "
            "brings it back), or, with their consent on record, add --reactivate --reason "
            "'how and when they asked'",
        )
        self.standing = stand


def operator() -> str:
    """Who runs this command, as a record keeps it: user@host (the user behind sudo)."""
    try:
        user = os.environ.get("SUDO_USER") or getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def subscribe(
    store: PeopleStore,
    email: str,
    name: str,
    digests: list[str],
    confirmed: bool,
    ip: str | None = None,
    reactivate: str | None = None,
    by: str | None = None,
) -> tuple[Subscriber, bool]:
    """Add (or update) a subscriber; (subscriber, whether a confirmation must be sent).

    An existing active subscriber keeps being active and gains the digests; an unsubscribed
    or bounced one goes back to pending (or active when the consent is attested). Attested
    consent (confirmed) is refused (Refused) for an address that was erased, bounced,
    complained or unsubscribed, unless ``reactivate`` gives the reason: then it is active
    again, its suppression lifted, and the reason kept with ``by`` (default: operator())
    and the time.
    """
    now = datetime.now(UTC)
    sub = store.subscriber(email) or Subscriber(email, status=SubscriberStatus.PENDING)
    if reactivate is not None and not reactivate.strip():
        raise ConfigError("--reactivate needs a reason", "e.g. --reason 'asked by phone, 2 Dec'")
    if confirmed or reactivate is not None:
        stand = standing(store, sub.email, sub)
        if stand is not None and reactivate is None:
            raise Refused(sub.email, stand)
        if stand is not None and reactivate is not None:
            record = Reactivation(
                stand.was, stand.detail, stand.since, one_line(reactivate), by or operator(), now
            )
            store.reactivate(sub.email, record)
            sub.soft_bounces = 0
    sub.name = one_line(name) or sub.name
    sub.digests = list(dict.fromkeys([*sub.digests, *digests]))
    if confirmed or reactivate is not None:
        sub.status = SubscriberStatus.ACTIVE
        sub.confirmed_at = sub.confirmed_at or now
        sub.subscribed_at = sub.subscribed_at or now
    elif sub.status != SubscriberStatus.ACTIVE:
        sub.status = SubscriberStatus.PENDING
        sub.subscribed_ip, sub.subscribed_at = ip, now
    store.save_subscriber(sub)
    return sub, sub.status == SubscriberStatus.PENDING


def confirm(store: PeopleStore, subscriber_id: str, ip: str | None) -> Subscriber | None:
    """A confirmation link was followed: active from now, with the proof of consent."""
    sub = store.subscriber(subscriber_id)
    if sub is None:
        return None
    if sub.status != SubscriberStatus.ACTIVE:
        sub.status = SubscriberStatus.ACTIVE
        sub.confirmed_ip, sub.confirmed_at = ip, datetime.now(UTC)
        store.save_subscriber(sub)
        store.unsuppress(sub.email)  # subscribing anew lifts an earlier erasure
    return sub


def unsubscribe(store: PeopleStore, subscriber_id: str, digest: str) -> Subscriber | None:
    """Leave one digest; with none left, the subscriber is unsubscribed. Idempotent."""
    sub = store.subscriber(subscriber_id)
    if sub is None:
        return None
    sub.digests = [d for d in sub.digests if d != digest]
    if not sub.digests:
        sub.status = SubscriberStatus.UNSUBSCRIBED
    store.save_subscriber(sub)
    return sub


def erase(store: PeopleStore, email: str) -> tuple[bool, int]:
    """GDPR erasure: the person's data deleted everywhere, their ledger rows kept as
    anonymous counts, a hash kept so the address is not mailed: (found, rows made
    anonymous)."""
    return store.erase_subscriber(email)


def set_preferences(
    store: PeopleStore, subscriber_id: str, digests: list[str]
) -> Subscriber | None:
    """The preferences page was saved: these digests; none left is unsubscribed."""
    sub = store.subscriber(subscriber_id)
    if sub is None:
        return None
    sub.digests = digests
    sub.status = SubscriberStatus.ACTIVE if digests else SubscriberStatus.UNSUBSCRIBED
    store.save_subscriber(sub)
    return sub


def soft_bounced(store: PeopleStore, sub: Subscriber, limit: int) -> bool:
    """One more soft bounce (a full mailbox, a delay) for sub; at the limit the address
    counts as bounced for good (see bounced). True when it did."""
    sub.soft_bounces += 1
    if sub.soft_bounces >= limit:
        bounced(store, sub.email, "soft-bounce-limit", sub)
        return True
    store.save_subscriber(sub)
    return False


def bounced(
    store: PeopleStore, email: str, reason: str, sub: Subscriber | None = None
) -> Subscriber | None:
    """The address bounced for good (a hard bounce, or too many soft ones): never mailed
    again. An active or pending subscriber becomes bounced; one who unsubscribed keeps
    that status, their own choice, which a dead mailbox does not change."""
    store.suppress(email, reason)
    sub = sub or store.subscriber(email)
    if sub is None:
        return None
    if sub.status in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        sub.status = SubscriberStatus.BOUNCED
    store.save_subscriber(sub)
    return sub
