"""SMTP transport: smtp:// with STARTTLS when offered, smtps:// with implicit TLS.

URL: ``smtp://user:password@host:587?pool=4&rate=20&timeout=30`` — pool is how many
connections are used at once, rate the most messages a second over all of them (0: no
limit). Connections are reused across messages and opened again after a drop.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence

from syndicate.deliver import CheckStep, TransportError
from syndicate.digest.mime import DataReady
from syndicate.project.mailurl import smtp_options

# "No such user" replies: the address does not exist, so it is suppressed (a hard bounce).
_NO_SUCH_USER = re.compile(
    r"\b5\.1\.[1-3]\b|no such (user|mailbox|recipient)|user unknown|unknown user"
    r"|mailbox (unavailable|not found|does not exist)|recipient address rejected",
    re.IGNORECASE,
)
_EOL = re.compile(rb"\r\n|\r|\n")


class SMTPTransport:
    """Connections to one SMTP server."""

    def __init__(self, url: str) -> None:
        # The settings checked the URL at start-up with the same reader (syndicate.project.mailurl).
        options = smtp_options(url)
        self.implicit_tls = options.implicit_tls
        self.host, self.port = options.host, options.port
        self.user, self.password = options.user, options.password
        self.pool, self.rate, self.timeout = options.pool, options.rate, options.timeout

    def describe(self) -> str:
        who = f"{self.user}@" if self.user else ""
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{who}{self.host}:{self.port} (pool {self.pool})"

    def connect(self) -> _SMTPConnection:
        return _SMTPConnection(self)

    def check(self, senders: Sequence[str], recipient: str) -> Iterator[CheckStep]:
        """The SMTP conversation up to RCPT TO, then RSET and QUIT: see smtpcheck."""
        from syndicate.deliver.smtpcheck import check_smtp

        return check_smtp(self, senders, recipient)


class _SMTPConnection:
    def __init__(self, transport: SMTPTransport) -> None:
        self.t = transport
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        t = self.t
        try:
            if t.implicit_tls:
                smtp = smtplib.SMTP_SSL(
                    t.host, t.port, timeout=t.timeout, context=ssl.create_default_context()
                )
                smtp.ehlo()
            else:
                smtp = smtplib.SMTP(t.host, t.port, timeout=t.timeout)
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                elif t.user:
                    smtp.quit()
                    raise TransportError(
                        "permanent",
                        f"{t.host}:{t.port} offers no STARTTLS; refusing to send the password "
                        "in clear (use smtps:// or a server with STARTTLS)",
                    )
            if t.user:
                smtp.login(t.user, t.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportError("permanent", f"login refused ({exc.smtp_code})") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError("temporary", unreachable(t.host, t.port, exc)) from exc
        return smtp

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        if self.smtp is None:
            self.smtp = self._open()
        try:
            if self.smtp.has_extn("pipelining") and (sender + recipient).isascii():
                self._pipelined(sender, recipient, message)
            else:
                self.smtp.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(recipient, (550, b"refused"))
            raise _classify(code, text) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, …
            self._reset()
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Dropped connection, time-out mid-DATA: the message may or may not have been
            # taken, but without a 250 it is not sent; try again on a new connection.
            self._drop()
            raise TransportError("temporary", f"connection lost ({type(exc).__name__})") from exc

    def _pipelined(self, sender: str, recipient: str, message: bytes) -> None:
        """MAIL, RCPT and DATA in one write (RFC 2920), then the message: one round trip
        fewer per message than smtplib's sendmail, and no pass over the whole message
        (smtplib makes two regex passes; for an 80 KB digest most of the client's CPU) when
        it comes DataReady from the composer."""
        smtp = self.smtp
        assert smtp is not None
        size = f" SIZE={len(message)}" if smtp.has_extn("size") else ""
        smtp.send(f"MAIL FROM:<{sender}>{size}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
        # Every reply is read, in order, even after a refusal: the next command must not
        # meet a stale reply.
        mail, rcpt, data = smtp.getreply(), smtp.getreply(), smtp.getreply()
        if mail[0] != 250 or rcpt[0] not in (250, 251) or data[0] != 354:
            if data[0] == 354:
                # A server that says "go ahead" to DATA after refusing the envelope would
                # take whatever comes next as a message: hang up rather than send one.
                self._drop()
            else:
                self._reset()
            code, text = mail if mail[0] != 250 else rcpt if rcpt[0] not in (250, 251) else data
            raise _classify(code, text)
        ready = isinstance(message, DataReady) and message.endswith(b"\r\n")
        smtp.send(message + b".\r\n" if ready else _stuffed(message))
        code, text = smtp.getreply()
        if code != 250:
            if code == 421:  # the server is closing this connection
                self._drop()
            raise _classify(code, text)

    def _reset(self) -> None:
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
        self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self._drop()


def _stuffed(message: bytes) -> bytes:
    """The message as DATA sends it: CRLF line ends, a dot doubled at each line start, and
    the closing dot line."""
    crlf = message.count(b"\r\n")
    if message.count(b"\n") != crlf or message.count(b"\r") != crlf:
        message = _EOL.sub(b"\r\n", message)  # bare CR or LF (our own messages have none)
    if message.startswith(b"."):
        message = b"." + message
    message = message.replace(b"\n.", b"\n..")
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message + b".\r\n"


def _classify(code: int, text: bytes | str) -> TransportError:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    line = f"{code} {' '.join(message.split())}"
    if 400 <= code < 500:
        return TransportError("temporary", line, code)
    if code >= 500 and _NO_SUCH_USER.search(message):
        return TransportError("bounce", line, code)
    return TransportError("permanent", line, code)


def unreachable(host: str, port: int, exc: Exception) -> str:
    """Why a mail server could not be reached, in the words an operator searches for."""
    where = f"{host}:{port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer from {where} (timed out)"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {host} ({exc.strerror or exc})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS with {where} failed ({exc.reason or exc})"
    return f"cannot reach {where} ({exc})"
