"""The few exceptions syndicate raises on purpose, each with a hint for the user.

Nothing here imports a library: every layer may import this module (the store's errors
included, so that no caller of the store needs SQLAlchemy to catch them).
"""

from __future__ import annotations


def db_reason(exc: BaseException) -> str:
    """The first line of a database error in the driver's own words (SQLAlchemy wraps it,
    with SQL and a link, in lines nobody at a terminal needs)."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]


class SyndicateError(Exception):
    """A problem the user can fix: what went wrong, and a hint on what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ConfigError(SyndicateError):
    """Bad configuration or usage; the CLI exits with status 2."""

    exit_code = 2

    def __init__(self, problems: list[str] | str, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems), hint)


class FetchError(SyndicateError):
    """One URL could not be fetched or used; reported and skipped, never fatal to a run."""


class StoreError(Exception):
    """A store operation failed in the database: what SQLAlchemy raised, seen from outside
    the store, which keeps SQLAlchemy's classes to itself. Not a SyndicateError: a failed
    constraint or a bad query is a bug to be seen with its traceback, not a hint."""

    def __init__(self, message: str, orig: BaseException | None = None) -> None:
        super().__init__(message)
        # The driver's exception (SQLAlchemy's own when there is none), as SQLAlchemy's
        # errors carry it: db_reason() reads the same words from either.
        self.orig = orig


class StoreUnavailable(SyndicateError, StoreError):
    """The database is gone (a restart, a failover, the network, a file that cannot be
    opened): no operation can succeed until it is back, so a send stops taking rows and a
    worker waits. Other StoreErrors (a constraint raced by another sender) are one
    operation's trouble."""

    def __init__(self, reason: str, orig: BaseException | None = None) -> None:
        super().__init__(
            f"the store is unavailable ({reason})",
            "check that the database server is running and reachable, or that the SQLite "
            "file and its directory can be opened",
        )
        self.orig = orig
