"""Lead images' size and type, asked of their servers once and kept in the store.

RSS requires an enclosure's length in bytes, and a wrong type misleads readers, so both are
taken from the image server (HEAD, or a streamed GET when HEAD says nothing), not guessed.
An image that cannot be asked about gets no RSS enclosure (media:content still carries it)
and is asked again a day later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from syndicate.models import MediaInfo
from syndicate.store import ArchiveStore
from syndicate.urls import refused_private

RETRY_AFTER = timedelta(days=1)
_MAX_BYTES = 50_000_000


def known_media(
    store: ArchiveStore,
    urls: Iterable[str],
    probe: bool,
    allow_private: bool,
    user_agent: str = "syndicate",
    own_hosts: Collection[str] = (),
) -> dict[str, tuple[str | None, int | None]]:
    """(type, length) of each image URL: from the store, probing the unknown ones first.
    A loopback or private host is asked only when allowed, or when it is one of the
    configured site's own hosts (``own_hosts``, as urls.host_of gives them)."""
    urls = list(dict.fromkeys(urls))
    known = store.media(urls)
    now = datetime.now(UTC)
    stale = [
        u
        for u in urls
        if u not in known or (known[u].length is None and now - known[u].checked_at > RETRY_AFTER)
    ]
    if probe and stale:
        fresh = asyncio.run(_probe_all(stale, allow_private, user_agent, own_hosts))
        store.save_media(fresh)
        known.update({m.url: m for m in fresh})
    return {u: (m.type, m.length) for u, m in known.items() if m.status == 200}


class _Refused(Exception):
    """A request SSRF protection stopped (a redirect included) before it was sent."""


async def _probe_all(
    urls: list[str], allow_private: bool, user_agent: str, own_hosts: Collection[str]
) -> list[MediaInfo]:
    sem = asyncio.Semaphore(8)

    async def guard(request: httpx.Request) -> None:
        # A request hook sees every hop of a redirect chain, not only the first URL.
        if refused_private(str(request.url), allow_private, own_hosts):
            raise _Refused(str(request.url))

    async with httpx.AsyncClient(
        timeout=10,
        follow_redirects=True,
        headers={"User-Agent": user_agent},
        trust_env=False,
        event_hooks={"request": [guard]},
    ) as client:

        async def one(url: str) -> MediaInfo:
            async with sem:
                return await _probe(client, url)

        return list(await asyncio.gather(*(one(u) for u in urls)))


async def _probe(client: httpx.AsyncClient, url: str) -> MediaInfo:
    now = datetime.now(UTC)
    if urlsplit(url).scheme not in ("http", "https"):
        return MediaInfo(url, None, None, None, now)
    try:
        resp = await client.head(url)
        length = resp.headers.get("content-length", "")
        if resp.status_code == 200 and length.isdigit() and int(length) > 0:
            return MediaInfo(url, _type(resp), int(length), 200, now)
        # HEAD refused or silent about the size: count the bytes of a GET.
        async with client.stream("GET", url) as resp:
            if resp.status_code != 200:
                return MediaInfo(url, None, None, resp.status_code, now)
            size = 0
            async for chunk in resp.aiter_raw():
                size += len(chunk)
                if size > _MAX_BYTES:
                    return MediaInfo(url, _type(resp), None, resp.status_code, now)
            return MediaInfo(url, _type(resp), size or None, 200, now)
    except (httpx.HTTPError, _Refused):
        return MediaInfo(url, None, None, None, now)


def _type(resp: httpx.Response) -> str | None:
    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype if ctype.startswith(("image/", "video/", "audio/")) else None
