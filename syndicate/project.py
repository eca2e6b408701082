"""`syndicate init`: write a starter project for a new publisher."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from string import Template
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.errors import ConfigError

# The file `syndicate demo` leaves in its project: the demo may rewrite that directory, and
# its daemon may run without SYNDICATE_SECRET_KEY.
DEMO_MARKER = ".syndicate-demo"


def require_secret_key(project: Path, who: str) -> None:
    """Refuse to run a long-lived process without SYNDICATE_SECRET_KEY (the demo aside):
    with a key made up on the spot, every link it mails would break at its next restart,
    and links mailed by other machines would not match."""
    import os

    if os.environ.get("SYNDICATE_SECRET_KEY") or (project / DEMO_MARKER).exists():
        return
    raise ConfigError(
        f"SYNDICATE_SECRET_KEY is not set: {who} signs unsubscribe and confirmation links with it",
        "set it in the environment to a long random string, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`, the same on every "
        "machine, and keep it: links already sent stop working when it changes",
    )


def init_project(
    directory: Path, site_url: str, timezone: str = "UTC", name: str = "", extra: str = ""
) -> list[Path]:
    """Write syndicate.toml, feeds/, schedules/ and templates/ into a directory.

    Refuses to overwrite an existing project. Returns the files written.
    """
    problems = []
    if urlsplit(site_url).scheme not in ("http", "https") or not urlsplit(site_url).netloc:
        problems.append(
            f"--site-url {site_url!r} is not an http(s) URL (e.g. https://example-news.com/)"
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"--timezone {timezone!r} is not an IANA time zone (e.g. Asia/Kolkata)")
    if (directory / "syndicate.toml").exists():
        problems.append(f"{directory / 'syndicate.toml'} already exists")
    if problems:
        raise ConfigError(problems, "fix the arguments; init never overwrites a project")
    if not site_url.endswith("/") and not urlsplit(site_url).path:
        site_url += "/"
    values = {
        "site_url": site_url,
        "timezone": timezone,
        "name": name or urlsplit(site_url).hostname or "",
        "extra": extra,
    }
    written = []
    starter = resources.files("syndicate") / "starter"
    for src in _walk(starter):
        rel = src["rel"]
        target = directory / rel.removesuffix(".tmpl")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = src["node"].read_text(encoding="utf-8")
        if rel.endswith(".tmpl") or rel.startswith("schedules/"):
            text = Template(text).safe_substitute(values)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    (directory / ".gitignore").write_text("public/\nsyndicate.db*\n.secret-key\n", encoding="utf-8")
    return written


def _walk(node, prefix: str = ""):
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _walk(child, rel + "/")
        else:
            yield {"rel": rel, "node": child}
