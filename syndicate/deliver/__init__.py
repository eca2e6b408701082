"""Delivery: transports (SMTP, Maildir) chosen by one URL, and the sender that works the ledger.

Transports are a URL scheme → factory registry: a new transport is one module with a class
like SMTPTransport and a factory registered with ``register_transport``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from syndicate.errors import ConfigError, SyndicateError
from syndicate.project.mailurl import EXAMPLES, UrlRule, register_scheme


class TransportError(SyndicateError):
    """A message was not accepted. kind: 'temporary' (4xx, time-out, dropped connection:
    try again later), 'permanent' (5xx: failed for good) or 'bounce' (the mailbox does
    not exist: failed, and the address is suppressed)."""

    def __init__(self, kind: str, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.code = kind, code


@dataclass(frozen=True)
class CheckStep:
    """One step of `syndicate mail check`: what was tried, how it went (a warning is said
    and does not fail the check) and the line to show, with the server's reply."""

    step: str
    state: Literal["ok", "failed", "skipped", "warning"]
    detail: str


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

    def check(self, senders: Sequence[str], recipient: str) -> Iterator[CheckStep]:
        """Try the way to the mail system one step at a time, sending nothing: each step
        as it is done, the first failed one last (`syndicate mail check`)."""


TransportFactory = Callable[[str, Path], Transport]  # ([mail] url, project dir) → Transport

TRANSPORTS: dict[str, TransportFactory] = {}


def register_transport(
    *schemes: str, check_url: UrlRule | None = None
) -> Callable[[TransportFactory], TransportFactory]:
    """Function decorator: open URLs of these schemes with the factory. check_url, when
    given, says what is wrong with such a URL, so the settings refuse it at start-up
    (syndicate.project.mailurl keeps the schemes the settings know)."""

    def deco(factory: TransportFactory) -> TransportFactory:
        for scheme in schemes:
            TRANSPORTS[scheme] = factory
            register_scheme(scheme, check_url)
        return factory

    return deco


def open_transport(url: str, project: Path) -> Transport:
    """The transport named by a [mail] url: smtp://, smtps://, maildir:PATH or another
    registered scheme."""
    scheme = urlsplit(url).scheme
    factory = TRANSPORTS.get(scheme)
    if factory is None:
        raise ConfigError(
            f"mail.url {scheme + ':' if scheme else url!r}… is not a known transport",
            f"use one of {', '.join(f'{s}:' for s in sorted(TRANSPORTS))}; e.g. {EXAMPLES}",
        )
    return factory(url, project)


# The built-in transports import their modules only when opened: importing syndicate.deliver
# (syndicate.people, and so the web app, imports it) stays free of smtplib and ssl.
@register_transport("smtp", "smtps")
def _smtp(url: str, project: Path) -> Transport:
    from syndicate.deliver.smtp import SMTPTransport

    return SMTPTransport(url)


@register_transport("maildir")
def _maildir(url: str, project: Path) -> Transport:
    from syndicate.deliver.maildir import MaildirTransport

    # A relative path is the project's: maildir:public/outbox is <project>/public/outbox.
    path = Path(url.split(":", 1)[1])
    return MaildirTransport(path if path.is_absolute() else project / path)
