"""`syndicate mail check` against a real SMTP server (aiosmtpd: plain, STARTTLS with a
self-signed certificate, AUTH) and a Maildir: one line a step, the server's reply in it,
exit 1 at the first failed step, and nothing ever sent."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from smtp_server import SMTPServer, self_signed
from support.cli import run_cli
from support.projects import mail_project


def _use_url(project: Path, url: str) -> None:
    cfg = project / "syndicate.toml"
    cfg.write_text(re.sub(r'(?m)^url = "(smtp|maildir)[^"]*"', f'url = "{url}"', cfg.read_text()))


def _lines(out: str) -> dict[str, str]:
    """Each step's line by its step name (the last of a name wins: EHLO comes twice)."""
    steps = {}
    for line in out.splitlines():
        if line.startswith("  "):
            step = re.match(r"\s+(MAIL FROM|RCPT TO|\S+)", line).group(1)
            steps[step] = line.strip()
    return steps


def test_a_plain_server_passes_every_step_and_receives_nothing(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    proc = run_cli("mail", "check", project=project, check=0)
    steps = _lines(proc.stdout)
    assert list(steps) == [
        "connect", "EHLO", "STARTTLS", "AUTH", "MAIL FROM", "RCPT TO", "RSET", "QUIT", "postal",
    ]  # fmt: skip
    assert re.search(rf"connect +ok +127\.0\.0\.1:{smtp.port}: 220 ", steps["connect"])
    assert "PIPELINING" in steps["EHLO"] and "SIZE" in steps["EHLO"]
    assert "WARNING" in steps["STARTTLS"] and "unencrypted" in steps["STARTTLS"]
    assert "skipped" in steps["AUTH"]
    # The envelope sender of the digests, and postmaster at its domain by default.
    assert "<news@news.example.com>: 250" in steps["MAIL FROM"]
    assert "<postmaster@news.example.com>: 250" in steps["RCPT TO"]
    assert re.search(r"QUIT +ok +221", steps["QUIT"])
    # No postal address yet: a warning, which does not fail the check.
    assert "WARNING" in steps["postal"] and "postal_address is empty" in steps["postal"]
    assert proc.stdout.splitlines()[-1] == "mail check: passed; nothing was sent"
    assert smtp.received == []


def test_a_refused_recipient_fails_with_the_servers_reply(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    cfg = project / "syndicate.toml"
    cfg.write_text(cfg.read_text().replace("[site]\n", '[site]\npostal_address = "1 Quay St"\n'))
    smtp.faults.at_rcpt["desk@example.org"] = "550 5.1.1 <desk@example.org>: no such user"
    proc = run_cli("mail", "check", "--to", "Desk@Example.org", project=project)
    assert proc.returncode == 1, proc.stdout
    steps = _lines(proc.stdout)
    assert "FAILED" in steps["RCPT TO"]
    assert "<desk@example.org>: 550 5.1.1 <desk@example.org>: no such user" in steps["RCPT TO"]
    assert "RSET" not in steps and "QUIT" not in steps  # nothing after the failed step
    assert "postal" not in steps  # the address is set: no warning
    assert "mail check: FAILED at RCPT TO" in proc.stdout
    bad = run_cli("mail", "check", "--to", "nope", project=project)
    assert bad.returncode == 2 and "--to 'nope' is not an email address" in bad.stderr


def test_a_server_that_is_not_there_fails_at_connect(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _use_url(project, f"smtp://127.0.0.1:{port}")
    proc = run_cli("mail", "check", project=project)
    assert proc.returncode == 1
    steps = _lines(proc.stdout)
    assert re.search(rf"connect +FAILED +127\.0\.0\.1:{port}: connection refused", steps["connect"])
    assert "EHLO" not in steps
    assert proc.stdout.splitlines()[-1] == "mail check: FAILED at connect; nothing was sent"


@pytest.fixture
def tls_server(tmp_path):
    """A server with STARTTLS (a self-signed certificate) and AUTH for ann / secret, and
    the certificate file that makes a client trust it."""
    cert, key = self_signed(tmp_path)
    server = SMTPServer(tls=(cert, key), logins={"ann": "secret"}).start()
    try:
        yield server, cert
    finally:
        server.stop()


def test_starttls_and_auth_pass_with_the_right_password(tmp_path, tls_server):
    server, cert = tls_server
    project = mail_project(tmp_path, server, 0)
    _use_url(project, f"smtp://ann:secret@127.0.0.1:{server.port}")
    env = {"SSL_CERT_FILE": str(cert)}
    proc = run_cli("mail", "check", project=project, env=env, check=0)
    assert re.search(r"STARTTLS +ok +220 .*TLSv1\.[23], certificate verified", proc.stdout)
    assert re.search(r"EHLO +ok +250 \(over TLS\); offers .*AUTH", proc.stdout)
    assert re.search(r"AUTH +ok +as 'ann': 235 ", proc.stdout)
    assert "ann:secret" not in proc.stdout  # the password is never shown
    assert server.received == []

    _use_url(project, f"smtp://ann:wrong@127.0.0.1:{server.port}")
    refused = run_cli("mail", "check", project=project, env=env)
    assert refused.returncode == 1
    assert re.search(r"AUTH +FAILED +as 'ann': 535 ", refused.stdout), refused.stdout
    assert "MAIL FROM" not in refused.stdout


def test_an_untrusted_certificate_fails_at_starttls(tmp_path, tls_server):
    server, _ = tls_server
    project = mail_project(tmp_path, server, 0)
    proc = run_cli("mail", "check", project=project)  # no SSL_CERT_FILE: not trusted
    assert proc.returncode == 1
    assert re.search(r"STARTTLS +FAILED +the TLS certificate is not trusted", proc.stdout)


def test_a_password_without_starttls_fails_as_a_send_would(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    _use_url(project, f"smtp://ann:secret@127.0.0.1:{smtp.port}")
    proc = run_cli("mail", "check", project=project)
    assert proc.returncode == 1
    assert re.search(r"STARTTLS +FAILED +not offered; .*password in clear", proc.stdout)


def test_a_maildir_is_checked_for_writing(tmp_path, smtp):
    project = mail_project(tmp_path, smtp, 0)
    _use_url(project, "maildir:public/outbox")
    fresh = run_cli("mail", "check", project=project, check=0)
    assert re.search(r"maildir +ok +.*public/outbox is writable \(made at the first", fresh.stdout)
    assert not (project / "public" / "outbox").exists()  # checked, not made
    (project / "public" / "outbox").mkdir(parents=True)
    made = run_cli("mail", "check", project=project, check=0)
    assert re.search(r"maildir +ok +.*public/outbox is writable$", made.stdout, re.MULTILINE)
    (project / "blocked").write_text("a file, not a folder")
    _use_url(project, "maildir:blocked/outbox")
    blocked = run_cli("mail", "check", project=project)
    assert blocked.returncode == 1
    assert re.search(r"maildir +FAILED +.*blocked is not a directory", blocked.stdout)
