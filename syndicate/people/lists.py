"""Subscriber lists: a CSV imported (planned first, so the operator can be told what it
will do, then applied), every subscriber exported, and one person's data exported.
Statuses change only through syndicate.people (subscribe)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from syndicate.errors import ConfigError
from syndicate.models import Subscriber, SubscriberStatus
from syndicate.people import Refused, normalize_address, standing, subscribe
from syndicate.store import PeopleStore


@dataclass
class ImportRow:
    """One address of a CSV to import (the first line it is on, the last name given)."""

    line: int
    email: str
    name: str


@dataclass
class ImportPlan:
    """What importing a CSV would do, worked out before anything is changed: the rows
    to apply, the problems (bad rows, refused addresses; skipped counts those left out)
    and how many confirmation mails it would send."""

    rows: list[ImportRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: int = 0
    confirmations: int = 0


@dataclass
class ImportReport:
    """What an import did."""

    added: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)
    skipped: int = 0
    pending: list[Subscriber] = field(default_factory=list)


def plan_import(store: PeopleStore, path: Path, confirmed: bool) -> ImportPlan:
    """Read a CSV with an email column (and optionally name) and work out what importing
    it does, changing nothing: bad rows are reported with their line numbers, duplicates
    merged case-insensitively (the last name wins), and an address that was erased,
    bounced, complained or unsubscribed is left out either way (a list must neither
    resubscribe nor re-mail it; see standing)."""
    plan = ImportPlan()
    rows: dict[str, ImportRow] = {}
    for line, raw, name in _csv_rows(path):
        try:
            email = normalize_address(raw)
        except ValueError as exc:
            plan.problems.append(f"{path}:{line}: {raw!r}: {exc}; row skipped")
            plan.skipped += 1
            continue
        if email in rows:
            plan.problems.append(f"{path}:{line}: {email} repeats line {rows[email].line}; merged")
            rows[email].name = name or rows[email].name
            continue
        rows[email] = ImportRow(line, email, name)
    for row in rows.values():
        existing = store.subscriber(row.email)
        stand = standing(store, row.email, existing)
        if stand is not None:
            plan.problems.append(
                f"{path}:{row.line}: {row.email} {stand.describe()}; row skipped (bring it "
                "back alone: subscribers add --reactivate --reason …)"
            )
            plan.skipped += 1
            continue
        plan.rows.append(row)
        if not confirmed and (existing is None or existing.status != SubscriberStatus.ACTIVE):
            plan.confirmations += 1
    return plan


def _csv_rows(path: Path) -> list[tuple[int, str, str]]:
    """(line, email as written, name) of each data row of an import CSV."""
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
    out = []
    for row in reader:
        raw = (row.get(fields["email"]) or "").strip()
        name = (row.get(fields["name"]) or "").strip() if "name" in fields else ""
        out.append((reader.line_num, raw, name))
    return out


def apply_import(
    store: PeopleStore, plan: ImportPlan, digests: list[str], confirmed: bool
) -> ImportReport:
    """Subscribe each row of a plan (see plan_import); the pending ones are returned for
    their confirmation mails. An address refused since the plan was made (a bounce came
    in meanwhile) is one more problem, not a stop."""
    report = ImportReport(problems=list(plan.problems), skipped=plan.skipped)
    for row in plan.rows:
        before = store.subscriber(row.email)
        try:
            sub, needs_confirmation = subscribe(store, row.email, row.name, digests, confirmed)
        except Refused as exc:
            report.problems.append(f"{row.email}: {exc.message}; row skipped")
            report.skipped += 1
            continue
        if before is None:
            report.added += 1
        else:
            report.updated += 1
        if needs_confirmation:
            report.pending.append(sub)
    return report


def export_person(store: PeopleStore, email: str) -> dict | None:
    """Everything kept about one address, for the person who asks (GDPR art. 15): the
    subscriber (status, name, subscriptions, proof of consent, soft bounces), the
    suppression, the reactivation records and every message of theirs in the ledger.
    None when nothing at all is kept about it."""
    key = email.strip().lower()
    sub = store.subscriber(key)
    suppression = store.suppression(key)
    reactivations = store.reactivations(key)
    deliveries = store.person_deliveries(key)
    if sub is None and suppression is None and not reactivations and not deliveries:
        return None

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "email": key,
        "subscriber": None
        if sub is None
        else {
            "name": sub.name,
            "status": str(sub.status),
            "subscriptions": sub.digests,
            "created_at": when(sub.created_at),
            "consent": {
                "subscribed_at": when(sub.subscribed_at),
                "subscribed_ip": sub.subscribed_ip,
                "confirmed_at": when(sub.confirmed_at),
                "confirmed_ip": sub.confirmed_ip,
            },
            "soft_bounces": sub.soft_bounces,
        },
        "suppression": None
        if suppression is None
        else {"reason": suppression[0], "at": when(suppression[1])},
        "reactivations": [
            {**asdict(r), "since": when(r.since), "at": when(r.at)} for r in reactivations
        ],
        "deliveries": [
            {**d, "slot": when(d["slot"]), "sent_at": when(d["sent_at"])} for d in deliveries
        ],
    }


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
