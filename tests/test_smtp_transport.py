"""The SMTP transport against a real server (aiosmtpd), with and without PIPELINING: the
bytes arrive as sent, and a refusal at any step leaves the connection fit for the next
message."""

from __future__ import annotations

import pytest
from smtp_server import SMTPServer

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
