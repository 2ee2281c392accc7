"""Code 128 (code set B) barcodes as inline SVG, so a till's laser scanner can read a member's number off a phone.

Pure and small on purpose: one table, a checksum and a path; no image library and nothing to download.
"""

from __future__ import annotations

# Bar and space widths (in modules) of the 107 Code 128 symbols, by value; 104 is START B, 106 is STOP.
# fmt: off
PATTERNS = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
    "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
    "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
    "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
    "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
    "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
    "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
    "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
    "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
    "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
)
# fmt: on
START_B, STOP = 104, 106
QUIET_ZONE = 10
"""Blank modules on each side; scanners need them to find the start of the code."""


def encodable(text: str) -> bool:
    """Code set B holds printable ASCII (space to ``~``)."""
    return bool(text) and all(32 <= ord(char) <= 126 for char in text)


def symbols(text: str) -> list[int]:
    """START B, the characters, the modulo-103 checksum and STOP."""
    if not encodable(text):
        raise ValueError("Code 128 B encodes printable ASCII only")
    values = [ord(char) - 32 for char in text]
    checksum = (START_B + sum(position * value for position, value in enumerate(values, start=1))) % 103
    return [START_B, *values, checksum, STOP]


def bars(text: str) -> list[tuple[int, int]]:
    """The dark bars as (start, width) in modules, counted from the left edge of the quiet zone."""
    found: list[tuple[int, int]] = []
    position = QUIET_ZONE
    for symbol in symbols(text):
        for index, width in enumerate(PATTERNS[symbol]):
            if index % 2 == 0:
                found.append((position, int(width)))
            position += int(width)
    return found


def svg(text: str, label: str, height: int = 60) -> str:
    """An inline SVG of ``text`` as Code 128, scaled to its container's width; ``label`` is its accessible name."""
    drawn = bars(text)
    width = drawn[-1][0] + drawn[-1][1] + QUIET_ZONE
    path = "".join(f"M{start} 0h{bar_width}v{height}h-{bar_width}z" for start, bar_width in drawn)
    escaped = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{escaped}" '
        f'preserveAspectRatio="none" shape-rendering="crispEdges"><rect width="{width}" height="{height}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>'
    )
