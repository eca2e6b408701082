"""The [mail] url: which schemes name a transport, and what each scheme's URL must hold.

The settings check the URL at start-up with this module alone, so a mistyped scheme, a
missing host or a bad port stops every command at once (exit 2) instead of the first send
after an edition is made; no transport module (smtplib, ssl) is imported for it. The
transports (syndicate.deliver) read their URL with the same functions, and
``register_transport`` adds a new scheme here too, so a new transport stays one module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from syndicate.errors import ConfigError

# A URL → what is wrong with it, one phrase a problem (empty: nothing).
UrlRule = Callable[[str], list[str]]

EXAMPLES = "smtp://user:pass@host:587, smtps://host:465 or maildir:PATH"


@dataclass(frozen=True)
class SMTPOptions:
    """An smtp:// or smtps:// URL taken apart: the server, the login, and the options of
    its query (pool: connections at once; rate: messages a second over all of them, 0 no
    limit; timeout: seconds one answer may take)."""

    implicit_tls: bool
    host: str
    port: int
    user: str | None
    password: str | None
    pool: int
    rate: float
    timeout: float


# option → (type, lowest value, whether the lowest itself is allowed, default)
_SMTP_QUERY: dict[str, tuple[type, float, bool, float]] = {
    "pool": (int, 1, True, 4),
    "rate": (float, 0, True, 0),
    "timeout": (float, 0, False, 30),
}


def _smtp_read(url: str) -> tuple[SMTPOptions | None, list[str]]:
    """The options of an SMTP URL, or None and every problem with it."""
    parts = urlsplit(url)
    problems = []
    try:
        port = parts.port
    except ValueError:
        port = None
        shown_port = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        problems.append(f"port {shown_port!r} is not a number from 1 to 65535")
    if port == 0:
        problems.append("port 0 is not a port; use 1 to 65535 (587 or 465, usually)")
    if not parts.hostname:
        problems.append("has no host (write smtp://HOST:587 or smtps://HOST:465)")
    values: dict[str, float] = {k: default for k, (_, _, _, default) in _SMTP_QUERY.items()}
    for key, raw in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _SMTP_QUERY:
            problems.append(f"unknown option {key!r} (known: {', '.join(_SMTP_QUERY)})")
            continue
        kind, low, low_ok, _ = _SMTP_QUERY[key]
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or value < low or (value == low and not low_ok):
            what = "a whole number" if kind is int else "a number"
            bound = f"{low:g} or more" if low_ok else f"more than {low:g}"
            problems.append(f"option {key}={raw!r} must be {what}, {bound}")
            continue
        values[key] = value
    if problems or not parts.hostname:
        return None, problems
    implicit_tls = parts.scheme == "smtps"
    return (
        SMTPOptions(
            implicit_tls=implicit_tls,
            host=parts.hostname,
            port=port or (465 if implicit_tls else 587),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            pool=int(values["pool"]),
            rate=float(values["rate"]),
            timeout=float(values["timeout"]),
        ),
        [],
    )


def smtp_options(url: str) -> SMTPOptions:
    """An SMTP URL taken apart; ConfigError naming every problem when it cannot be."""
    options, problems = _smtp_read(url)
    if options is None:
        raise ConfigError(
            [f"mail.url {shown(url)!r} {p}" for p in problems],
            "e.g. smtp://user:pass@host:587?pool=4&rate=20&timeout=30",
        )
    return options


def smtp_problems(url: str) -> list[str]:
    """What is wrong with an smtp:// or smtps:// URL."""
    return _smtp_read(url)[1]


def maildir_problems(url: str) -> list[str]:
    """What is wrong with a maildir:PATH URL: only a missing path (a directory that is
    not there yet is made at the first message)."""
    if not url.split(":", 1)[1].strip():
        return ["names no directory (write maildir:PATH, e.g. maildir:public/outbox)"]
    return []


MAIL_SCHEMES: dict[str, UrlRule | None] = {
    "smtp": smtp_problems,
    "smtps": smtp_problems,
    "maildir": maildir_problems,
}


def register_scheme(scheme: str, rule: UrlRule | None = None) -> None:
    """Make a scheme known to the settings' check, with a rule for its URLs (a scheme
    registered again without one keeps the rule it has)."""
    if rule is not None or scheme not in MAIL_SCHEMES:
        MAIL_SCHEMES[scheme] = rule


def known_schemes() -> str:
    """The known schemes as a hint lists them: 'maildir:, smtp:, smtps:'."""
    return ", ".join(f"{s}:" for s in sorted(MAIL_SCHEMES))


def mail_url_problems(url: str) -> list[str]:
    """Every problem with a [mail] url, each a phrase after the URL (empty: it is fine)."""
    if not url.strip():
        return [f"is empty; write one of {EXAMPLES}"]
    scheme = urlsplit(url).scheme if ":" in url else ""
    if scheme not in MAIL_SCHEMES:
        what = f"has an unknown scheme {scheme + ':'!r}" if scheme else "has no scheme"
        return [f"{what}; known: {known_schemes()}"]
    rule = MAIL_SCHEMES[scheme]
    return rule(url) if rule is not None else []


def shown(url: str) -> str:
    """The mail URL as it may be printed: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
