"""Who holds a claim on ledger rows: claimer and process names, and whether a claimer on
this machine is dead (its rows are then free at once, not when its lease ends).

A claimer name is host:pid:n:token; a process name (a heartbeat's, a sender's in `status`)
is host:pid:token. syndicate.store.sender_name() is the front the rest of syndicate uses.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
from pathlib import Path

HOST = socket.gethostname()


def _space() -> str:
    """A short token for this machine's boot and pid namespace: two containers that share
    a hostname (host networking, a fixed hostname) both have a pid 1, and a claimer must not
    take the other's rows for a dead local process's, nor renew or release them."""
    parts = []
    for path in ("/proc/sys/kernel/random/boot_id", "/proc/self/ns/pid"):
        try:
            parts.append(os.readlink(path) if path.endswith("/pid") else Path(path).read_text())
        except OSError:
            parts.append("")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:8]


SPACE = _space()
_SENDS = itertools.count(1)


def worker_name() -> str:
    """A new claimer name for one send in this process: host, pid, a sequence number and
    the machine's namespace token. The pid lets a dead local claimer's rows be freed at
    once; the number keeps two sends in one process (a daemon's jobs) from taking each
    other's rows for their own."""
    return f"{HOST}:{os.getpid()}:{next(_SENDS)}:{SPACE}"


def process_name() -> str:
    """This process's name among the senders: host:pid:namespace token."""
    return f"{HOST}:{os.getpid()}:{SPACE}"


def process_of(claimer: str) -> str:
    """The process name (host:pid:token) a claimer name (host:pid:n:token) belongs to."""
    parts = claimer.split(":")
    return ":".join([*parts[:2], parts[3]] if len(parts) > 3 else parts[:2])


def dead_local(claimer: str | None) -> bool:
    """True for a claimer on this machine (host and namespace) whose process is gone."""
    if not claimer:
        return True
    parts = claimer.split(":")
    host, pid = parts[0], parts[1] if len(parts) > 1 else ""
    space = parts[3] if len(parts) > 3 else SPACE  # names without a token: older releases
    if host != HOST or space != SPACE or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
