"""The SMTP transport against a real server (aiosmtpd), with and without PIPELINING: the
bytes arrive as sent, and a refusal at any step leaves the connection fit for the next
message."""

from __future__ import annotations

import time

import pytest
from smtp_server import SMTPServer, self_signed, server_context

from syndicate.deliver import TransportError
from syndicate.deliver.smtp import SMTPTransport, _stuffed

MESSAGE = (
    b"From: news@news.example.com\r\nTo: someone@example.org\r\nSubject: dots\r\n\r\n"
    b".a line that starts with a dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n"
)


@pytest.fixture(params=[True, False], ids=["pipelining", "plain"])
def server(request):
    smtp = SMTPServer(pipelining=request.param).start()
    try:
        yield smtp
    finally:
        smtp.stop()


def test_dot_stuffing_and_line_ends():
    assert _stuffed(b"a\r\n.b\r\n") == b"a\r\n..b\r\n.\r\n"
    assert _stuffed(b".x") == b"..x\r\n.\r\n"
    # Bare LF or CR (not ours, but a transport takes any bytes) become CRLF first.
    assert _stuffed(b"a\n.b\rc") == b"a\r\n..b\r\nc\r\n.\r\n"


def test_messages_arrive_byte_for_byte_and_refusals_leave_the_connection_usable(server):
    server.faults.at_rcpt["gone@example.org"] = "550 5.1.1 <gone@example.org>: no such user"
    server.faults.at_rcpt["later@example.org"] = "450 4.2.0 mailbox busy"
    server.faults.at_data["spam@example.org"] = ["554 5.7.1 rejected as spam"]
    conn = SMTPTransport(f"smtp://127.0.0.1:{server.port}?pool=1").connect()
    try:
        conn.send("news@news.example.com", "one@example.org", MESSAGE)
        with pytest.raises(TransportError) as gone:
            conn.send("news@news.example.com", "gone@example.org", MESSAGE)
        assert gone.value.kind == "bounce" and gone.value.code == 550
        with pytest.raises(TransportError) as later:
            conn.send("news@news.example.com", "later@example.org", MESSAGE)
        assert later.value.kind == "temporary"
        with pytest.raises(TransportError) as spam:
            conn.send("news@news.example.com", "spam@example.org", MESSAGE)
        assert spam.value.kind == "permanent" and spam.value.code == 554
        conn.send("news@news.example.com", "two@example.org", MESSAGE)
    finally:
        conn.close()
    assert [r.recipients for r in server.received] == [["one@example.org"], ["two@example.org"]]
    for r in server.received:
        assert r.data == MESSAGE
        assert r.sender == "news@news.example.com"


# -- TLS and login: STARTTLS on smtp://, implicit TLS on smtps://, with a self-signed
# certificate the client is told to trust through SSL_CERT_FILE (as an operator with a
# private CA would) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


def _authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"editor" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def test_starttls_and_login(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = SMTPServer(
        tls_context=server_context(*certificate),
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    ).start()
    try:
        good = SMTPTransport(f"smtp://editor:s3cret@127.0.0.1:{server.port}").connect()
        good.send("news@news.example.com", "one@example.org", MESSAGE)
        good.close()
        bad = SMTPTransport(f"smtp://editor:wrong@127.0.0.1:{server.port}").connect()
        with pytest.raises(TransportError) as refused:
            bad.send("news@news.example.com", "two@example.org", MESSAGE)
        assert refused.value.kind == "permanent" and "login refused" in str(refused.value)
    finally:
        server.stop()
    assert [r.recipients for r in server.received] == [["one@example.org"]]


def test_implicit_tls(certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    server = SMTPServer(
        ssl_context=server_context(*certificate),
        authenticator=_authenticator,
        auth_require_tls=False,  # aiosmtpd knows TLS only from STARTTLS
    ).start()
    try:
        conn = SMTPTransport(f"smtps://editor:s3cret@127.0.0.1:{server.port}").connect()
        conn.send("news@news.example.com", "one@example.org", MESSAGE)
        conn.close()
    finally:
        server.stop()
    assert server.received[0].data == MESSAGE


def test_no_password_in_clear_and_untrusted_certificates_refused(certificate):
    plain = SMTPServer(authenticator=_authenticator, auth_require_tls=False).start()
    try:
        conn = SMTPTransport(f"smtp://editor:s3cret@127.0.0.1:{plain.port}").connect()
        with pytest.raises(TransportError) as clear:
            conn.send("news@news.example.com", "one@example.org", MESSAGE)
        assert clear.value.kind == "permanent" and "no STARTTLS" in str(clear.value)
    finally:
        plain.stop()
    # SSL_CERT_FILE not set: the self-signed certificate is not trusted, nothing is sent.
    tls = SMTPServer(ssl_context=server_context(*certificate)).start()
    try:
        conn = SMTPTransport(f"smtps://127.0.0.1:{tls.port}").connect()
        with pytest.raises(TransportError) as untrusted:
            conn.send("news@news.example.com", "one@example.org", MESSAGE)
        assert untrusted.value.kind == "temporary" and "CERTIFICATE" in str(untrusted.value)
    finally:
        tls.stop()
    assert not plain.received and not tls.received


def test_rate_limit_spaces_messages():
    from syndicate.deliver.send import _Rate

    rate = _Rate(50)
    started = time.monotonic()
    for _ in range(11):
        rate.wait()
    assert time.monotonic() - started >= 10 / 50 * 0.95  # a floor: sleeping never undershoots
