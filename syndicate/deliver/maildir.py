"""The embedded default transport: every message a file in a Maildir (public/outbox/)."""

from __future__ import annotations

import mailbox
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from syndicate.deliver import CheckStep


class MaildirTransport:
    """Writes each message into a Maildir's new/ folder, atomically (tmp/ then rename)."""

    pool = 1
    rate = 0.0

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> _MaildirConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return _MaildirConnection(mailbox.Maildir(self.path, create=True))

    def describe(self) -> str:
        return f"maildir:{self.path}"

    def check(self, senders: Sequence[str], recipient: str) -> Iterator[CheckStep]:
        """Whether messages can be written: a file made and removed in the Maildir's tmp/
        (or, before the first message, in the nearest folder that exists, where the
        Maildir will be made). Nothing is delivered; senders and recipient do not matter."""
        here = self.path
        while not here.exists() and here != here.parent:
            here = here.parent
        target = here / "tmp" if here == self.path and (here / "tmp").is_dir() else here
        if not here.is_dir():
            yield CheckStep("maildir", "failed", f"{here} is not a directory")
            return
        try:
            fd, probe = tempfile.mkstemp(prefix=".syndicate-check-", dir=target)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            yield CheckStep("maildir", "failed", f"cannot write in {target} ({exc.strerror})")
            return
        made = "" if here == self.path else f" (made at the first message, in {here})"
        yield CheckStep("maildir", "ok", f"{self.path} is writable{made}")


class _MaildirConnection:
    def __init__(self, box: mailbox.Maildir) -> None:
        self.box = box

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self.box.add(message)

    def close(self) -> None:
        self.box.close()
