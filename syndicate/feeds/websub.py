"""WebSub (W3C Recommendation): tell the hub which feeds changed, so subscribers hear now."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

PENDING = ".websub-pending.json"
_LATER = "retried at the next build"


def ping_changed(hub: str, changed: list[str], out: Path) -> list[str]:
    """Ping the hub for the feeds that changed now and those a failed ping left over;
    remember the ones that fail again for the next build. Return one line per failure."""
    pending_file = out / PENDING
    try:
        pending = json.loads(pending_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pending = []
    urls = list(dict.fromkeys([*pending, *changed]))
    if not urls:
        return []
    failures = ping_hub(hub, urls)
    failed = [u for u in urls if any(f" {u} " in line for line in failures)]
    if failed:
        pending_file.write_text(json.dumps(failed), encoding="utf-8")
    elif pending_file.exists():
        pending_file.unlink()
    return failures


def ping_hub(hub: str, urls: list[str], timeout: float = 10.0) -> list[str]:
    """POST hub.mode=publish for each changed feed URL; return one line per failure."""
    failures = []
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        for url in urls:
            try:
                resp = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
            except httpx.HTTPError as exc:
                what = f"failed ({type(exc).__name__})"
                failures.append(f"{hub}: ping for {url} {what}; {_LATER}")
                continue
            if not 200 <= resp.status_code < 300:
                what = f"answered HTTP {resp.status_code}"
                failures.append(f"{hub}: ping for {url} {what}; {_LATER}")
    return failures
