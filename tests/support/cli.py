"""The real `syndicate` command, run as a user runs it, and the paths the tests read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SYNDICATE_SHARED", REPO.parent / "shared"))
SITE_A = SHARED / "fixtures" / "site-a"


def run_cli(
    *args: str,
    project: Path | None = None,
    env: dict | None = None,
    check: int | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    """Run the real `syndicate` command in a subprocess. Its stdin is input, or nothing
    (never the terminal pytest may run in: a command that asks there would wait)."""
    cmd = [sys.executable, "-m", "syndicate"]
    if project is not None:
        cmd += ["--project", str(project)]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    full_env.update(env or {})
    proc = subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
    )
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def stories_json(project: Path) -> list[dict]:
    """Every stored story as `stories --json` prints it."""
    proc = run_cli("stories", "--json", project=project, check=0)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
