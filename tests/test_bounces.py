"""Bounces: a real Maildir of delivery status notifications (RFC 3464) read into a real store."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from support.cli import run_cli

from syndicate.deliver.bounces import SOFT_BOUNCE_LIMIT, process_bounces
from syndicate.errors import ConfigError
from syndicate.models import Subscriber
from syndicate.project.settings import load_config
from syndicate.store import open_store

# Postfix, "User unknown": a hard bounce, with the returned message's headers.
POSTFIX_HARD = b"""\
Return-Path: <>
Delivered-To: bounces@news.example.com
Received: by mx1.news.example.com (Postfix) id 4Vb2Kq0Y1Fz9sW; Fri, 10 May 2024 06:01:12 +0000
Date: Fri, 10 May 2024 06:01:12 +0000 (UTC)
From: MAILER-DAEMON@mx1.news.example.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces@news.example.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Vb2Kq0Y1Fz9sW.1715320872/mx1.news.example.com"
Message-Id: <20240510060112.4Vb2Kq0Y1Fz9sW@mx1.news.example.com>

This is a MIME-encapsulated message.

--4Vb2Kq0Y1Fz9sW.1715320872/mx1.news.example.com
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.news.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<gone@example.org>: host mx.example.org[203.0.113.25] said: 550 5.1.1
    <gone@example.org>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--4Vb2Kq0Y1Fz9sW.1715320872/mx1.news.example.com
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.news.example.com
X-Postfix-Queue-ID: 4Vb2Kq0Y1Fz9sW
X-Postfix-Sender: rfc822; bounces@news.example.com
Arrival-Date: Fri, 10 May 2024 06:01:11 +0000 (UTC)

Final-Recipient: rfc822; gone@example.org
Original-Recipient: rfc822;gone@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected:
    User unknown in virtual mailbox table

--4Vb2Kq0Y1Fz9sW.1715320872/mx1.news.example.com
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Harbour News <news@news.example.com>
To: Gone Reader <gone@example.org>
Subject: Harbour News: the day's stories
Message-ID: <171532087.1.gone@news.example.com>

--4Vb2Kq0Y1Fz9sW.1715320872/mx1.news.example.com--
"""

# Exim-style warning: mailbox full, still trying (Action: delayed, 4.2.2), and the address
# written in another case and inside angle brackets.
DELAYED_FULL = b"""\
Return-Path: <>
From: Mail Delivery System <Mailer-Daemon@relay.example.net>
To: bounces@news.example.com
Subject: Warning: message 1s4XQ3-000Abc-2N delayed 24 hours
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type="Delivery-Status"; boundary="1715407200-eximdsn-42"
Date: Sat, 11 May 2024 06:00:00 +0000

--1715407200-eximdsn-42
Content-type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.
A message that you sent has not yet been delivered to one or more of its
recipients after more than 24 hours on the queue on relay.example.net.

  Full.Box@Example.ORG
    Delay reason: mailbox is full

--1715407200-eximdsn-42
Content-type: message/delivery-status

Reporting-MTA: dns; relay.example.net

Action: delayed
Final-Recipient: RFC822;<Full.Box@Example.ORG>
Status: 4.2.2
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full
Will-Retry-Until: Mon, 13 May 2024 06:00:00 +0000

--1715407200-eximdsn-42--
"""

# One DSN, three recipients: one a subscriber in capitals, one a stranger, one delivered.
MULTI = b"""\
From: postmaster@mx.example.net
To: bounces@news.example.com
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Delivery to some recipients failed.
--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Original-Recipient: rfc822; OTHER.Gone@Example.org
Final-Recipient: rfc822; forwarded-to@elsewhere.example
Action: failed
Status: 5.0.0 (permanent failure)

Final-Recipient: rfc822; stranger@example.org
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; gone@example.org
Action: delivered
Status: 2.0.0
--b1--
"""

NOT_A_DSN = b"""\
From: Ana Reader <ana@example.org>
To: bounces@news.example.com
Subject: Out of office: Harbour News: the day's stories
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=utf-8

I am away until Monday.
"""

# A read receipt (RFC 8098) is a multipart/report too, but not about delivery.
RECEIPT = b"""\
From: raj@example.org
To: bounces@news.example.com
Subject: Read: Harbour News
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="r"

--r
Content-Type: text/plain

Your message was displayed.
--r
Content-Type: message/disposition-notification

Final-Recipient: rfc822; raj@example.org
Disposition: manual-action/MDN-sent-manually; displayed
--r--
"""

GARBLED = bytes(range(256)) * 8  # not even a header

# Says it is a DSN, but was cut off before any per-recipient block.
TRUNCATED = b"""\
From: MAILER-DAEMON@mx.example.net
To: bounces@news.example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="t"

--t
Content-Type: text/plain

Sorry.
--t
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
"""


def soft_dsn(address: str, n: int) -> bytes:
    """A minimal delayed-delivery DSN for one address."""
    return (
        f"From: MAILER-DAEMON@relay.example.net\nTo: bounces@news.example.com\n"
        f"Subject: Delayed Mail (still being retried) {n}\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="s{n}"\n\n'
        f"--s{n}\nContent-Type: text/plain\n\nStill trying.\n"
        f"--s{n}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay\n\n"
        f"Final-Recipient: rfc822; {address}\nAction: delayed\nStatus: 4.4.1\n"
        f"--s{n}--\n"
    ).encode()


SUBSCRIBERS = ["gone@example.org", "full.box@example.org", "other.gone@example.org",
               "ana@example.org", "often.full@example.org"]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path):
    project = tmp_path / "proj"
    run_cli("init", str(project), "--site-url", "https://news.example.com/", check=0)
    store = open_store(load_config(project).store_url)
    for email in SUBSCRIBERS:
        store.save_subscriber(Subscriber(email, email.split("@")[0], "active", ["daily"]))
    try:
        yield store
    finally:
        store.close()


def maildir(path: Path, messages: dict[str, bytes], seen_in_cur: str | None = None) -> Path:
    """A Maildir with these messages in new/ (one, by name, in cur/ without flags)."""
    box = mailbox.Maildir(path, create=True)
    for name, data in messages.items():
        msg = mailbox.MaildirMessage(data)
        if name == seen_in_cur:
            msg.set_subdir("cur")
        box.add(msg)
    box.close()
    return path


def files(path: Path, subdir: str) -> list[str]:
    return sorted(p.name for p in (path / subdir).iterdir())


def test_hard_soft_ignored_malformed_and_idempotent(store, tmp_path):
    box = maildir(
        tmp_path / "bounces",
        {"hard": POSTFIX_HARD, "soft": DELAYED_FULL, "multi": MULTI, "ooo": NOT_A_DSN,
         "receipt": RECEIPT, "truncated": TRUNCATED},
        seen_in_cur="multi",  # a message already in cur/ (a client looked) is still read
    )  # fmt: skip
    garbled_key = "1715320000.M1P1.garbled"
    (box / "new" / garbled_key).write_bytes(GARBLED)

    report = process_bounces(store, box)

    assert (report.hard, report.soft, report.unknown_recipient) == (2, 1, 1), report
    assert (report.ignored, report.malformed, report.skipped) == (2, 2, 0), report
    # Hard: suppressed and bounced; via Original-Recipient in another case too.
    for email in ("gone@example.org", "other.gone@example.org"):
        assert store.subscriber(email).status == "bounced"
    assert store.suppressed(["gone@example.org", "OTHER.GONE@example.org"]) == {
        "gone@example.org",
        "OTHER.GONE@example.org",
    }
    # Soft: counted, still active, not suppressed.
    full = store.subscriber("full.box@example.org")
    assert (full.status, full.soft_bounces) == ("active", 1)
    assert not store.suppressed(["full.box@example.org"])
    # The stranger is reported, and nothing is stored about them.
    assert store.subscriber("stranger@example.org") is None
    assert not store.suppressed(["stranger@example.org"])
    assert any("stranger@example.org is not a subscriber" in p for p in report.problems)
    # The untouched: the out-of-office sender, the delivered recipient's count.
    ana = store.subscriber("ana@example.org")
    assert (ana.status, ana.soft_bounces) == ("active", 0)
    assert store.subscriber("gone@example.org").soft_bounces == 0
    # Each malformed message is named by its Maildir key.
    malformed = [p for p in report.problems if "malformed" in p]
    assert len(malformed) == 2
    assert any(p.startswith(garbled_key + ": malformed") for p in malformed)
    events = {(e.email, e.kind, e.status) for e in report.events}
    assert ("gone@example.org", "hard", "5.1.1") in events
    assert ("full.box@example.org", "soft", "4.2.2") in events
    assert ("other.gone@example.org", "hard", "5.0.0") in events
    hard = next(e for e in report.events if e.email == "gone@example.org")
    assert "User unknown in virtual mailbox table" in hard.diagnostic
    assert report.summary() == (
        "bounces: 2 hard, 1 soft, 1 unknown recipients, 2 ignored, 2 malformed, 0 already processed"
    )

    # Read messages are in cur/ with the S flag; malformed ones are left where they were.
    truncated_key = next(p.split(": ")[0] for p in malformed if "per-recipient" in p)
    assert files(box, "new") == sorted([garbled_key, truncated_key])
    cur = files(box, "cur")
    assert len(cur) == 5 and all(name.endswith(":2,S") for name in cur), cur

    # A second run counts nothing twice, and reports the malformed ones again.
    again = process_bounces(store, box)
    assert (again.hard, again.soft, again.ignored, again.unknown_recipient) == (0, 0, 0, 0)
    assert (again.malformed, again.skipped) == (2, 5)
    assert store.subscriber("full.box@example.org").soft_bounces == 1

    # A new DSN arriving later is picked up alone.
    box_again = mailbox.Maildir(box, create=False)
    box_again.add(soft_dsn("Full.Box@example.org", 9))
    third = process_bounces(store, box)
    assert (third.soft, third.skipped, third.malformed) == (1, 5, 2)
    assert store.subscriber("full.box@example.org").soft_bounces == 2


def test_repeated_soft_bounces_become_hard(store, tmp_path):
    box = maildir(
        tmp_path / "bounces",
        {str(n): soft_dsn("often.full@example.org", n) for n in range(SOFT_BOUNCE_LIMIT)},
    )
    report = process_bounces(store, box)
    assert (report.soft, report.hard, report.soft_limit_reached) == (SOFT_BOUNCE_LIMIT - 1, 1, 1)
    sub = store.subscriber("often.full@example.org")
    assert (sub.status, sub.soft_bounces) == ("bounced", SOFT_BOUNCE_LIMIT)
    assert store.suppressed(["often.full@example.org"]) == {"often.full@example.org"}
    assert "(1 after repeated soft bounces)" in report.summary()


def test_unsubscribed_stays_unsubscribed_but_is_suppressed(store, tmp_path):
    sub = store.subscriber("gone@example.org")
    sub.status = "unsubscribed"
    store.save_subscriber(sub)
    report = process_bounces(store, maildir(tmp_path / "b", {"hard": POSTFIX_HARD}))
    assert report.hard == 1
    assert store.subscriber("gone@example.org").status == "unsubscribed"
    assert store.suppressed(["gone@example.org"]) == {"gone@example.org"}


def test_not_a_maildir(store, tmp_path):
    with pytest.raises(ConfigError, match="not a Maildir"):
        process_bounces(store, tmp_path / "nowhere")


def test_empty_maildir(store, tmp_path):
    report = process_bounces(store, maildir(tmp_path / "empty", {}))
    assert report.summary() == (
        "bounces: 0 hard, 0 soft, 0 unknown recipients, 0 ignored, 0 malformed, 0 already processed"
    )


# RFC 6533: an internationalized address, once escaped and once in raw UTF-8.
GLOBAL_DSN = """\
From: MAILER-DAEMON@mx.example.de
To: bounces@news.example.com
Subject: Undeliverable
MIME-Version: 1.0
Content-Type: multipart/report; report-type=global-delivery-status; boundary="g"

--g
Content-Type: text/plain

Not delivered.
--g
Content-Type: message/global-delivery-status

Reporting-MTA: dns; mx.example.de

Final-Recipient: utf-8; j\\x{F6}rg@example.de
Action: failed
Status: 5.1.1

Final-Recipient: utf-8; zoë@example.de
Action: delayed
Status: 4.2.2
--g--
""".encode()


def test_global_delivery_status(store, tmp_path):
    for email in ("jörg@example.de", "zoë@example.de"):
        store.save_subscriber(Subscriber(email, "", "active", ["daily"]))
    report = process_bounces(store, maildir(tmp_path / "b", {"g": GLOBAL_DSN}))
    assert (report.hard, report.soft, report.unknown_recipient) == (1, 1, 0), report
    assert store.subscriber("jörg@example.de").status == "bounced"
    assert store.subscriber("zoë@example.de").soft_bounces == 1
