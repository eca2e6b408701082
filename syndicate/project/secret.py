"""The project's secret key, which signs every link syndicate mails (see tokens.py)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from syndicate.errors import ConfigError

KEY_FILE = ".secret-key"  # in the project, git-ignored; SYNDICATE_SECRET_KEY wins


def secret_key(project: Path, env: dict[str, str] | None = None) -> str:
    """The key that signs tokens: $SYNDICATE_SECRET_KEY, else the project's key file,
    made once with 32 random bytes (readable by its owner only)."""
    env = os.environ if env is None else env
    if env.get("SYNDICATE_SECRET_KEY"):
        return env["SYNDICATE_SECRET_KEY"]
    path = project / KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


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
