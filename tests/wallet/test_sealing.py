"""What sealing a new gift card's code promises: the ``Idempotency-Key`` of the request that issued the card unseals
it again, any other key unseals nothing, a tampered seal unseals nothing, and sealing one code twice gives two
different seals (a fresh salt and nonce each time) that do not show the code.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from punchcard.wallet.sealing import seal, unseal

CODE = "ABCDEFGHJKMNPQRS"
KEY = "issue-3f2a9c4e-order-1001"


def test_the_key_a_code_was_sealed_with_unseals_it() -> None:
    assert unseal(seal(CODE, KEY), KEY) == CODE


@given(
    code=st.text(alphabet="23456789ABCDEFGHJKMNPQRSTUVWXYZ", min_size=16, max_size=16),
    key=st.text(min_size=1, max_size=200),
)
def test_any_code_sealed_with_any_key_unseals_with_that_key(code: str, key: str) -> None:
    assert unseal(seal(code, key), key) == code


def test_a_different_key_unseals_nothing() -> None:
    sealed = seal(CODE, KEY)
    assert unseal(sealed, "issue-3f2a9c4e-order-1002") is None
    assert unseal(sealed, KEY.upper()) is None
    assert unseal(sealed, "") is None


def test_sealing_one_code_twice_gives_different_seals_that_both_unseal() -> None:
    first, second = seal(CODE, KEY), seal(CODE, KEY)
    assert first != second
    assert first[:16] != second[:16]  # the salt
    assert first[16:28] != second[16:28]  # the nonce
    assert unseal(first, KEY) == unseal(second, KEY) == CODE


def test_a_seal_does_not_show_the_code() -> None:
    sealed = seal(CODE, KEY)
    assert CODE.encode() not in sealed
    assert len(sealed) == 16 + 12 + len(CODE) + 16  # salt, nonce, the encrypted code and its tag


def test_a_tampered_seal_unseals_nothing() -> None:
    sealed = seal(CODE, KEY)
    for position in (0, 16, 28, len(sealed) - 1):  # the salt, the nonce, the encrypted code, the tag
        tampered = sealed[:position] + bytes([sealed[position] ^ 1]) + sealed[position + 1 :]
        assert unseal(tampered, KEY) is None, position
