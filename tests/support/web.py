"""The project's web app as a user runs it: `syndicate serve` in a real process."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def serving(project: Path) -> Iterator[str]:
    """`syndicate serve --port 0` for a project until the block ends; yields its base URL
    (read from the line it prints once it listens)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "--project", str(project), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        yield f"http://127.0.0.1:{match.group(1)}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
