"""Delivery: transports (SMTP, Maildir) chosen by one URL, and the sender that works the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from syndicate.errors import ConfigError, SyndicateError


class TransportError(SyndicateError):
    """A message was not accepted. kind: 'temporary' (4xx, time-out, dropped connection:
    try again later), 'permanent' (5xx: failed for good) or 'bounce' (the mailbox does
    not exist: failed, and the address is suppressed)."""

    def __init__(self, kind: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.code = kind, code


class Connection(Protocol):
    """One open channel to the mail system; used by one thread at a time."""

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        """Deliver one message; return on acceptance (250), raise TransportError otherwise."""

    def close(self) -> None:
        """Hang up."""


class Transport(Protocol):
    """Where messages go: opens connections, says how many may be open at once."""

    pool: int
    rate: float  # messages per second for all connections together; 0: no limit

    def connect(self) -> Connection:
        """Open one connection (raises TransportError when the server cannot be reached)."""

    def describe(self) -> str:
        """The transport for humans, without secrets."""


def open_transport(url: str, project: Path) -> Transport:
    """The transport named by a [mail] url: smtp://, smtps:// or maildir:PATH."""
    scheme = urlsplit(url).scheme
    if scheme in ("smtp", "smtps"):
        from syndicate.deliver.smtp import SMTPTransport

        return SMTPTransport(url)
    if scheme == "maildir":
        from syndicate.deliver.maildir import MaildirTransport

        path = Path(url.split(":", 1)[1])
        return MaildirTransport(path if path.is_absolute() else project / path)
    raise ConfigError(
        f"mail.url {scheme + ':' if scheme else url!r}… is not a known transport",
        "use smtp://user:pass@host:587, smtps://host:465 or maildir:PATH",
    )
