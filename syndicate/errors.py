"""The few exceptions syndicate raises on purpose, each with a hint for the user."""

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
