"""Subscribers: adding (with double opt-in), importing, exporting, erasing, confirming."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from syndicate.errors import ConfigError
from syndicate.models import Subscriber, SubscriberStatus, one_line
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


def subscribe(
    store: PeopleStore,
    email: str,
    name: str,
    digests: list[str],
    confirmed: bool,
    ip: str | None = None,
) -> tuple[Subscriber, bool]:
    """Add (or update) a subscriber; (subscriber, whether a confirmation must be sent).

    An existing active subscriber keeps being active and gains the digests; an unsubscribed
    or bounced one goes back to pending (or active when the consent is attested).
    """
    now = datetime.now(UTC)
    sub = store.subscriber(email) or Subscriber(email, status=SubscriberStatus.PENDING)
    sub.name = one_line(name) or sub.name
    sub.digests = list(dict.fromkeys([*sub.digests, *digests]))
    if confirmed:
        sub.status = SubscriberStatus.ACTIVE
        sub.confirmed_at = sub.confirmed_at or now
        sub.subscribed_at = sub.subscribed_at or now
        # Attested consent does not lift a suppression (an erasure, a hard bounce): only
        # the person confirming anew does.
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


def erase(store: PeopleStore, email: str) -> bool:
    """GDPR erasure: the person's data deleted, a hash kept so the address is not mailed."""
    found = store.remove_subscriber(email)
    store.suppress(email, "erased")
    return found


@dataclass
class ImportReport:
    """What an import did."""

    added: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)
    pending: list[Subscriber] = field(default_factory=list)


def import_csv(store: PeopleStore, path: Path, digests: list[str], confirmed: bool) -> ImportReport:
    """Read a CSV with an email column (and optionally name); bad rows are reported with
    their line numbers, good ones kept, duplicates merged case-insensitively."""
    report = ImportReport()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})", "give a UTF-8 CSV file") from exc
    reader = csv.DictReader(io.StringIO(text))
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    if "email" not in fields:
        raise ConfigError(
            f"{path}: no 'email' column in the header row ({', '.join(fields) or 'empty'})",
            "the first row names the columns: email[,name]",
        )
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        raw = (row.get(fields["email"]) or "").strip()
        try:
            email = normalize_address(raw)
        except ValueError as exc:
            report.problems.append(f"{path}:{line}: {raw!r}: {exc}; row skipped")
            continue
        if email in seen:
            report.problems.append(f"{path}:{line}: {email} repeats line {seen[email]}; merged")
        seen[email] = line
        name = (row.get(fields["name"]) or "").strip() if "name" in fields else ""
        before = store.subscriber(email)
        sub, needs_confirmation = subscribe(store, email, name, digests, confirmed)
        if before is None:
            report.added += 1
        else:
            report.updated += 1
        if needs_confirmation:
            report.pending.append(sub)
    return report


def export(store: PeopleStore, fmt: str) -> str:
    """Every subscriber as CSV or JSON (address, name, status, digests, consent proof)."""
    subs = store.subscribers()
    rows = [
        {
            "email": s.email,
            "name": s.name,
            "status": s.status,
            "digests": " ".join(s.digests),
            "subscribed_at": s.subscribed_at.isoformat() if s.subscribed_at else "",
            "subscribed_ip": s.subscribed_ip or "",
            "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else "",
            "confirmed_ip": s.confirmed_ip or "",
        }
        for s in subs
    ]
    if fmt == "json":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=[
            "email", "name", "status", "digests", "subscribed_at", "subscribed_ip",
            "confirmed_at", "confirmed_ip",
        ],
    )  # fmt: skip
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


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
