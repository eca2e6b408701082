"""Delivery through a real SMTP server (aiosmtpd): the ledger, faults, crashes, subscribers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.cli import run_cli
from support.projects import add_stories, mail_project

from syndicate.project.settings import load_config
from syndicate.store import open_store

BASE = "https://news.example.com"


def counts(project: Path) -> dict[str, int]:
    store = open_store(load_config(project).store_url)
    try:
        return store.delivery_counts()
    finally:
        store.close()


def test_send_delivers_one_message_per_subscriber_once(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 20)
    first = run_cli("send", "daily", project=project, check=0)
    assert "sent: 20 sent, 0 deferred, 0 failed, 0 skipped" in first.stdout, first.stdout
    assert len(smtp.received) == 20
    for i in range(20):
        [got] = smtp.to(f"reader{i}@example.org")
        msg = got.message
        assert msg["To"].addresses[0].display_name == f"Reader {i}"
        assert str(msg["List-Unsubscribe"]).startswith("<https://news.example.com/unsubscribe/")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert got.sender == "news@news.example.com"
    again = run_cli("send", "daily", project=project, check=0)
    assert len(smtp.received) == 20, again.stdout  # never twice
    assert counts(project) == {"sent": 20}


def test_faults_are_retried_refused_or_suppressed(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 12)
    smtp.faults.at_data["reader1@example.org"] = ["421 4.7.0 Try again later"]
    smtp.faults.at_data["reader2@example.org"] = ["451 4.3.0 Busy", "451 4.3.0 Busy"]
    smtp.faults.at_data["reader3@example.org"] = ["drop"]
    smtp.faults.at_rcpt["reader4@example.org"] = "550 5.1.1 <reader4@example.org>: no such user"
    smtp.faults.at_data["reader5@example.org"] = ["554 5.7.1 Message rejected as spam"]
    proc = run_cli("send", "daily", project=project)
    assert proc.returncode == 1  # two failed for good
    assert "sent: 10 sent, 0 deferred, 2 failed" in proc.stdout, proc.stdout
    for i in (0, 1, 2, 3, 6, 7, 8, 9, 10, 11):
        assert len(smtp.to(f"reader{i}@example.org")) == 1, i
    assert not smtp.to("reader4@example.org") and not smtp.to("reader5@example.org")
    assert "no such mailbox, address suppressed" in proc.stderr
    listed = run_cli("subscribers", "list", project=project, check=0).stdout
    assert "reader4@example.org\tReader 4\tbounced" in listed
    assert "reader5@example.org\tReader 5\tactive" in listed  # a refusal is not a bounce
    # The next edition skips the bounced address.
    add_stories(project, [7])
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    run_cli("send", "daily", "--slot", later, project=project)
    assert len(smtp.to("reader4@example.org")) == 0
    assert len(smtp.to("reader0@example.org")) == 2


@pytest.mark.parametrize("pool", [1, 2])
def test_a_killed_send_resumes_and_loses_nothing(tmp_path, smtp, pool):
    subscribers = 300
    project = mail_project(tmp_path, smtp, subscribers, pool=pool)
    smtp.faults.delay = 0.004  # a server slow enough to kill the sender mid-way
    cmd = [sys.executable, "-m", "syndicate", "--project", str(project), "send", "daily"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    kills = 0
    for wait in (0.8, 0.5, 0.5):
        before = len(smtp.received)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while len(smtp.received) < before + 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(wait)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    final = run_cli("send", "daily", project=project, check=0)
    assert kills >= 2, "the send finished before it could be killed"
    got: dict[str, int] = {}
    for r in smtp.received:
        for rcpt in r.recipients:
            got[rcpt] = got.get(rcpt, 0) + 1
    assert len(got) == subscribers, final.stdout  # everyone got the edition
    duplicates = sum(n - 1 for n in got.values())
    # What a kill can cost: the message each connection had handed over and not yet marked
    # sent (the server took it; its 250 never reached the ledger). One connection: at most
    # one message per kill.
    assert duplicates <= kills * pool, (duplicates, kills)
    assert counts(project) == {"sent": subscribers}


def test_dry_run_and_test_copy_leave_the_ledger_alone(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 5)
    out = tmp_path / "dry"
    dry = run_cli("send", "daily", "--dry-run", "--out", str(out), project=project, check=0)
    assert "5 messages written" in dry.stdout and len(list(out.glob("*.eml"))) == 5
    copy = run_cli("send", "daily", "--to", "editor@example.org", project=project, check=0)
    assert "test copy sent" in copy.stdout
    assert len(smtp.received) == 1 and smtp.to("editor@example.org")
    assert counts(project) == {}


def test_subscribers_commands(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    csv = tmp_path / "list.csv"
    csv.write_text(
        "Email,Name\nann@example.org,Ann\nnot-an-address,X\nANN@Example.org,Ann B\n"
        "bob@example.org,Bob\n",
        encoding="utf-8",
    )
    imported = run_cli("subscribers", "import", str(csv), "--confirmed", project=project)
    assert imported.returncode == 1  # a bad row, reported; the good ones kept
    assert f"{csv}:3: 'not-an-address'" in imported.stderr
    assert "repeats line 2; merged" in imported.stderr
    assert "2 new, 0 updated, 2 problems, 0 confirmations" in imported.stdout  # ann merged
    added = run_cli("subscribers", "add", "Carol@Example.org", "--name", "Carol", project=project)
    assert (
        "carol@example.org: pending" in added.stdout and "confirmation email sent" in added.stdout
    )
    [confirmation] = smtp.to("carol@example.org")
    assert "/confirm/" in confirmation.message.get_body(("plain",)).get_content()
    listed = run_cli("subscribers", "list", project=project, check=0).stdout.splitlines()
    assert listed == [
        "ann@example.org\tAnn B\tactive\tdaily",
        "bob@example.org\tBob\tactive\tdaily",
        "carol@example.org\tCarol\tpending\tdaily",
    ]
    exported = run_cli("subscribers", "export", "--format", "json", project=project, check=0)
    assert exported.stdout.count("\n") == 3 and '"status": "pending"' in exported.stdout
    run_cli("subscribers", "erase", "bob@example.org", project=project, check=0)
    assert "bob@" not in run_cli("subscribers", "list", project=project).stdout
    # Erased, then added again with attested consent: refused, so never mailed.
    again = run_cli("subscribers", "add", "bob@example.org", "--confirmed", project=project)
    assert again.returncode == 1 and "bob@example.org was erased on " in again.stderr
    sent = run_cli("send", "daily", project=project, check=0)
    assert "1 sent" in sent.stdout and "0 skipped" in sent.stdout
    assert not smtp.to("bob@example.org")
    bad = run_cli("subscribers", "add", "nope", project=project)
    assert bad.returncode == 2 and "not an email address" in bad.stderr


def test_two_sends_at_once_never_deliver_twice(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 200)
    smtp.faults.delay = 0.002
    run_cli("send", "daily", "--dry-run", project=project, check=0)  # warm: nothing sent
    slot = datetime.now(UTC).replace(second=0, microsecond=0).isoformat()
    cmd = [sys.executable, "-m", "syndicate", "--project", str(project), "send", "daily"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    procs = [
        subprocess.Popen([*cmd, "--slot", slot], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    got: dict[str, int] = {}
    for r in smtp.received:
        for rcpt in r.recipients:
            got[rcpt] = got.get(rcpt, 0) + 1
    assert len(got) == 200 and max(got.values()) == 1, outputs
    assert counts(project) == {"sent": 200}


def test_a_send_pauses_after_failures_in_a_row(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 30)
    cfg = project / "syndicate.toml"
    cfg.write_text(cfg.read_text().replace("pause_after = 50", "pause_after = 5"))
    for i in range(30):
        smtp.faults.at_data[f"reader{i}@example.org"] = ["554 5.7.1 Refused"]
    proc = run_cli("send", "daily", project=project)
    assert proc.returncode == 1
    assert "PAUSED: 5 failures in a row" in proc.stdout
    assert counts(project).get("pending", 0) >= 20  # the rest kept for a later send


def test_bounces_process_command_suppresses_hard_bounces(tmp_path, smtp):
    import mailbox

    project = mail_project(tmp_path, smtp, 2)
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(
        b"From: MAILER-DAEMON@mx.example.org\r\nTo: news@news.example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.org\r\n\r\n"
        b"Final-Recipient: rfc822; Reader1@Example.org\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n--B--\r\n"
    )
    proc = run_cli("bounces", "process", str(tmp_path / "bounces"), project=project, check=0)
    assert "1 hard" in proc.stdout
    listed = run_cli("subscribers", "list", project=project, check=0).stdout
    assert "reader1@example.org\tReader 1\tbounced" in listed
    sent = run_cli("send", "daily", project=project, check=0)
    assert "1 sent" in sent.stdout and not smtp.to("reader1@example.org")
    again = run_cli("bounces", "process", str(tmp_path / "bounces"), project=project, check=0)
    assert "0 hard" in again.stdout and "1 already processed" in again.stdout


def test_deployment_settings_come_from_the_environment(tmp_path, smtp):
    """SYNDICATE_MAIL__URL, SYNDICATE_WEB__PUBLIC_URL and SYNDICATE_SECRET_KEY beat the
    project's files: the file says maildir, a local URL and a key file."""
    from syndicate.tokens import Tokens

    project = mail_project(tmp_path, smtp, 2)
    cfg = project / "syndicate.toml"
    text = re.sub(r'url = "smtp://[^"]*"', 'url = "maildir:public/outbox"', cfg.read_text())
    cfg.write_text(text.replace("https://news.example.com", "http://127.0.0.1:8080"))
    env = {
        "SYNDICATE_MAIL__URL": f"smtp://127.0.0.1:{smtp.port}?pool=1",
        "SYNDICATE_WEB__PUBLIC_URL": "https://mail.example.net",
        "SYNDICATE_SECRET_KEY": "from-the-environment",
    }
    run_cli("send", "daily", project=project, env=env, check=0)
    assert not (project / "public" / "outbox").exists()
    message = smtp.to("reader0@example.org")[0].message
    link = re.search(
        r"<(https://mail\.example\.net/unsubscribe/([^>]+))>", message["List-Unsubscribe"]
    )
    assert link, message["List-Unsubscribe"]
    assert Tokens("from-the-environment").read_unsubscribe(link.group(2)) is not None
    assert (
        Tokens((project / ".secret-key").read_text().strip()).read_unsubscribe(link.group(2))
        is None
    )


def test_a_registered_scheme_opens_its_transport_and_unknown_ones_name_the_known(
    tmp_path, monkeypatch
):
    from syndicate import deliver
    from syndicate.deliver.maildir import MaildirTransport
    from syndicate.deliver.smtp import SMTPTransport
    from syndicate.errors import ConfigError
    from syndicate.project import mailurl

    # Copies: the scheme registered here does not outlive the test.
    monkeypatch.setattr(deliver, "TRANSPORTS", dict(deliver.TRANSPORTS))
    monkeypatch.setattr(mailurl, "MAIL_SCHEMES", dict(mailurl.MAIL_SCHEMES))
    outbox = MaildirTransport(tmp_path / "box")
    opened = []

    @deliver.register_transport("pigeon", "pigeons")
    def pigeon(url: str, project: Path) -> deliver.Transport:
        opened.append((url, project))
        return outbox

    assert deliver.open_transport("pigeon://loft?pool=2", tmp_path) is outbox
    assert deliver.open_transport("pigeons://loft", tmp_path) is outbox
    assert opened == [("pigeon://loft?pool=2", tmp_path), ("pigeons://loft", tmp_path)]
    assert mailurl.mail_url_problems("pigeons://loft") == []  # the settings know it too
    # The built-in schemes still open what they did.
    assert isinstance(deliver.open_transport("smtps://mail.example.org", tmp_path), SMTPTransport)
    maildir = deliver.open_transport("maildir:public/outbox", tmp_path)
    assert maildir.describe() == f"maildir:{tmp_path / 'public' / 'outbox'}"
    with pytest.raises(ConfigError, match="mail.url 'fax:'… is not a known transport") as err:
        deliver.open_transport("fax://555-0100", tmp_path)
    assert "maildir:, pigeon:, pigeons:, smtp:, smtps:" in err.value.hint


def test_importing_deliver_imports_no_transport():
    """The built-in transports are imported when opened, not with the package."""
    probe = (
        "import sys, syndicate.deliver as d; "
        "print(sorted(d.TRANSPORTS), 'syndicate.deliver.smtp' in sys.modules, "
        "'smtplib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['maildir', 'smtp', 'smtps'] False False"
