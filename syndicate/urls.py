"""URL helpers: canonical form, host checks."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Collection
from functools import lru_cache
from pathlib import PurePosixPath
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Tracking parameters that never change what a page shows.
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ocid", "cmpid")


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """Absolute URL with fragment and tracking parameters dropped, host lower-cased.

    None for what is not a URL at all (``http://[bad/x``, a non-string from JSON-LD): the
    caller skips it, as a browser would ignore the link, instead of failing the page.
    """
    if not isinstance(url, str):
        return None
    try:
        if base:
            url = urljoin(base, url.strip())
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return None
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING)
    ]
    netloc = parts.netloc.lower()
    if parts.scheme == "http" and netloc.endswith(":80"):
        netloc = netloc[:-3]
    elif parts.scheme == "https" and netloc.endswith(":443"):
        netloc = netloc[:-4]
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))


def host_of(url: str) -> str:
    """The host (with port) of a URL, lower-cased, without a leading 'www.'."""
    try:
        netloc = urlsplit(url).netloc.lower()
    except ValueError:
        return ""
    return netloc[4:] if netloc.startswith("www.") else netloc


def is_http(url: str) -> bool:
    """True for http(s) URLs; mailto:, javascript:, data: and the like are not crawlable."""
    try:
        return urlsplit(url).scheme in ("http", "https")
    except ValueError:
        return False


@lru_cache(maxsize=256)
def is_private_host(hostname: str) -> bool:
    """True when a host name resolves to a loopback, private or link-local address."""
    try:
        infos = socket.getaddrinfo(hostname, None)
    except OSError:
        return False
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_reserved:
            return True
    return False


def refused_private(url: str, allow_private: bool, own_hosts: Collection[str] = ()) -> bool:
    """True when SSRF protection refuses url: its host is a loopback or private address,
    the source does not allow those, and it is not one of the configured site's own hosts
    (``own_hosts``, as host_of gives them: the operator named that host, so a site on
    127.0.0.1 or an intranet address is crawled; any other such host a page links to is
    not)."""
    if allow_private or host_of(url) in own_hosts:
        return False
    try:
        hostname = urlsplit(url).hostname or ""
    except ValueError:
        return True
    return is_private_host(hostname)


# Images a project may keep a copy of in public/media/ (and the web app serve from there).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def media_name(url: str) -> str:
    """The file name a copy of the image at url is kept under in public/media/: a hash of
    the URL (nothing from outside ever names a file there) and its image suffix; "" for a
    URL that names no image file."""
    try:
        suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    except ValueError:
        return ""
    if suffix not in IMAGE_SUFFIXES:
        return ""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24] + suffix
