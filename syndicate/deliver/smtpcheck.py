"""`syndicate mail check` over SMTP: the conversation a send would have, step by step, up
to the recipient, then RSET and QUIT, so nothing is sent.

The steps are the ones SMTPConnection takes before a message (the same TLS context, the
same rule that a password never goes in clear), so a check that passes means a send can
get as far as DATA; each step is one line with the server's own reply.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from syndicate.deliver import CheckStep

if TYPE_CHECKING:
    from syndicate.deliver.smtp import SMTPTransport


class _Greeted(smtplib.SMTP):
    """smtplib.SMTP that keeps the server's greeting (its constructor drops it)."""

    greeting: tuple[int, bytes] = (0, b"")

    def connect(self, host: str = "localhost", port: int = 0, source_address=None):
        self.greeting = super().connect(host, port, source_address)
        return self.greeting


class _GreetedSSL(_Greeted, smtplib.SMTP_SSL):
    """The same over implicit TLS (smtps://)."""


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}".strip()


def _why(exc: BaseException, timeout: float) -> str:
    """An exception as the operator needs it: what happened, in a few words."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the TLS certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running, on this port?)"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server said {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {exc}"


def _extensions(smtp: smtplib.SMTP) -> str:
    offered = [f"{k.upper()} {v.strip()}".strip() for k, v in smtp.esmtp_features.items()]
    return ", ".join(offered) or "none"


def check_smtp(t: SMTPTransport, senders: Sequence[str], recipient: str) -> Iterator[CheckStep]:
    """Connect, EHLO, STARTTLS (offered, and needed before a password), AUTH (when the URL
    has a user), MAIL FROM each sender with RCPT TO recipient and RSET, QUIT: each step as
    it is done; after a failed step the connection is closed and nothing more is tried."""
    where = f"{t.host}:{t.port}"
    context = ssl.create_default_context()
    try:
        if t.implicit_tls:
            smtp: _Greeted = _GreetedSSL(t.host, t.port, timeout=t.timeout, context=context)
        else:
            smtp = _Greeted(t.host, t.port, timeout=t.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        yield CheckStep("connect", "failed", f"{where}: {_why(exc, t.timeout)}")
        return
    tls = f" (TLS {smtp.sock.version()})" if t.implicit_tls else ""
    yield CheckStep("connect", "ok", f"{where}{tls}: {_reply(*smtp.greeting)}")
    talk = _Conversation(smtp, t, context)
    try:
        for step in talk.steps(senders, recipient):
            yield step
            if step.state == "failed":
                return
    except (OSError, smtplib.SMTPException) as exc:
        yield CheckStep(talk.step, "failed", _why(exc, t.timeout))
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.close()


class _Conversation:
    """The steps after the greeting. ``step`` names the one under way, so that an
    exception (a dropped connection, a certificate refused) is reported at it."""

    def __init__(self, smtp: _Greeted, t: SMTPTransport, context: ssl.SSLContext) -> None:
        self.smtp, self.t, self.context = smtp, t, context
        self.step = "EHLO"

    def _at(self, step: str) -> str:
        self.step = step
        return step

    def steps(self, senders: Sequence[str], recipient: str) -> Iterator[CheckStep]:
        """Each step's outcome; the caller stops at the first failed one."""
        smtp, t = self.smtp, self.t
        yield self._ehlo("")
        if not t.implicit_tls:
            yield from self._starttls()
        if t.user:
            yield self._login(t.user, t.password or "")
        else:
            yield CheckStep(self._at("AUTH"), "skipped", "no user in [mail] url")
        for sender in senders:
            code, text = smtp.mail(sender)
            yield _outcome(self._at("MAIL FROM"), code == 250, f"<{sender}>", code, text)
            code, text = smtp.rcpt(recipient)
            yield _outcome(self._at("RCPT TO"), code in (250, 251), f"<{recipient}>", code, text)
            code, text = smtp.rset()
            yield _outcome(self._at("RSET"), code == 250, "", code, text)
        code, text = smtp.docmd(self._at("QUIT"))
        yield _outcome("QUIT", code == 221, "", code, text)

    def _ehlo(self, after: str) -> CheckStep:
        code, text = self.smtp.ehlo()
        if code != 250:
            return _outcome(self._at("EHLO"), False, f"refused{after}", code, text)
        return CheckStep("EHLO", "ok", f"{code}{after}; offers {_extensions(self.smtp)}")

    def _starttls(self) -> Iterator[CheckStep]:
        step = self._at("STARTTLS")
        if not self.smtp.has_extn("starttls"):
            if self.t.user:
                yield CheckStep(
                    step,
                    "failed",
                    "not offered; a send will not give the password in clear (use smtps:// "
                    "or a server with STARTTLS)",
                )
                return
            yield CheckStep(step, "warning", "not offered: mail goes to this server unencrypted")
            return
        code, text = self.smtp.starttls(context=self.context)
        version = self.smtp.sock.version()
        yield _outcome(step, code == 220, "", code, text, f" ({version}, certificate verified)")
        yield self._ehlo(" (over TLS)")

    def _login(self, user: str, password: str) -> CheckStep:
        step = self._at("AUTH")
        if not self.smtp.has_extn("auth"):
            return CheckStep(
                step, "failed", f"the URL has user {user!r}; the server offers no AUTH"
            )
        try:
            code, text = self.smtp.login(user, password)
        except smtplib.SMTPAuthenticationError as exc:
            return _outcome(step, False, f"as {user!r}", exc.smtp_code, exc.smtp_error)
        return _outcome(step, True, f"as {user!r}", code, text)


def _outcome(
    step: str, ok: bool, what: str, code: int, text: bytes | str, after: str = ""
) -> CheckStep:
    """A step decided by the server's reply, which the line always shows."""
    detail = f"{what}: {_reply(code, text)}" if what else _reply(code, text)
    return CheckStep(step, "ok" if ok else "failed", detail + after)
