"""Subscribers through the real command line and a real SMTP server: status changes that
would be untrue are refused (and brought about with a recorded reason), erasure leaves
the person in no table, one person's data exported, an import that asks before it mails."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from support.cli import run_cli
from support.projects import add_stories, mail_project

from syndicate import people
from syndicate.models import Edition, Subscriber
from syndicate.project.settings import load_config
from syndicate.store import Store, open_store


@contextmanager
def _store(project: Path) -> Iterator[Store]:
    store = open_store(load_config(project).store_url)
    try:
        yield store
    finally:
        store.close()


def _export(project: Path, email: str, env: dict | None = None) -> dict:
    proc = run_cli("subscribers", "export", "--email", email, project=project, env=env, check=0)
    return json.loads(proc.stdout)


def _later(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_attested_consent_is_refused_for_what_an_address_was(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    run_cli("subscribers", "add", "erased@example.org", "--confirmed", project=project, check=0)
    run_cli("subscribers", "erase", "erased@example.org", project=project, check=0)
    with _store(project) as store:
        for who in ("bounced", "complained", "left"):
            store.save_subscriber(
                Subscriber(f"{who}@example.org", who.title(), "active", ["daily"])
            )
        people.bounced(store, "bounced@example.org", "hard-bounce")
        store.suppress("complained@example.org", "complaint")
        people.unsubscribe(store, "left@example.org", "daily")
    for address, says in [
        ("erased@example.org", "erased@example.org was erased on "),
        ("Bounced@Example.org", "bounced@example.org bounced on "),
        ("complained@example.org", "complained@example.org complained on "),
        ("left@example.org", "left@example.org unsubscribed (their own choice)"),
    ]:
        proc = run_cli("subscribers", "add", address, "--confirmed", project=project)
        assert proc.returncode == 1, proc.stdout
        assert proc.stdout == ""  # never "active"
        [line] = proc.stderr.splitlines()
        assert line.startswith(f"error: {says}") and "nothing changed" in line, line
        assert "--reactivate --reason" in line and "without --confirmed" in line
    assert (
        "(hard-bounce: the mailbox does not take mail)"
        in run_cli(
            "subscribers", "add", "bounced@example.org", "--confirmed", project=project
        ).stderr
    )
    listed = run_cli("subscribers", "list", project=project, check=0).stdout
    assert "bounced@example.org\tBounced\tbounced" in listed
    assert "left@example.org\tLeft\tunsubscribed" in listed
    assert "erased@" not in listed


def test_reactivate_needs_a_reason_and_records_it_with_who_and_when(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1)
    with _store(project) as store:
        store.save_subscriber(Subscriber("ann@example.org", "Ann", "active", ["daily"]))
        people.bounced(store, "ann@example.org", "hard-bounce")
    bare = run_cli("subscribers", "add", "ann@example.org", "--reactivate", project=project)
    assert bare.returncode == 2 and "error: --reactivate needs --reason" in bare.stderr
    stray = run_cli("subscribers", "add", "x@example.org", "--reason", "why", project=project)
    assert stray.returncode == 2 and "--reason goes with --reactivate" in stray.stderr
    why = "Asked by phone on 2 Dec; new mailbox works"
    done = run_cli(
        "subscribers", "add", "ann@example.org", "--reactivate", "--reason", why,
        project=project, check=0,
    )  # fmt: skip
    assert done.stdout.strip() == "ann@example.org: active (daily)"
    exported = _export(project, "ann@example.org")
    assert exported["subscriber"]["status"] == "active"
    assert exported["suppression"] is None
    [record] = exported["reactivations"]
    assert record["was"] == "bounced" and record["detail"] == "hard-bounce"
    assert record["reason"] == why
    assert re.fullmatch(r".+@.+", record["by"])  # user@host of whoever ran it
    assert datetime.fromisoformat(record["at"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert datetime.fromisoformat(record["since"]) <= datetime.fromisoformat(record["at"])
    # Back for real: the next edition reaches her.
    sent = run_cli("send", "daily", project=project, check=0)
    assert "2 sent" in sent.stdout and "0 skipped" in sent.stdout, sent.stdout
    assert len(smtp.to("ann@example.org")) == 1
    # An erased address comes back the same way.
    run_cli("subscribers", "erase", "ann@example.org", project=project, check=0)
    run_cli(
        "subscribers", "add", "ann@example.org", "--reactivate", "--reason", "Asked again",
        project=project, check=0,
    )  # fmt: skip
    assert [r["was"] for r in _export(project, "ann@example.org")["reactivations"]] == ["erased"]


def test_status_never_counts_a_suppressed_address_as_active(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 3)
    with _store(project) as store:
        # Written before suppressions were checked (or by hand): active, yet suppressed.
        store.suppress("reader1@example.org", "hard-bounce")
        store.suppress("reader2@example.org", "erased")
    shown = run_cli("status", project=project, check=0).stdout
    assert "subscribers:  3 (1 active, 2 suppressed)" in shown, shown
    sent = run_cli("send", "daily", project=project, check=0)
    assert "1 sent" in sent.stdout and "2 skipped" in sent.stdout


def _dump(url: str) -> dict[str, str]:
    """Every table of the store as text: each row's values, one row a line."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: "\n".join(
                    " | ".join(map(str, row))
                    for row in conn.execute(text(f'SELECT * FROM "{name}"'))
                )
                for name in inspect(conn).get_table_names()
            }
    finally:
        engine.dispose()


def test_erase_leaves_the_address_and_name_in_no_table(tmp_path, smtp, store_url, monkeypatch):
    monkeypatch.setenv("SYNDICATE_STORE__URL", store_url)  # mail_project's own store calls
    env = {"SYNDICATE_STORE__URL": store_url}
    project = mail_project(tmp_path, smtp, 2)
    ann = "ann.quux@example.org"
    run_cli(
        "subscribers", "add", ann, "--name", "Ann Quux", "--confirmed", project=project, env=env,
        check=0,
    )  # fmt: skip
    run_cli("send", "daily", project=project, env=env, check=0)  # one sent to her
    smtp.faults.at_data[ann] = [f"554 5.7.1 <{ann}> refused for Ann Quux"]
    add_stories(project, [5])
    run_cli("send", "daily", "--slot", _later(5), project=project, env=env)  # one failed
    with _store(project) as store:  # and one not sent yet, a bounce, a reactivation
        edition, _ = store.save_edition(
            Edition("daily", datetime.now(UTC) + timedelta(hours=1), None, datetime.now(UTC))
        )
        store.add_deliveries(edition.id, [store.subscriber(ann)])
        people.bounced(store, ann, "hard-bounce")
    run_cli(
        "subscribers", "add", ann, "--reactivate", "--reason", "Ann Quux asked by phone",
        project=project, env=env, check=0,
    )  # fmt: skip
    before = _export(project, ann, env)
    assert [d["status"] for d in before["deliveries"]] == ["sent", "failed", "pending"]
    message_ids = [d["message_id"] for d in before["deliveries"] if d["message_id"]]
    assert message_ids and before["reactivations"]
    with _store(project) as store:
        counts = store.delivery_counts()

    erased = run_cli("subscribers", "erase", ann, project=project, env=env, check=0)
    assert f"{ann}: erased; 3 messages kept as anonymous counts" in erased.stdout

    dump = _dump(store_url)
    digest = hashlib.sha256(ann.encode()).hexdigest()
    assert [t for t, content in dump.items() if digest in content] == ["suppressions"]
    # Her id is the hash's first characters: the suppression list is the one place for it.
    dump["suppressions"] = dump["suppressions"].replace(digest, "HASH")
    needles = [ann, "Ann Quux", "Quux", Subscriber(ann).id, *message_ids]
    for table, content in dump.items():
        for needle in needles:
            assert needle.lower() not in content.lower(), (table, needle)
    # The others are all there, and the ledger's counts stand (the unsent row: skipped).
    assert "reader0@example.org" in dump["subscribers"] and "Reader 1" in dump["deliveries"]
    with _store(project) as store:
        after = store.delivery_counts()
        assert store.suppressed([ann]) == {ann}
    assert counts == {"sent": 5, "failed": 1, "pending": 1}
    assert after == {"sent": 5, "failed": 1, "skipped": 1}
    # What is kept of her now: that the address is suppressed, nothing else.
    left = _export(project, ann, env)
    assert left["subscriber"] is None and left["deliveries"] == []
    assert left["reactivations"] == [] and left["suppression"]["reason"] == "erased"


def test_export_one_person(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1)
    with _store(project) as store:
        sub, _ = people.subscribe(store, "bo@example.org", "Bo", ["daily"], False, "203.0.113.7")
        people.confirm(store, sub.id, "203.0.113.8")
        people.soft_bounced(store, store.subscriber(sub.id), 5)
    run_cli("send", "daily", project=project, check=0)
    got = _export(project, "BO@example.org")
    assert got["email"] == "bo@example.org"
    person = got["subscriber"]
    assert person["name"] == "Bo" and person["status"] == "active"
    assert person["subscriptions"] == ["daily"] and person["soft_bounces"] == 1
    consent = person["consent"]
    assert consent["subscribed_ip"] == "203.0.113.7" and consent["confirmed_ip"] == "203.0.113.8"
    assert datetime.fromisoformat(consent["subscribed_at"]) <= datetime.fromisoformat(
        consent["confirmed_at"]
    )
    assert got["suppression"] is None and got["reactivations"] == []
    [delivery] = got["deliveries"]
    [received] = smtp.to("bo@example.org")
    assert delivery["digest"] == "daily" and delivery["status"] == "sent"
    assert delivery["subject"] == str(received.message["Subject"])
    assert delivery["message_id"] == received.message["Message-ID"]
    assert datetime.fromisoformat(delivery["sent_at"]) and isinstance(delivery["edition"], int)
    unknown = run_cli("subscribers", "export", "--email", "nobody@example.org", project=project)
    assert unknown.returncode == 1 and unknown.stdout == ""
    [line] = unknown.stderr.splitlines()
    assert line.startswith("error: nothing is kept about 'nobody@example.org'")
    csv = run_cli("subscribers", "export", "--email", "bo@example.org", "--format", "csv",
                  project=project)  # fmt: skip
    assert csv.returncode == 2


def _list_csv(tmp_path: Path, n: int, *extra: str) -> Path:
    path = tmp_path / "list.csv"
    rows = [f"new{i}@example.org,New {i}" for i in range(n)]
    path.write_text("email,name\n" + "\n".join([*rows, *extra]) + "\n", encoding="utf-8")
    return path


def _rate(project: Path, rate: int) -> None:
    cfg = project / "syndicate.toml"
    cfg.write_text(cfg.read_text().replace("?pool=2", f"?pool=2&rate={rate}"))


def test_import_without_a_terminal_asks_for_yes_and_changes_nothing(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    path = _list_csv(tmp_path, 3)
    proc = run_cli("subscribers", "import", str(path), project=project)
    assert proc.returncode == 2
    error, hint = proc.stderr.splitlines()
    assert error == (
        f"error: {path}: importing sends 3 confirmation emails and there is no terminal to ask"
    )
    assert hint.startswith("hint: add --yes to send them")
    assert run_cli("subscribers", "list", project=project, check=0).stdout == ""
    assert smtp.received == []


def test_import_sends_at_the_rate_over_one_connection_and_reports_each_failure(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    _rate(project, 10)
    with _store(project) as store:
        store.suppress("gone@example.org", "hard-bounce")
    smtp.faults.at_rcpt["new5@example.org"] = "550 5.1.1 <new5@example.org>: no such user"
    path = _list_csv(tmp_path, 6, "gone@example.org,Gone")
    proc = run_cli("subscribers", "import", str(path), "--yes", project=project)
    assert proc.returncode == 1  # one refused, one left out
    assert f"{path}:8: gone@example.org bounced on " in proc.stderr
    assert "row skipped" in proc.stderr
    assert "failed: confirmation to new5@example.org: 550 5.1.1" in proc.stderr
    assert proc.stdout.splitlines()[-1] == (
        "imported: 6 new, 0 updated, 1 problems, 6 confirmations (1 not sent; add them again later)"
    )
    got = sorted(smtp.received, key=lambda r: r.at)
    assert [r.recipients for r in got] == [[f"new{i}@example.org"] for i in range(5)]
    assert len({r.peer for r in got}) == 1  # one connection for all
    # rate = 10 a second: five messages take at least four tenths of a second.
    assert got[-1].at - got[0].at >= 0.35
    assert "/confirm/" in got[0].message.get_body(("plain",)).get_content()


def _import_on_a_terminal(project: Path, path: Path, answer: bytes) -> tuple[int, str]:
    """`subscribers import PATH` with a terminal (a pty) on stdin that answers answer."""
    main, child = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    cmd = [sys.executable, "-m", "syndicate", "--project", str(project)]
    proc = subprocess.Popen(
        [*cmd, "subscribers", "import", str(path)],
        stdin=child, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    os.close(child)
    try:
        os.write(main, answer)
        out = proc.communicate(timeout=120)[0].decode()
    finally:
        os.close(main)
    return proc.returncode, out


@pytest.mark.parametrize("answer", [b"n\n", b"y\n"])
def test_import_on_a_terminal_says_how_many_and_asks(tmp_path, smtp, answer):
    project = mail_project(tmp_path, smtp, 0)
    _rate(project, 50)
    path = _list_csv(tmp_path, 2)
    code, out = _import_on_a_terminal(project, path, answer)
    assert (
        f"2 confirmation emails will be sent now via smtp://127.0.0.1:{smtp.port} (pool 2), "
        "at most 50 a second. Send them? [y/N]"
    ) in out
    listed = run_cli("subscribers", "list", project=project, check=0).stdout
    if answer == b"n\n":
        assert code == 1 and "import cancelled; nothing changed" in out
        assert listed == "" and smtp.received == []
    else:
        assert code == 0, out
        assert "imported: 2 new, 0 updated, 0 problems, 2 confirmations" in out
        assert listed.count("\tpending\t") == 2 and len(smtp.received) == 2
