"""What tests of real processes may set in the environment, and nothing else does.

- SYNDICATE_PAUSE_AT=NAME: a process reaching pause_point(NAME) creates the file
  SYNDICATE_PAUSE_FILE (to tell the test it is there) and waits up to a minute, for the
  test to kill it there (crash tests).
- SYNDICATE_TEST_NOW=ISO-TIME: `send` takes that as the time it starts (tests of two sends
  either side of a minute boundary).

Without the variables each costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path


def pause_point(name: str) -> None:
    """Stop here for a while when the environment asks for this point (tests only)."""
    if os.environ.get("SYNDICATE_PAUSE_AT") != name:
        return
    marker = os.environ.get("SYNDICATE_PAUSE_FILE")
    if marker:
        Path(marker).write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the test kills the process during this wait
        time.sleep(0.05)


def now() -> datetime:
    """The time now, or the one SYNDICATE_TEST_NOW names."""
    given = os.environ.get("SYNDICATE_TEST_NOW")
    if given:
        return datetime.fromisoformat(given).astimezone(UTC)
    return datetime.now(UTC)
