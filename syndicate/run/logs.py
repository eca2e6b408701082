"""Structured logs for the daemon: one line per event, JSON when not on a terminal.

An event has a dotted name ("gather.done", "digest.skipped") and fields. JSON lines carry
``time``, ``level``, ``event`` and the fields, for a log shipper; on a terminal the same
reads as ``18:00:04 INFO gather.done stories=40 failed=0``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER = "syndicate"


class JSONLines(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage() if record.name.startswith(LOGGER) else record.name,
        }
        if not record.name.startswith(LOGGER):  # a library's message (uvicorn, apscheduler)
            line["message"] = record.getMessage()
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(line, default=str, ensure_ascii=False)


class Readable(logging.Formatter):
    """``HH:MM:SS LEVEL event key=value …`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = " ".join(
            f"{k}={v if isinstance(v, int | float) else json.dumps(str(v), ensure_ascii=False)}"
            for k, v in getattr(record, "fields", {}).items()
        )
        name = record.getMessage() if record.name.startswith(LOGGER) else record.name
        text = f"{when} {record.levelname:<7} {name}"
        if not record.name.startswith(LOGGER):
            text += f" {record.getMessage()}"
        if record.exc_info:
            text += " error=" + json.dumps(self.formatException(record.exc_info).splitlines()[-1])
        return f"{text} {fields}".rstrip()


def setup(fmt: str = "auto", stream: TextIO | None = None) -> logging.Logger:
    """Send the daemon's log (and its libraries') to ``stream`` in ``fmt``: json, text or
    auto (text on a terminal, JSON otherwise)."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONLines() if fmt == "json" else Readable())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # APScheduler says "Running job …" at every firing; its warnings (missed runs) stay.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # httpx logs every request at INFO: a gather would drown the events.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # Alembic tells of its plugins each time a store is opened.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return logging.getLogger(LOGGER)


def event(name: str, level: int = logging.INFO, exc_info: bool = False, **fields: Any) -> None:
    """Log one event with its fields."""
    logging.getLogger(LOGGER).log(level, name, extra={"fields": fields}, exc_info=exc_info)
