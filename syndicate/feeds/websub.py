"""WebSub (W3C Recommendation): tell the hub which feeds changed, so subscribers hear now."""

from __future__ import annotations

import httpx


def ping_hub(hub: str, urls: list[str], timeout: float = 10.0) -> list[str]:
    """POST hub.mode=publish for each changed feed URL; return one line per failure."""
    failures = []
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        for url in urls:
            try:
                resp = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
            except httpx.HTTPError as exc:
                failures.append(f"{hub}: ping for {url} failed ({type(exc).__name__}); not told")
                continue
            if not 200 <= resp.status_code < 300:
                failures.append(f"{hub}: ping for {url} answered HTTP {resp.status_code}; not told")
    return failures
