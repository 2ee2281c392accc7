"""The pass's images, drawn when the pass is built: a punched hole (the product's mark) on the program's colour for
the icon, and the same hole as the logo. Plain PNG from the standard library (``zlib``), so a program's colour
needs no image library and no files to keep in step with it.

Sizes are Apple's for a store card: the icon 29×29 points, the logo up to 160×50, each at 1× and 2×.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

from punchcard.passes.domain import rgb

Pixel = tuple[int, int, int, int]
WHITE: Pixel = (255, 255, 255, 255)
CLEAR: Pixel = (0, 0, 0, 0)


def png(width: int, height: int, pixel: list[list[Pixel]]) -> bytes:
    """An 8-bit RGBA PNG of ``pixel`` (rows top to bottom)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(value for point in row for value in point) for row in pixel)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _hole(size: int, background: Pixel, ring: Pixel) -> bytes:
    """A square of ``background`` with a ring of ``ring`` in the middle: a punched hole."""
    centre = (size - 1) / 2
    outer, inner = size * 0.34, size * 0.2
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            row.append(ring if inner <= distance <= outer else background)
        rows.append(row)
    return png(size, size, rows)


@cache
def _drawn(colour: str) -> tuple[tuple[str, bytes], ...]:
    red, green, blue = rgb(colour)
    background: Pixel = (red, green, blue, 255)
    return (
        ("icon.png", _hole(29, background, WHITE)),
        ("icon@2x.png", _hole(58, background, WHITE)),
        ("logo.png", _hole(50, CLEAR, WHITE)),
        ("logo@2x.png", _hole(100, CLEAR, WHITE)),
    )


def pass_images(colour: str) -> dict[str, bytes]:
    """The icon (on the program's colour: lock screens and mail show it on white) and the logo (on the pass's own
    background, so transparent), each at 1× and 2×. Drawn once per colour and process."""
    return dict(_drawn(colour))


@cache
def logo(colour: str) -> bytes:
    """The program's logo for Google Wallet's class (``programLogo``, a square image): the hole on the program's
    colour, 192 pixels wide."""
    red, green, blue = rgb(colour)
    return _hole(192, (red, green, blue, 255), WHITE)
