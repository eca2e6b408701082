"""The type checker over the modules pyproject.toml names ([tool.mypy] files, strict)."""

from __future__ import annotations

import subprocess
import sys

from support.cli import REPO


def test_the_strict_modules_type_check():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
