"""The card's codes: Code 128 (set B) barcodes drawn as SVG by our own small module, and QR codes via segno."""

from __future__ import annotations

import re

import pytest

from punchcard.portal import barcode, qr


def test_every_code_128_symbol_is_eleven_modules_with_an_even_number_of_bar_modules() -> None:
    assert len(barcode.PATTERNS) == 107
    assert len(set(barcode.PATTERNS)) == 107
    for value, pattern in enumerate(barcode.PATTERNS[:-1]):
        widths = [int(width) for width in pattern]
        assert sum(widths) == 11, value
        assert sum(widths[0::2]) % 2 == 0, value  # Code 128's parity: bars cover an even number of modules
    assert sum(int(width) for width in barcode.PATTERNS[barcode.STOP]) == 13


def test_a_text_is_start_b_its_characters_a_modulo_103_checksum_and_stop() -> None:
    # Values are ASCII - 32; checksum = (104 + 48×1 + 42×2 + 42×3 + 17×4 + 18×5 + 19×6 + 35×7) mod 103 = 879 mod 103
    assert barcode.symbols("PJJ123C") == [104, 48, 42, 42, 17, 18, 19, 35, 55, 106]


def test_the_drawing_starts_and_ends_with_a_quiet_zone_and_is_as_wide_as_its_symbols() -> None:
    drawn = barcode.bars("demo-anna")
    symbols = len("demo-anna") + 3
    assert drawn[0][0] == barcode.QUIET_ZONE
    last_start, last_width = drawn[-1]
    assert last_start + last_width == barcode.QUIET_ZONE + symbols * 11 + 2  # the stop symbol is 13 modules
    assert len(drawn) == symbols * 3 + 1  # three bars per symbol, four in the stop


@pytest.mark.parametrize("text", ["", "Müller", "line\nbreak"])
def test_what_code_set_b_cannot_hold_is_refused(text: str) -> None:
    assert not barcode.encodable(text)
    with pytest.raises(ValueError, match="printable ASCII"):
        barcode.symbols(text)


def test_the_svgs_are_labelled_images_with_their_label_escaped() -> None:
    bar = barcode.svg("anna", 'Anna\'s "card" <1>')
    assert bar.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ')
    assert 'role="img" aria-label="Anna\'s &quot;card&quot; &lt;1>"' in bar
    code = qr.svg("anna", "QR & co")
    assert code.startswith('<svg role="img" aria-label="QR &amp; co"')
    assert re.search(r'viewBox="0 0 \d+ \d+"', code)
