"""Progress for a gather: a rich bar on a terminal, failure lines always (to stderr)."""

from __future__ import annotations

import sys

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


class BarProgress(QuietProgress):
    """A live bar of pages fetched out of pages found."""

    def __init__(self) -> None:
        super().__init__()
        self.bar = Progress(
            TextColumn("gathering"),
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
    """A bar when stderr is a terminal, quiet otherwise."""
    return BarProgress() if sys.stderr.isatty() else QuietProgress()
