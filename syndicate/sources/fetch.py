"""Polite HTTP fetching: per-host limits, retries, redirects, size cap, conditional GET."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from syndicate.errors import FetchError
from syndicate.models import FetchState
from syndicate.project.settings import SourceConfig
from syndicate.urls import canonical_url, host_of, refused_private

_RETRY_STATUS = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}


@dataclass
class Page:
    """A fetched URL: where it ended up, and what it said (empty on 304)."""

    url: str  # the URL asked for
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""
    redirects: list[tuple[str, str]] = field(default_factory=list)
    # The redirect chain reached a URL this run already handles: nothing was fetched.
    alias_only: bool = False

    @property
    def content_type(self) -> str:
        """The media type, without parameters."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset the server declared, if any."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset" and v:
                return v.strip("\"'")
        return None


class Fetcher:
    """One crawl's HTTP client. Each host gets its own concurrency limit and pacing."""

    def __init__(
        self, cfg: SourceConfig, allowed_hosts: set[str], own_hosts: Collection[str] = ()
    ) -> None:
        self.cfg = cfg
        self.allowed_hosts = allowed_hosts
        # The configured site's own hosts: fetched even on a loopback or private address.
        self.own_hosts = frozenset(own_hosts)
        self.delay = float(cfg.delay)
        self.requests = 0
        self.robots = None  # a protego.Protego, once robots.txt is read
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._next_slot: dict[str, float] = {}
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(cfg.timeout),
            follow_redirects=False,
            headers={"User-Agent": cfg.user_agent, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(
                max_connections=cfg.concurrency * 4, max_keepalive_connections=cfg.concurrency * 4
            ),
            trust_env=False,
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _pace(self, host: str) -> None:
        # Requests to one host start at least `delay` seconds apart.
        if self.delay <= 0:
            return
        now = time.monotonic()
        slot = max(now, self._next_slot.get(host, now))
        self._next_slot[host] = slot + self.delay
        if slot > now:
            await asyncio.sleep(slot - now)

    def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"not an http(s) URL: {url}")
        if refused_private(url, self.cfg.allow_private, self.own_hosts):
            raise FetchError(
                "refusing a loopback/private address (not the configured site's own host)",
                "set allow_private = true for this source to allow it",
            )
        if self.robots is not None and not self.robots.can_fetch(url, self.cfg.user_agent):
            raise FetchError("disallowed by robots.txt")

    async def get(
        self,
        url: str,
        states: dict[str, FetchState] | None = None,
        conditional: Callable[[str], bool] = lambda u: True,
        stop_at: Callable[[str], bool] = lambda u: False,
    ) -> Page:
        """GET a URL, following redirects on the site's hosts; raise FetchError on failure.

        ``conditional(u)`` says whether validators from ``states`` may be sent for u;
        ``stop_at(u)`` ends a redirect chain at a URL that is handled elsewhere.
        """
        states = states or {}
        current = url
        redirects: list[tuple[str, str]] = []
        visited = {current}
        while True:
            self._check(current)
            st = states.get(current)
            headers = {}
            if st and conditional(current):
                if st.etag:
                    headers["If-None-Match"] = st.etag
                if st.last_modified:
                    headers["If-Modified-Since"] = st.last_modified
            status, hdrs, body = await self._request(current, headers)
            if status in (301, 302, 303, 307, 308) and "location" in hdrs:
                target = canonical_url(hdrs["location"], current)
                if target is None:
                    raise FetchError(f"redirect to a malformed URL {hdrs['location']!r}")
                redirects.append((current, target))
                if target in visited:
                    chain = " → ".join([url, *(t for _, t in redirects)])
                    raise FetchError(f"redirect loop ({chain})", "not followed")
                if len(redirects) > self.cfg.max_redirects:
                    raise FetchError(f"more than {self.cfg.max_redirects} redirects")
                if host_of(target) not in self.allowed_hosts:
                    raise FetchError(f"redirects off the site to {target}")
                visited.add(target)
                current = target
                if stop_at(current):
                    return Page(url, current, status, hdrs, b"", redirects, alias_only=True)
                continue
            return Page(url, current, status, hdrs, body, redirects)

    async def _request(self, url: str, headers: dict[str, str]):
        host = urlsplit(url).netloc
        sem = self._sems.setdefault(host, asyncio.Semaphore(self.cfg.concurrency))
        last_error = ""
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                await asyncio.sleep(min(2.0, 0.2 * 2 ** (attempt - 1)) * (1 + random.random() / 4))
            async with sem:
                await self._pace(host)
                self.requests += 1
                try:
                    # httpx's timeout is per read; the deadline makes it a whole-request
                    # limit, so a server dripping a byte a second cannot hold a slot forever.
                    async with asyncio.timeout(self.cfg.timeout):
                        status, hdrs, body = await self._stream(url, headers)
                except (httpx.TimeoutException, TimeoutError):
                    last_error = f"timed out after {self.cfg.timeout:g}s"
                    continue
                except httpx.TransportError as exc:
                    last_error = f"connection failed ({type(exc).__name__}: {exc})"
                    continue
            if status in _RETRY_STATUS:
                last_error = f"HTTP {status}"
                retry_after = hdrs.get("retry-after", "")
                if retry_after.isdigit() and int(retry_after) <= 5:
                    await asyncio.sleep(int(retry_after))
                continue
            return status, hdrs, body
        tries = self.cfg.retries + 1
        raise FetchError(f"{last_error} after {tries} {'try' if tries == 1 else 'tries'}")

    async def _stream(self, url: str, headers: dict[str, str]):
        async with self._client.stream("GET", url, headers=headers) as resp:
            if resp.status_code != 200:
                await resp.aread()
                return resp.status_code, resp.headers, resp.content
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.cfg.max_bytes:
                raise FetchError(
                    f"response of {int(declared):,} bytes is over the "
                    f"{self.cfg.max_bytes:,}-byte cap",
                    "not read",
                )
            chunks, size = [], 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > self.cfg.max_bytes:
                    raise FetchError(
                        f"response over the {self.cfg.max_bytes:,}-byte cap; cut off",
                        "raise max_bytes to read it",
                    )
                chunks.append(chunk)
            return resp.status_code, resp.headers, b"".join(chunks)
