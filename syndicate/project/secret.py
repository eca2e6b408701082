"""The project's secret key, which signs every link syndicate mails (see tokens.py)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from syndicate.errors import ConfigError

KEY_FILE = ".secret-key"  # in the project, git-ignored; SYNDICATE_SECRET_KEY wins


def secret_key(project: Path, env: dict[str, str] | None = None) -> str:
    """The key that signs tokens: $SYNDICATE_SECRET_KEY, else the project's key file.
    Reading it never makes one (see create_secret_key); a ConfigError says what to do."""
    env = os.environ if env is None else env
    if env.get("SYNDICATE_SECRET_KEY"):
        return env["SYNDICATE_SECRET_KEY"]
    path = project / KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        key = ""
    if not key:
        raise ConfigError(
            f"no secret key: SYNDICATE_SECRET_KEY is not set and {path} does not exist",
            "set SYNDICATE_SECRET_KEY (the same on every machine), or run a command that "
            "signs links (send, serve, subscribers add) once to make the key file",
        )
    return key


def create_secret_key(project: Path) -> bool:
    """Make the project's key file (32 random bytes, readable by its owner only) unless
    SYNDICATE_SECRET_KEY is set or the file exists; True when it was made. The one place
    a key is created: the commands that sign links call it, by name, before they start."""
    if os.environ.get("SYNDICATE_SECRET_KEY") or (project / KEY_FILE).exists():
        return False
    # Written aside, then linked into place: a process reading the key never sees a file
    # that is there but still empty, and of two making it at once one key wins.
    aside = project / f"{KEY_FILE}.{os.getpid()}"
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(aside, project / KEY_FILE)
    except FileExistsError:
        return False  # another process made it a moment ago: theirs is the key
    finally:
        aside.unlink()
    return True


# The file `syndicate demo` leaves in its project: the demo may rewrite that directory, and
# its daemon may run without SYNDICATE_SECRET_KEY.
DEMO_MARKER = ".syndicate-demo"


def require_secret_key(project: Path, who: str) -> None:
    """Refuse to run a long-lived process without SYNDICATE_SECRET_KEY (the demo aside):
    with a key made up on the spot, every link it mails would break at its next restart,
    and links mailed by other machines would not match."""
    if os.environ.get("SYNDICATE_SECRET_KEY") or (project / DEMO_MARKER).exists():
        return
    raise ConfigError(
        f"SYNDICATE_SECRET_KEY is not set: {who} signs unsubscribe and confirmation links with it",
        "set it in the environment to a long random string, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, the same on every "
        "machine, and keep it: links already sent stop working when it changes",
    )
