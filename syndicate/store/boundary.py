"""Where the store meets its callers: an exception SQLAlchemy raises in a store method
leaves the store as StoreUnavailable (the database is gone) or StoreError (any other
database failure), both in syndicate.errors, so nothing above the store imports SQLAlchemy
to catch them."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from syndicate.errors import StoreError, StoreUnavailable, db_reason

# The database went away (a restart, a failover, the network; for SQLite a file that
# cannot be opened): not one operation's problem, so a send stops taking rows and a worker
# waits. Other errors (a constraint raced by another sender) are one row's trouble; the
# races the store expects (add_deliveries, save_edition) and the one retry of a mark on a
# dropped PostgreSQL connection are handled inside the methods, before an error gets here.
_GONE = (OperationalError, InterfaceError)

Method = TypeVar("Method", bound=Callable[..., Any])


def translated(exc: SQLAlchemyError) -> StoreError:
    """The store's own exception for one SQLAlchemy raised (its driver's error kept as
    ``orig``, so db_reason() says what it said before)."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(exc, _GONE):
        return StoreUnavailable(db_reason(exc), orig)
    return StoreError(str(exc), orig)


def translating(method: Method) -> Method:
    """``method`` with its SQLAlchemy exceptions translated. Cheap on the hot path (the
    ledger's marks run once per message): one more call, and a try that costs nothing
    until something is raised."""

    @functools.wraps(method)
    def translate(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as exc:
            raise translated(exc) from exc

    return translate  # type: ignore[return-value]


def translate_errors(cls: type) -> type:
    """Class decorator: every public method of ``cls``, its mixins' included, translates
    SQLAlchemy's exceptions. A method calling another meets an already translated error,
    which passes through unchanged (it is no SQLAlchemyError)."""
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        if not inspect.isfunction(inspect.getattr_static(cls, name)):
            raise TypeError(f"{cls.__name__}.{name}: only plain methods can be translated")
        setattr(cls, name, translating(member))
    return cls
