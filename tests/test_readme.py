"""The README keeps its promises: the two set-up commands first, and every setting the code
knows documented in the settings reference (a new setting without a line there fails)."""

from __future__ import annotations

import json
import re

import pytest
from support.cli import REPO

from syndicate.feeds.spec import FEED_SETTINGS
from syndicate.project.schedules import _FEEDS_WHEN, _WHEN, DIGEST_SETTINGS
from syndicate.project.settings import SETTINGS, SOURCE_SETTINGS

pytestmark = pytest.mark.fast

README = (REPO / "README.md").read_text(encoding="utf-8")


def _reference(title: str) -> str:
    """The settings table under one '#### title' heading."""
    part = README.split(f"#### {title}", 1)
    assert len(part) == 2, f"README has no '#### {title}' settings table"
    return part[1].split("\n#", 1)[0]


def _documented(table: str) -> set[str]:
    return set(_defaults(table))


def _defaults(table: str) -> dict[str, str]:
    """Each documented key and its default column, backticks removed."""
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]*) \|", table, re.MULTILINE)
    return {key: default.strip().strip("`") for key, default in rows}


def _shown(value: object) -> str:
    """A default as TOML writes it (what the README's default column shows)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def test_the_two_set_up_commands_come_first():
    first_block = README.split("```", 2)[1]
    lines = [line for line in first_block.splitlines() if line.strip() and line != "sh"]
    assert len(lines) == 2
    assert "pip install -e ." in lines[0] and "syndicate demo" in lines[0]
    assert 'pip install -e ".[test]"' in lines[1] and "pytest" in lines[1]


def test_every_setting_is_documented():
    config = {f"{section}.{key}" for section, keys in SETTINGS.items() for key in keys}
    config |= {f"sources.NAME.{key}" for key in SOURCE_SETTINGS}
    missing = config - _documented(_reference("syndicate.toml"))
    schedule = set(DIGEST_SETTINGS) | set(_WHEN) | set(_FEEDS_WHEN)
    missing |= {
        f"schedules: {k}" for k in schedule - _documented(_reference("schedules/NAME.toml"))
    }
    missing |= {
        f"feeds: {k}" for k in set(FEED_SETTINGS) - _documented(_reference("feeds/NAME.toml"))
    }
    assert not missing, f"settings missing from README.md's reference: {sorted(missing)}"


def test_documented_settings_exist():
    """No stale lines either: a key in the reference is a key the code reads."""
    config = {f"{section}.{key}" for section, keys in SETTINGS.items() for key in keys}
    config |= {f"sources.NAME.{key}" for key in SOURCE_SETTINGS}
    assert _documented(_reference("syndicate.toml")) <= config
    assert _documented(_reference("schedules/NAME.toml")) <= set(DIGEST_SETTINGS) | set(_WHEN)
    assert _documented(_reference("feeds/NAME.toml")) <= set(FEED_SETTINGS)


def test_documented_defaults_are_the_code_defaults():
    """A default changed in the code and not in the README fails (None: required or derived,
    explained in words)."""
    expected = {
        f"{section}.{key}": s.default
        for section, keys in SETTINGS.items()
        for key, s in keys.items()
    }
    expected |= {f"sources.NAME.{key}": s.default for key, s in SOURCE_SETTINGS.items()}
    tables = [
        (_reference("syndicate.toml"), expected),
        (_reference("schedules/NAME.toml"), {k: s.default for k, s in DIGEST_SETTINGS.items()}),
        (_reference("feeds/NAME.toml"), {k: s.default for k, s in FEED_SETTINGS.items()}),
    ]
    wrong = [
        f"{key}: README says {shown}, the code {_shown(code[key])}"
        for table, code in tables
        for key, shown in _defaults(table).items()
        if key in code and code[key] is not None and shown != _shown(code[key])
    ]
    assert not wrong, "README.md's settings reference has stale defaults:\n" + "\n".join(wrong)


def test_the_environment_variables_are_documented():
    for name in ("SYNDICATE_SECRET_KEY", "SYNDICATE_MAIL__URL", "SYNDICATE_WEB__PUBLIC_URL"):
        assert name in README
