"""`syndicate init`: write a starter project for a new publisher."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from string import Template
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.errors import ConfigError
from syndicate.project.secret import KEY_FILE, create_secret_key


def check_init(directory: Path, site_url: str, timezone: str = "UTC") -> None:
    """Raise ConfigError listing every problem with init's arguments: a site URL that is
    not http(s), an unknown time zone, a project already in the directory."""
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


def init_project(
    directory: Path, site_url: str, timezone: str = "UTC", name: str = "", extra: str = ""
) -> list[Path]:
    """Write syndicate.toml, feeds/, schedules/ and templates/ into a directory; the
    publication is named ``name``, else after the site's host.

    Refuses to overwrite an existing project. Returns the files written.
    """
    check_init(directory, site_url, timezone)
    if not site_url.endswith("/") and not urlsplit(site_url).path:
        site_url += "/"
    host = (urlsplit(site_url).hostname or "").removeprefix("www.")
    values = {
        "site_url": _toml_text(site_url),
        "timezone": timezone,
        "name": _toml_text(name or host),
        "extra": extra,
    }
    written = []
    starter = resources.files("syndicate.project") / "starter"
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
    # The key that signs the project's links is made here, once, by name: nothing later
    # makes one behind the user's back (SYNDICATE_SECRET_KEY, when set, wins over it).
    if create_secret_key(directory):
        written.append(directory / KEY_FILE)
    return written


def _toml_text(value: str) -> str:
    """value as the inside of a TOML basic string: a name read from a web page may hold a
    quote or a backslash (JSON's string escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _walk(node, prefix: str = ""):
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            if child.name != "__pycache__":
                yield from _walk(child, rel + "/")
        else:
            yield {"rel": rel, "node": child}
