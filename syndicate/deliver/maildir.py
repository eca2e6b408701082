"""The embedded default transport: every message a file in a Maildir (public/outbox/)."""

from __future__ import annotations

import mailbox
from pathlib import Path


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


class _MaildirConnection:
    def __init__(self, box: mailbox.Maildir) -> None:
        self.box = box

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        self.box.add(message)

    def close(self) -> None:
        self.box.close()
