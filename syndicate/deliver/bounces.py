"""Bounces: read delivery status notifications (RFC 3464) from a Maildir; suppress hard
bounces, count soft ones.

What is done with each message of ``new/`` and ``cur/`` (``tmp/`` is a delivery in
progress and is left alone):

- a DSN (``multipart/report; report-type=delivery-status`` with a
  ``message/delivery-status`` part, or ``message/global-delivery-status`` from RFC 6533)
  is read one per-recipient block at a time. A recipient is looked up by its
  Original-Recipient (the address we sent to) and then its Final-Recipient, any case,
  ``rfc822; addr`` or ``<addr>``.

  * ``Action: failed`` with a 5.x.x Status: a **hard bounce**. The address goes on the
    suppression list (reason "hard-bounce") and an active or pending subscriber becomes
    "bounced" (an unsubscribed one stays unsubscribed: that was their choice).
  * ``Action: delayed``, or ``failed`` with a 4.x.x Status (the remote MTA gave up on a
    temporary failure): a **soft bounce**; the subscriber's soft_bounces goes up by one.
    Decision: the ``SOFT_BOUNCE_LIMIT``-th (5th) soft bounce is treated as a hard one
    (suppressed with reason "soft-bounce-limit", status "bounced") and counted as hard.
  * ``delivered``, ``relayed``, ``expanded``: nothing to do.
  * A recipient that is not a subscriber is counted (``unknown_recipient``) and nothing
    is changed: there is nobody to mark, and suppressing a stranger's address would only
    keep them from subscribing later.

- any other message (a reply, an auto-responder, a read receipt, a spam complaint) is
  counted as ignored;
- a message that cannot be read, has no header at all, or says it is a DSN but has no
  usable recipient block is **malformed**: reported with its Maildir key and left where it
  is (so the next run reports it again until someone looks), never stopping the run.

Every message that was read (DSN or ignored) is then moved to ``cur/`` with the ``S``
(seen) flag, and messages already carrying ``S`` in ``cur/`` are skipped: a second run
counts nothing twice. The store is changed before the message is moved, so a crash in
between can at worst count that one message again, never lose a hard bounce. (A mail
client that marks messages seen in the same Maildir hides them from us; point the bounce
address at a Maildir of its own.)
"""

from __future__ import annotations

import email
import os
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

from syndicate import people
from syndicate.errors import ConfigError
from syndicate.store import PeopleStore

SOFT_BOUNCE_LIMIT = 5
"""The soft bounce that makes an address count as hard-bounced (the 5th)."""

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_UNICODE_ESCAPE = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")
_COLON = ":"  # Maildir's separator between a message's unique name and its info ("2,FLAGS")


@dataclass
class BounceEvent:
    """One recipient of one DSN and what was done about it."""

    key: str  # the Maildir key of the DSN
    email: str  # the address as the DSN gives it (Original-Recipient, else Final-Recipient)
    kind: str  # hard, soft, unknown
    status: str  # e.g. 5.1.1 ('' when the DSN gave none)
    action: str  # failed, delayed
    diagnostic: str = ""  # the remote server's words, on one line


@dataclass
class BounceReport:
    """What one run did. hard, soft and unknown_recipient count recipients; ignored,
    malformed and skipped count messages."""

    hard: int = 0
    soft: int = 0
    ignored: int = 0
    unknown_recipient: int = 0
    malformed: int = 0
    skipped: int = 0  # already processed by an earlier run (in cur/ with the S flag)
    soft_limit_reached: int = 0  # of the hard ones: soft bounces that hit SOFT_BOUNCE_LIMIT
    problems: list[str] = field(default_factory=list)
    events: list[BounceEvent] = field(default_factory=list)

    def summary(self) -> str:
        """The one-line summary printed at the end of `bounces process`."""
        limit = f" ({self.soft_limit_reached} after repeated soft bounces)" * bool(
            self.soft_limit_reached
        )
        return (
            f"bounces: {self.hard} hard{limit}, {self.soft} soft, "
            f"{self.unknown_recipient} unknown recipients, {self.ignored} ignored, "
            f"{self.malformed} malformed, {self.skipped} already processed"
        )


class _Malformed(Exception):
    """This message cannot be used; the text says why."""


def process_bounces(
    store: PeopleStore, maildir_path: str | os.PathLike, *, soft_limit: int = SOFT_BOUNCE_LIMIT
) -> BounceReport:
    """Read every unprocessed message of a Maildir, act on the DSNs among them (see the
    module's docstring) and mark each one read as processed. Raises ConfigError when the
    path is not a Maildir; a bad message is reported in the result, never raised."""
    root = Path(maildir_path)
    if not (root / "new").is_dir() or not (root / "cur").is_dir():
        raise ConfigError(
            f"{root} is not a Maildir (no new/ and cur/ in it)",
            "give the directory the bounce address delivers into (it holds new/, cur/, tmp/)",
        )
    report = BounceReport()
    for key, subdir, name in _messages(root):
        flags = _flags(name)
        if subdir == "cur" and "S" in flags:
            report.skipped += 1
            continue
        try:
            raw = (root / subdir / name).read_bytes()
            recipients = _dsn_recipients(email.message_from_bytes(raw))
        except Exception as exc:  # whatever a broken file does to the parser, it is one file
            why = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
            why = why if isinstance(exc, _Malformed | OSError) else f"{type(exc).__name__}: {why}"
            report.malformed += 1
            report.problems.append(f"{key}: malformed ({why}); skipped")
            continue
        if recipients is None:
            report.ignored += 1
        else:
            for fields in recipients:
                _act(store, key, fields, report, soft_limit)
        _mark_seen(root, subdir, name, key, flags, report)
    return report


def _messages(root: Path) -> list[tuple[str, str, str]]:
    """(key, subdir, file name) of every message in new/ and cur/, as mailbox.Maildir
    names them (the key is the file name up to the colon)."""
    found = []
    for subdir in ("new", "cur"):
        for name in sorted(os.listdir(root / subdir)):
            if name.startswith(".") or not (root / subdir / name).is_file():
                continue
            found.append((name.split(_COLON)[0], subdir, name))
    return found


def _flags(name: str) -> str:
    info = name.split(_COLON, 1)[1] if _COLON in name else ""
    return info[2:] if info.startswith("2,") else ""


def _mark_seen(root: Path, subdir: str, name: str, key: str, flags: str, report) -> None:
    """Move a processed message to cur/ with the S flag (flags kept sorted, as Maildir asks)."""
    target = root / "cur" / f"{key}{_COLON}2,{''.join(sorted(set(flags) | {'S'}))}"
    try:
        os.rename(root / subdir / name, target)
    except OSError as exc:  # counted already; the next run may count it again
        report.problems.append(f"{key}: could not be marked processed ({exc.strerror})")


def _dsn_recipients(msg: Message) -> list[dict[str, str]] | None:
    """The per-recipient fields of a DSN (names lower-cased), or None when the message is
    not a DSN. Raises _Malformed for a message that cannot be a usable anything."""
    if not msg.keys():
        raise _Malformed("no mail headers")
    declared = (
        msg.get_content_type() == "multipart/report"
        and (msg.get_param("report-type") or "").lower() == "delivery-status"
    )
    parts = [p for p in msg.walk() if p.get_content_type() in _STATUS_TYPES]
    if not parts:
        if declared:
            raise _Malformed("a delivery-status report without a message/delivery-status part")
        return None
    blocks = [b for p in parts for b in _blocks(p)]
    recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    usable = [r for r in recipients if r.get("action") or _STATUS.search(r.get("status", ""))]
    if not usable:
        raise _Malformed("a delivery status notification without a per-recipient Action/Status")
    return usable


def _blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part, each as {lower-cased name: value}."""
    payload = part.get_payload()
    if not isinstance(payload, list):  # not parsed as a message/*: split the text here
        data = part.get_payload(decode=True) or b""
        return _text_blocks(data.decode(part.get_content_charset() or "utf-8", "replace"))
    # message/delivery-status: the parser split the blocks. message/global-delivery-status
    # is parsed like message/rfc822: the first block as headers, the rest as its body.
    blocks = []
    for b in payload:
        blocks.append({k.lower(): _text(v) for k, v in b.items()})
        rest = b.get_payload(decode=True)
        if isinstance(rest, bytes) and rest.strip():
            blocks += _text_blocks(rest.decode("utf-8", "replace"))
    return blocks


def _text_blocks(text: str) -> list[dict[str, str]]:
    chunks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))
    parser = HeaderParser()
    return [
        {k.lower(): _text(v) for k, v in parser.parsestr(c.strip("\n") + "\n\n").items()}
        for c in chunks
        if c.strip()
    ]


def _text(value) -> str:
    """A field value as text; raw UTF-8 (RFC 6533) that the parser kept as bytes, decoded."""
    text = str(value)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _address(value: str | None) -> str:
    """'rfc822; User@Example.org', 'RFC822;<u@x>', 'utf-8; …' or a bare address → the
    address, lower-cased ('' when there is none)."""
    if not value:
        return ""
    kind, sep, addr = value.partition(";")
    if not sep:
        kind, addr = "rfc822", kind
    addr = " ".join(addr.split()).strip().strip("<>").strip().rstrip(".")
    if kind.strip().lower() == "utf-8":
        addr = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), addr)
    return addr.lower() if "@" in addr else ""


def _act(store: PeopleStore, key: str, fields: dict[str, str], report: BounceReport, limit: int):
    status_match = _STATUS.search(fields.get("status", ""))
    status = status_match.group(0) if status_match else ""
    action = fields.get("action", "").strip().lower().split(" ")[0]
    if not action:  # lenient: an MTA that forgot Action still said what the Status means
        action = {"5": "failed", "4": "delayed"}.get(status[:1], "")
    if action == "failed" and status.startswith("5"):
        kind = "hard"
    elif action == "delayed" or (action == "failed" and not status.startswith("2")):
        kind = "soft"
    else:
        return  # delivered, relayed, expanded: not a bounce
    addresses = [
        _address(fields.get("original-recipient")),
        _address(fields.get("final-recipient")),
    ]
    addresses = [a for a in dict.fromkeys(addresses) if a]
    diagnostic = " ".join(fields.get("diagnostic-code", "").split())
    sub = next((s for s in map(store.subscriber, addresses) if s is not None), None)
    shown = addresses[0] if addresses else "(no address)"
    if sub is None:
        report.unknown_recipient += 1
        report.events.append(BounceEvent(key, shown, "unknown", status, action, diagnostic))
        report.problems.append(f"{key}: {shown} is not a subscriber; nothing changed")
        return
    if kind == "soft":
        if people.soft_bounced(store, sub, limit):
            kind = "hard"
            report.soft_limit_reached += 1
    else:
        people.bounced(store, sub.email, "hard-bounce", sub)
    report.hard += kind == "hard"
    report.soft += kind == "soft"
    report.events.append(BounceEvent(key, sub.email, kind, status, action, diagnostic))
