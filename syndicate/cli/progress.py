"""Progress of a gather or a send: a rich bar on a terminal; elsewhere (logs, cron, pipes)
a line at least every 10 s while a send works or waits; failure lines always (to stderr)."""

from __future__ import annotations

import sys
import threading
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class QuietProgress:
    """No bar: used when stdout is not a terminal (logs, CI, pipes)."""

    def __init__(self) -> None:
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    def add(self, n: int = 1) -> None:
        """n more pieces of work are known."""

    def done(self, n: int = 1) -> None:
        """n pieces of work are finished."""

    def failure(self, line: str) -> None:
        """Print one failed URL's line."""
        self.err.print(f"failed: {line}", markup=False)

    def __enter__(self) -> QuietProgress:
        return self

    def __exit__(self, *exc) -> None:
        return None


class TickingProgress(QuietProgress):
    """No bar, but a line every ``every`` seconds while the work lasts (a send waiting for
    deferred messages is otherwise silent for minutes in a log)."""

    def __init__(self, label: str, every: float = 10.0) -> None:
        super().__init__()
        self.label, self.every = label, every
        self.total = self.finished = 0
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def add(self, n: int = 1) -> None:
        """n more pieces of work are known."""
        self.total += n

    def done(self, n: int = 1) -> None:
        """n pieces of work are finished."""
        self.finished += n

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            took = time.monotonic() - self._started
            waiting = self.total - self.finished
            self.err.print(
                f"{self.label}: {self.finished} of {self.total} done"
                + (f", {waiting} in progress or waiting for a retry" if waiting else "")
                + f" ({took:.0f} s)",
                markup=False,
            )

    def __enter__(self) -> TickingProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class BarProgress(QuietProgress):
    """A live bar of the work done out of the work known (pages, recipients)."""

    def __init__(self, label: str = "gathering") -> None:
        super().__init__()
        self.bar = Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        )
        self.task = self.bar.add_task("gather", total=0)

    def add(self, n: int = 1) -> None:
        """n more pieces of work are known."""
        self.bar.update(self.task, total=(self.bar.tasks[0].total or 0) + n)

    def done(self, n: int = 1) -> None:
        """n pieces of work are finished."""
        self.bar.advance(self.task, n)

    def failure(self, line: str) -> None:
        """Print one failed URL's line above the bar."""
        self.bar.console.print(f"failed: {line}", markup=False)

    def __enter__(self) -> BarProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()


def progress_for_terminal() -> QuietProgress:
    """A gather's bar when stderr is a terminal, quiet otherwise."""
    return BarProgress() if sys.stderr.isatty() else QuietProgress()


def sending_progress(every: float = 10.0) -> QuietProgress:
    """A send's bar of recipients when stderr is a terminal; else a line every 10 s."""
    return BarProgress("sending") if sys.stderr.isatty() else TickingProgress("sending", every)
