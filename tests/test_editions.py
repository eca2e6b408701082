"""Editions an editor can trust: no story dropped, no empty or double mailing, an approval
step, one Message-ID per (edition, subscriber), and a send that says what went wrong. Real
`syndicate` processes against the test SMTP server; crash tests kill for real."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.cli import run_cli
from support.projects import BASE, add_stories, mail_project

from syndicate.models import EditionState, Story, Subscriber
from syndicate.project.settings import load_config
from syndicate.store import open_store


def set_schedule(project: Path, **keys: object) -> None:
    """Set keys of schedules/daily.toml (TOML values written as Python repr, lists too)."""
    path = project / "schedules" / "daily.toml"
    text = path.read_text()
    for key, value in keys.items():
        text = re.sub(rf"(?m)^{key} = .*\n", "", text)
        shown = str(value).lower() if isinstance(value, bool) else repr(value).replace("'", '"')
        text += f"{key} = {shown}\n"
    path.write_text(text)


def titles(received) -> list[str]:
    """The story titles of a received digest, in order, from its text part."""
    text = received.message.get_body(("plain",)).get_content()
    return re.findall(r"(?m)^\d+\. (Story \w+)", text)


def slot(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT07:00:00+00:00")


def send(project: Path, *args: str, check: int | None = 0, env: dict | None = None):
    return run_cli("send", "daily", "--yes", *args, project=project, check=check, env=env)


def kill_at(project: Path, point: str, tmp_path: Path) -> None:
    """Run `send daily` until it reaches the pause point, then kill -9 it there."""
    marker = tmp_path / f"paused-{point}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env.update(SYNDICATE_PAUSE_AT=point, SYNDICATE_PAUSE_FILE=str(marker))
    cmd = [sys.executable, "-m", "syndicate", "--project", str(project), "send", "daily", "-y"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_stories_beyond_max_stories_carry_over_and_none_repeats(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 2)  # stories 0..2
    add_stories(project, range(3, 5))  # 0..4, story 4 the newest
    set_schedule(project, max_stories=3)
    first = send(project, "--slot", slot(2))
    assert "3 stories; 2 more wait for the next edition" in first.stdout, first.stdout
    one = [titles(r) for r in smtp.to("reader0@example.org")]
    assert one == [["Story 4", "Story 3", "Story 2"]]
    listed = run_cli("editions", "list", "daily", project=project, check=0)
    assert "2 stories waiting" in listed.stdout, listed.stdout

    send(project, "--slot", slot(1))
    got = [titles(r) for r in smtp.to("reader0@example.org")]
    assert got[1] == ["Story 1", "Story 0"]  # the held-over ones, newest shown first
    every = Counter(t for edition in got for t in edition)
    assert set(every) == {f"Story {i}" for i in range(5)} and set(every.values()) == {1}

    third = send(project, "--slot", slot(0))
    assert "no new stories since the last edition; nothing sent" in third.stdout
    assert len(smtp.to("reader0@example.org")) == 2


def test_overflow_list_shows_headlines_that_count_as_sent(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1)
    add_stories(project, range(3, 5))
    set_schedule(project, max_stories=3, overflow="list")
    send(project, "--slot", slot(1))
    [message] = smtp.to("reader0@example.org")
    html = message.message.get_body(("html",)).get_content()
    text = message.message.get_body(("plain",)).get_content()
    assert "More stories" in html and "MORE STORIES" in text
    more = text.split("MORE STORIES", 1)[1]
    assert "Story 1" in more and "Story 0" in more and "Story 4" not in more
    again = send(project, "--slot", slot(0))
    assert "no new stories" in again.stdout  # listed headlines were sent


def test_an_undated_story_never_leads_an_edition(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1)
    store = open_store(load_config(project).store_url)
    store.save_story(
        Story(url=f"{BASE}/undated/", title="Story U", summary="No date.", section="world")
    )
    store.close()
    send(project)
    [message] = smtp.to("reader0@example.org")
    assert "Story 2" in message.message["Subject"]  # the newest dated story leads
    assert titles(message) == ["Story 2", "Story 1", "Story 0", "Story U"]


def test_a_kill_between_edition_and_ledger_leaves_no_edition_behind(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 20)
    kill_at(project, "edition-saved", tmp_path)  # the edition is written, its ledger not yet
    store = open_store(load_config(project).store_url)
    try:
        assert store.edition_records("daily") == []  # the whole transaction is gone
    finally:
        store.close()
    again = send(project)
    assert "20 recipients" in again.stdout, again.stdout
    got = Counter(rcpt for r in smtp.received for rcpt in r.recipients)
    assert len(got) == 20 and set(got.values()) == {1}


def test_two_sends_either_side_of_a_minute_boundary_make_one_edition(tmp_path, smtp):
    subscribers = 40
    project = mail_project(tmp_path, smtp, subscribers)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    cmd = [sys.executable, "-m", "syndicate", "--project", str(project), "send", "daily", "-y"]
    procs = []
    for clock in ("03:16:59.900", "03:17:00.100"):  # the daily digest's slot is 07:00
        env_now = {**env, "SYNDICATE_TEST_NOW": f"{tomorrow}T{clock}+00:00"}
        procs.append(
            subprocess.Popen(cmd, env=env_now, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        )
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    got = Counter(rcpt for r in smtp.received for rcpt in r.recipients)
    assert len(got) == subscribers and set(got.values()) == {1}, got
    store = open_store(load_config(project).store_url)
    try:
        assert len(store.edition_records("daily")) == 1
    finally:
        store.close()


def test_a_copy_sent_again_after_a_crash_has_the_same_message_id(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1, pool=1)
    kill_at(project, "message-sent", tmp_path)  # the server has it; the ledger does not
    send(project)
    copies = smtp.to("reader0@example.org")
    assert len(copies) == 2
    ids = {c.message["Message-ID"] for c in copies}
    assert len(ids) == 1, ids
    [mid] = ids
    assert mid.endswith("@news.example.com>") and "reader0" not in mid


def test_send_refuses_an_empty_edition_and_force_resends_stories(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 2)
    send(project, "--slot", slot(1))
    empty = send(project, "--slot", slot(0))
    assert "no new stories" in empty.stdout and len(smtp.received) == 2
    forced = send(project, "--slot", slot(0), "--force")
    assert "3 stories" in forced.stdout, forced.stdout
    again = smtp.to("reader0@example.org")[-1]
    assert titles(again) == ["Story 2", "Story 1", "Story 0"]  # never zero stories
    allowed = run_cli(
        "send", "daily", "-y", "--allow-empty", "--slot", "now", project=project, check=0
    )
    assert "0 stories" in allowed.stdout, allowed.stdout


def test_send_says_what_it_will_do_and_an_unreachable_server_exits_1(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 2)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    cfg = project / "syndicate.toml"
    text = cfg.read_text().replace(f"127.0.0.1:{smtp.port}", f"127.0.0.1:{closed}")
    # Tries at 0 and 2 s within a 4 s wait: still deferred when the wait ends.
    text = text.replace("retry_base = 0.05", "retry_base = 2").replace(
        "send_wait = 20", "send_wait = 4"
    )
    cfg.write_text(text)
    proc = send(project, check=1)
    assert re.search(r"3 stories; 2 recipients; via smtp://127\.0\.0\.1:\d+", proc.stdout), (
        proc.stdout
    )
    assert "sent: 0 sent, 2 deferred" in proc.stdout
    line = f"deferred 2: connection refused by 127.0.0.1:{closed} (retrying until "
    assert line in proc.stderr, proc.stderr
    status = run_cli("status", project=project, check=0)
    assert f"deferred 2: connection refused by 127.0.0.1:{closed}" in status.stdout


def test_approval_drafts_go_to_editors_and_are_sent_once_approved(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 2)
    set_schedule(project, approve=True, editors=["editor@news.example.com"])
    made = send(project)
    assert "draft sent to editor@news.example.com" in made.stdout, made.stdout
    assert [r.recipients for r in smtp.received] == [["editor@news.example.com"]]
    listed = run_cli("editions", "list", project=project, check=0)
    assert re.search(r"#1 .* draft ", listed.stdout), listed.stdout
    again = send(project)  # a send does not get round the approval
    assert "is a draft waiting for approval" in again.stdout
    shown = run_cli("editions", "show", "1", project=project, check=0)
    assert "state: draft" in shown.stdout and "Subject:" in shown.stdout
    approved = run_cli(
        "editions", "approve", "1", "--by", "alice", "--yes", project=project, check=0
    )
    assert "approved by alice; 2 recipients" in approved.stdout, approved.stdout
    assert len(smtp.to("reader0@example.org")) == 1 and len(smtp.to("reader1@example.org")) == 1
    listed = run_cli("editions", "list", "daily", project=project, check=0)
    assert re.search(r"#1 .* sent by alice .* 2 sent", listed.stdout), listed.stdout
    twice = run_cli("editions", "approve", "1", "--yes", project=project, check=2)
    assert "only a draft or held edition can be approved" in twice.stderr


def test_a_held_edition_sends_nothing_and_its_stories_return(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 2)
    set_schedule(project, approve=True, editors=["editor@news.example.com"])
    send(project, "--slot", slot(1))
    held = run_cli("editions", "hold", "1", "--by", "bob", project=project, check=0)
    assert "its 3 stories return in the next edition" in held.stdout
    send(project, "--slot", slot(0))
    drafts = smtp.to("editor@news.example.com")
    assert [titles(d) for d in drafts] == [["Story 2", "Story 1", "Story 0"]] * 2
    assert smtp.to("reader0@example.org") == []


def test_a_draft_past_its_deadline_is_skipped_or_sent_as_the_schedule_says(tmp_path, smtp):
    from syndicate import pipeline
    from syndicate.project import Project
    from syndicate.run.jobs import Jobs

    project = mail_project(tmp_path, smtp, 2)
    set_schedule(project, approve=True, editors=["editor@news.example.com"], approve_by="1h")
    p = Project.load(project)
    store = open_store(p.config.store_url)
    try:
        schedule = p.digest("daily")
        at = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
        first = pipeline.deliver_digest(p.config, store, schedule, at, at)
        assert first.state == EditionState.DRAFT and first.report is None
        waiting = pipeline.deliver_digest(p.config, store, schedule, at, at + timedelta(minutes=30))
        assert waiting.state == EditionState.DRAFT
        late = pipeline.deliver_digest(p.config, store, schedule, at, at + timedelta(hours=2))
        assert late.state == EditionState.SKIPPED and "skipped" in late.decided
        assert smtp.to("reader0@example.org") == []
        # unapproved = "send": the next slot's draft goes out at its deadline.
        sending = Project.load(project)
        set_schedule(project, unapproved="send")
        sending.reload()
        schedule = sending.digest("daily")
        nxt = at + timedelta(days=1)
        pipeline.deliver_digest(p.config, store, schedule, nxt, nxt)
        # The daemon's sweep finds the draft past its deadline and takes the choice.
        Jobs(sending, store, threading.Event()).drafts(schedule, nxt + timedelta(hours=2))
        [sent] = [r for r in store.edition_records("daily") if r.edition.slot == nxt]
        assert sent.edition.state == EditionState.APPROVED and sent.counts == {"sent": 2}
        assert sent.edition.decided_by == "deadline"
        # The skipped edition's stories came back in this one.
        assert titles(smtp.to("reader0@example.org")[0]) == ["Story 2", "Story 1", "Story 0"]
    finally:
        store.close()


def test_late_joiners_are_added_to_a_resumed_edition_by_one_rule(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 1)
    recent = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:00+00:00")
    send(project, "--slot", recent)
    store = open_store(load_config(project).store_url)
    store.save_subscriber(Subscriber("late@example.org", "Late", digests=["daily"]))
    store.close()
    # The same slot again, within its lateness: the newcomer joins it.
    resumed = send(project, "--slot", recent)
    assert "1 recipients" in resumed.stdout, resumed.stdout
    assert len(smtp.to("late@example.org")) == 1 and len(smtp.to("reader0@example.org")) == 1


def test_off_a_terminal_a_send_prints_a_line_while_it_waits(capsys):
    """The ticking progress `send` uses when stderr is no terminal: a line per interval
    while it works or waits (every 10 s in use; shorter here), counting recipients once."""
    from syndicate.cli.progress import TickingProgress

    line = re.compile(r"sending: 1 of 2 done, 1 in progress or waiting for a retry")
    err = ""
    with TickingProgress("sending", every=0.05) as progress:
        progress.add(2)
        progress.done()
        deadline = time.monotonic() + 30
        while len(line.findall(err)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            err += capsys.readouterr().err
    assert len(line.findall(err)) >= 2, err  # one line each interval, not one in all


def test_send_on_a_terminal_asks_before_mailing(tmp_path, smtp):
    import pty

    project = mail_project(tmp_path, smtp, 2)
    for answer, mailed in ((b"n\n", 0), (b"y\n", 2)):
        main, child = pty.openpty()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        cmd = [sys.executable, "-m", "syndicate", "--project", str(project), "send", "daily"]
        proc = subprocess.Popen(
            cmd, stdin=child, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        os.close(child)
        try:
            os.write(main, answer)
            out = proc.communicate(timeout=120)[0].decode()
        finally:
            os.close(main)
        assert "Send to 2 recipients? [y/N]" in out, out
        assert proc.returncode == (1 if answer == b"n\n" else 0), out
        assert len(smtp.received) == mailed
