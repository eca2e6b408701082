"""Lead images' size and type, asked of their servers once and kept in the store.

RSS requires an enclosure's length in bytes, and a wrong type misleads readers, so both are
taken from the image server (HEAD, or a streamed GET when HEAD says nothing), not guessed.
An image that cannot be asked about gets no RSS enclosure (media:content still carries it)
and is asked again a day later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from syndicate.models import MediaInfo
from syndicate.store import ArchiveStore
from syndicate.urls import is_private_host

RETRY_AFTER = timedelta(days=1)
_MAX_BYTES = 50_000_000


def known_media(
    store: ArchiveStore,
    urls: Iterable[str],
    probe: bool,
    allow_private: bool,
    user_agent: str = "syndicate",
) -> dict[str, tuple[str | None, int | None]]:
    """(type, length) of each image URL: from the store, probing the unknown ones first."""
    urls = list(dict.fromkeys(urls))
    known = store.media(urls)
    now = datetime.now(UTC)
    stale = [
        u
        for u in urls
        if u not in known or (known[u].length is None and now - known[u].checked_at > RETRY_AFTER)
    ]
    if probe and stale:
        fresh = asyncio.run(_probe_all(stale, allow_private, user_agent))
        store.save_media(fresh)
        known.update({m.url: m for m in fresh})
    return {u: (m.type, m.length) for u, m in known.items() if m.status == 200}


async def _probe_all(urls: list[str], allow_private: bool, user_agent: str) -> list[MediaInfo]:
    sem = asyncio.Semaphore(8)
    async with httpx.AsyncClient(
        timeout=10, follow_redirects=True, headers={"User-Agent": user_agent}, trust_env=False
    ) as client:

        async def one(url: str) -> MediaInfo:
            async with sem:
                return await _probe(client, url, allow_private)

        return list(await asyncio.gather(*(one(u) for u in urls)))


async def _probe(client: httpx.AsyncClient, url: str, allow_private: bool) -> MediaInfo:
    now = datetime.now(UTC)
    host = urlsplit(url).hostname or ""
    if urlsplit(url).scheme not in ("http", "https") or (
        not allow_private and is_private_host(host)
    ):
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
    except httpx.HTTPError:
        return MediaInfo(url, None, None, None, now)


def _type(resp: httpx.Response) -> str | None:
    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype if ctype.startswith(("image/", "video/", "audio/")) else None
