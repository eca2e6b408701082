"""A publication's name read from its home page, for `syndicate init` without --name:
og:site_name, else a JSON-LD WebSite's name, else the <title> without its " - Home" part."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from syndicate.errors import FetchError
from syndicate.project.settings import SOURCE_SETTINGS, SourceConfig
from syndicate.sources.fetch import Fetcher
from syndicate.sources.html import decode, norm, parse
from syndicate.sources.metadata import declared_site_name
from syndicate.urls import host_of

# What a title says besides the name: "Home - Asian Lite", "BBC News | Homepage".
_GENERIC = {
    "home",
    "homepage",
    "home page",
    "welcome",
    "front page",
    "index",
    "official site",
    "official website",
    "latest news",
    "breaking news",
    "news",
}
# A title's parts: " - " and ": " need their spaces ("Hindustan-Times", "10:30" are words).
_SEPARATORS = re.compile(r"\s+[-–—|·•»:]\s+|\s*[|–—·•»]\s*|:\s+")
_LETTERS = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class SiteName:
    """What `init` learnt of a site's name: the name, where it was found ("og:site_name",
    "JSON-LD WebSite", "<title>"; "" when it fell back to the host), and why the page
    could not tell when it could not."""

    name: str
    found_in: str = ""
    problem: str = ""


def name_from_page(doc: etree._Element, host: str) -> tuple[str, str]:
    """(name, where) a home page gives: declared, else its cleaned <title>; ("", "")."""
    name, where = declared_site_name(doc)
    if name:
        return name, where
    title = doc.find(".//title")
    text = norm("".join(title.itertext())) if title is not None else ""
    name = clean_title(text, host)
    return (name, "<title>") if name else ("", "")


def clean_title(title: str, host: str = "") -> str:
    """The publication's name in a home page's title: the parts that are not "Home" and
    the like; of several, the one that spells the host ("Asian Lite" for asianlite.com),
    else the shortest ("Asian Lite - News from Britain, India and the Asian world")."""
    parts = [p.strip() for p in _SEPARATORS.split(title) if p.strip()]
    parts = [p for p in parts if p.casefold() not in _GENERIC]
    if len(parts) <= 1:
        return parts[0] if parts else ""
    squashed_host = _LETTERS.sub("", host.casefold().removeprefix("www.").split(":")[0])
    for part in parts:
        letters = _LETTERS.sub("", part.casefold())
        if letters and len(letters) >= 3 and letters in squashed_host:
            return part
    return min(parts, key=len)


def read_site_name(url: str, timeout: float = 10.0) -> SiteName:
    """Fetch a home page once (no retry, the site's own host allowed even on a private
    address, as the crawler allows it) and read the publication's name from it; on any
    failure the host, with the reason."""
    host = (urlsplit(url).hostname or url).removeprefix("www.")
    try:
        body, charset = asyncio.run(_home_page(url, timeout))
    except FetchError as exc:
        return SiteName(host, problem=f"could not read the home page ({exc.message})")
    name, where = name_from_page(parse(decode(body, charset)), host)
    if not name:
        return SiteName(host, problem="the home page declares no name and its <title> is empty")
    return SiteName(name, where)


async def _home_page(url: str, timeout: float) -> tuple[bytes, str | None]:
    settings = {key: setting.default for key, setting in SOURCE_SETTINGS.items()}
    cfg = SourceConfig(name="init", **{**settings, "url": url, "timeout": timeout, "retries": 0})
    fetcher = Fetcher(cfg, {host_of(url)}, {host_of(url)})
    try:
        page = await fetcher.get(url)
    finally:
        await fetcher.close()
    if page.status != 200:
        raise FetchError(f"HTTP {page.status}")
    return page.body, page.charset
