"""The sample site's lead images: small PNG pictures of the harbour, drawn from each story's
slug (the same bytes every time), with the standard library only.

Each is a sky over the sea with a sun and a sailing boat, in its section's colours, so the
demo's feeds and emails show real pictures that differ from story to story. Drawn a row
at a time from colour runs (no per-pixel Python loop): a picture costs a few milliseconds.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib
from functools import lru_cache

WIDTH, HEIGHT = 640, 360
HORIZON = 230

Colour = tuple[int, int, int]

# section → (sky at the top, sky at the horizon, sea at the horizon, sea at the bottom, sun)
PALETTES: dict[str, tuple[Colour, Colour, Colour, Colour, Colour]] = {
    "world": ((38, 92, 156), (170, 205, 230), (40, 96, 140), (12, 40, 70), (255, 244, 214)),
    "business": ((70, 60, 120), (246, 170, 120), (90, 80, 120), (30, 30, 60), (255, 214, 150)),
    "culture": ((40, 30, 80), (200, 120, 170), (70, 50, 110), (20, 15, 45), (255, 200, 210)),
}
_HULL: Colour = (34, 28, 26)
_SAIL: Colour = (245, 240, 228)


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    r, g, b2 = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return (r, g, b2)


def _lighter(c: Colour, by: int) -> Colour:
    r, g, b = (min(255, x + by) for x in c)
    return (r, g, b)


@lru_cache(maxsize=64)
def lead_image(slug: str, section: str) -> bytes:
    """The PNG lead image of one story: the same slug and section give the same bytes."""
    seed = hashlib.sha256(slug.encode("utf-8")).digest()
    top, horizon, sea, deep, sun = PALETTES.get(section, PALETTES["world"])
    sun_x = 80 + seed[0] * (WIDTH - 160) // 255
    sun_y = 60 + seed[1] * (HORIZON - 110) // 255
    sun_r = 26 + seed[2] % 18
    boat_x = (sun_x + WIDTH // 2 + seed[3]) % (WIDTH - 160) + 60
    rows = []
    for y in range(HEIGHT):
        if y < HORIZON:
            colour = _mix(top, horizon, y / HORIZON)
        else:
            colour = _mix(sea, deep, (y - HORIZON) / (HEIGHT - HORIZON))
            if (y - HORIZON) % 11 in (3, 4):  # a swell line
                colour = _lighter(colour, 14)
        row = bytearray(bytes(colour) * WIDTH)
        if abs(y - sun_y) < sun_r and y < HORIZON:
            half = int(math.sqrt(sun_r * sun_r - (y - sun_y) ** 2))
            _span(row, sun_x - half, sun_x + half, sun)
        elif y > HORIZON:  # the sun's broken reflection on the water
            half = max(2, sun_r - (y - HORIZON) // 6) if (y // 3) % 2 else 0
            if half:
                _span(row, sun_x - half, sun_x + half, _mix(colour, sun, 0.55))
        _boat(row, y, boat_x)
        rows.append(b"\x00" + bytes(row))  # filter type 0 for every row
    return _png(b"".join(rows))


def _boat(row: bytearray, y: int, x: int) -> None:
    """A sail (a triangle on its mast) above a hull that sits on the horizon."""
    mast_top, hull_top, hull_bottom = HORIZON - 70, HORIZON - 10, HORIZON + 4
    if mast_top <= y < hull_top:
        width = (y - mast_top) * 36 // (hull_top - mast_top)
        _span(row, x + 2, x + 2 + width, _SAIL)
        _span(row, x, x + 2, _HULL)
    elif hull_top <= y < hull_bottom:
        inset = (y - hull_top) * 8 // (hull_bottom - hull_top)
        _span(row, x - 30 + inset, x + 44 - inset, _HULL)


def _span(row: bytearray, x0: int, x1: int, colour: Colour) -> None:
    x0, x1 = max(0, x0), min(WIDTH, x1)
    if x1 > x0:
        row[x0 * 3 : x1 * 3] = bytes(colour) * (x1 - x0)


def _png(raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
