"""A long-running process's heartbeat in the store: who is at work, on which machine.

Send workers and daemons write a row (host:pid, kind, started, last seen, state) every few
seconds, so `syndicate status` on any machine lists the processes of the whole fleet and
tells one that went silent (killed, machine gone) from one that stopped cleanly. What each
sent is read from the ledger itself (deliveries.sent_by), not from this row.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime

from syndicate.run.logs import event
from syndicate.store import TelemetryStore, sender_name

BEAT_SECONDS = 5.0


def stop_on_signals(stop: threading.Event, kind: str) -> None:
    """SIGTERM and Ctrl-C set ``stop`` (logged as ``KIND.stopping``): the process then
    takes no new work and finishes what is in flight."""

    def on_stop(signum, _frame) -> None:
        event(f"{kind}.stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)


class Heartbeat:
    """A thread that beats every ``interval`` seconds until stop()."""

    def __init__(self, store: TelemetryStore, kind: str, interval: float = BEAT_SECONDS) -> None:
        self.store, self.kind, self.interval = store, kind, interval
        self.name = sender_name(process=True)
        self.started = datetime.now(UTC)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._failing = False

    def start(self) -> Heartbeat:
        """Beat once now (a store that cannot be written stops the process here), then
        keep beating in the background."""
        self.store.beat(self.name, self.kind, self.started, datetime.now(UTC), "running")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating; the row says the process stopped (rather than went silent)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)
        self._beat("stopped")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._beat("running")

    def _beat(self, state: str) -> None:
        try:
            self.store.beat(self.name, self.kind, self.started, datetime.now(UTC), state)
        except Exception as exc:  # a database blip must not stop the sending
            if not self._failing:
                event("heartbeat.failed", logging.WARNING, error=f"{type(exc).__name__}: {exc}")
            self._failing = True
        else:
            if self._failing:
                event("heartbeat.restored")
            self._failing = False
