"""Tables tests want shown at the end of the run even when they pass (pytest hides
stdout); conftest.py prints them."""

from __future__ import annotations

SUMMARY: list[str] = []
