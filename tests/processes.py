"""Long-running `syndicate` processes for the tests: a real subprocess each, its JSON log
in a file, read back as events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

KEY = {"SYNDICATE_SECRET_KEY": "daemon-test-key"}
# Every process started here: a test that fails before stopping its daemon must not leave
# it running (it would load the machine for the rest of the suite). See kill_leftovers.
_STARTED: list[subprocess.Popen] = []


def kill_leftovers() -> None:
    """Kill the processes a finished test left running (conftest calls this after each)."""
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


class Logged:
    """`syndicate --project P COMMAND …` in a subprocess, its JSON log lines in a file."""

    def __init__(self, project: Path, log: Path, args: list[str], env: dict | None = None):
        self.log = log
        full = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        full.update(KEY if env is None else env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syndicate", "--project", str(project), *args,
             "--log-format", "json"],
            stdout=subprocess.DEVNULL, stderr=log.open("w"), env=full,
        )  # fmt: skip
        _STARTED.append(self.proc)

    def events(self, name: str | None = None) -> list[dict]:
        lines = [json.loads(x) for x in self.log.read_text().splitlines() if x.startswith("{")]
        return [e for e in lines if name is None or e["event"] == name]

    def wait_for(self, name: str, count: int = 1, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if len(found) >= count:
                return found
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.1)
        raise AssertionError(f"no {count} × {name} in {timeout}s:\n{self.log.read_text()}")

    def stop(self, timeout: float = 15) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


class Daemon(Logged):
    """`syndicate run` on a free port."""

    def __init__(self, project: Path, log: Path, env: dict | None = None) -> None:
        super().__init__(project, log, ["run", "--port", "0"], env)


class Worker(Logged):
    """`syndicate worker`."""

    def __init__(self, project: Path, log: Path, env: dict | None = None) -> None:
        super().__init__(project, log, ["worker"], env)
