"""A real browser for the tests: Debian's Chromium driven by Playwright, against the web
app started as a user starts it (`syndicate serve` on a free port)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.cli import REPO

# Playwright's own browser download needs the internet; the machine's Chromium does not.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
# As root in a container, and with no network beyond loopback: no sandbox, no background
# connections (refused here, many at a time), no first-run or component updates.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots the tests take, for a person to look at (git-ignored).
SHOTS = REPO / "tests" / "artifacts" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 375}


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium (Playwright's Browser); fails with a hint when there is none."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}; install Debian's chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def served(project: Path, env: dict | None = None) -> Iterator[str]:
    """`syndicate serve --port 0` for a project: its base URL while the block runs."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    full.update(env or {})
    cmd = [sys.executable, "-m", "syndicate", "--project", str(project), "serve", "--port", "0"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full
    )
    try:
        base = None
        deadline = time.monotonic() + 60
        while base is None and time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line and proc.poll() is not None:
                break
            found = re.search(r"on (http://[\d.]+:\d+)/", line)
            base = found.group(1) if found else None
        assert base, f"`syndicate serve` did not start (exit {proc.poll()})"
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def shoot(page, name: str) -> list[Path]:
    """Full-page screenshots of the page at desktop and phone widths (artifacts)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        path = SHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
    return taken
