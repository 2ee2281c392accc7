"""What the wallet's pure rules promise: gift-card codes (their alphabet, length, check symbol, printed and typed forms
and stored hash), what a card may pay and take back, when a card expires under the jurisdiction's minimum validity,
when code lookups are limited, how points become store credit, and the events the wallet tells the world about.

Nothing here touches a database, HTTP or the clock: every moment is a fixed, aware datetime.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchcard.kit.events import EVENT_TYPES, DomainEvent
from punchcard.wallet.domain import (
    ALPHABET,
    CODE_LENGTH,
    Card,
    Conversion,
    GiftCardPolicy,
    GiftCardProduct,
    LookupLimits,
    Refusal,
    WalletRefused,
    check_symbol,
    code_hash,
    grouped,
    is_well_formed,
    new_code,
    normalised,
    spend_credit,
)
from punchcard.wallet.events import (
    GiftCardDisabled,
    GiftCardExpired,
    GiftCardIssued,
    GiftCardRedeemed,
    GiftCardRefunded,
    PointsConverted,
    StoreCreditGranted,
    StoreCreditSpent,
)

TALLINN = ZoneInfo("Europe/Tallinn")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def from_randoms(source: random.Random) -> Callable[[int], int]:
    """A deterministic ``random_below`` from a Hypothesis-seeded random source."""
    return source.randrange


def from_list(indices: list[int]) -> Callable[[int], int]:
    """A ``random_below`` that answers ``indices`` in turn (each must be below what is asked)."""
    answers: Iterator[int] = iter(indices)

    def random_below(size: int) -> int:
        answer = next(answers)
        assert 0 <= answer < size
        return answer

    return random_below


def code_from(indices: list[int]) -> str:
    return new_code(from_list(indices))


SOME_CODES = [
    code_from([0] * (CODE_LENGTH - 1)),
    code_from([30] * (CODE_LENGTH - 1)),
    code_from(list(range(CODE_LENGTH - 1))),
    code_from([(7 * position + 3) % len(ALPHABET) for position in range(CODE_LENGTH - 1)]),
]
BASE_BODY = SOME_CODES[3][:-1]


def valid_code_with(forced: dict[int, str]) -> str:
    """A well-formed code with the symbols of ``forced`` at their positions (the check symbol's too, at 15)."""
    body = list(BASE_BODY)
    for position, symbol in forced.items():
        if position < CODE_LENGTH - 1:
            body[position] = symbol
    if CODE_LENGTH - 1 not in forced:
        return "".join(body) + check_symbol("".join(body))
    free = next(position for position in range(1, CODE_LENGTH - 1, 2) if position not in forced)
    for symbol in ALPHABET:  # a position that is not doubled reaches every check symbol
        body[free] = symbol
        code = "".join(body) + check_symbol("".join(body))
        if code[-1] == forced[CODE_LENGTH - 1]:
            return code
    raise AssertionError(f"no code has {forced}")


def refusal_of(action: Callable[[], object]) -> WalletRefused:
    with pytest.raises(WalletRefused) as refused:
        action()
    return refused.value


# --- codes ---------------------------------------------------------------------------------------------------------


def test_the_alphabet_has_31_distinct_symbols_none_of_which_can_be_mistaken_for_another() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set(ALPHABET) & set("0O1IL")
    assert ALPHABET.isupper()


@given(st.randoms(use_true_random=False))
def test_a_new_code_has_sixteen_symbols_all_from_the_alphabet_and_is_well_formed(source: random.Random) -> None:
    code = new_code(from_randoms(source))
    assert len(code) == CODE_LENGTH == 16
    assert set(code) <= set(ALPHABET)
    assert is_well_formed(code)


@given(st.lists(st.integers(min_value=0, max_value=len(ALPHABET) - 1), min_size=15, max_size=15))
def test_a_new_code_is_its_fifteen_random_symbols_and_then_their_check_symbol(indices: list[int]) -> None:
    asked: list[int] = []

    def random_below(size: int) -> int:
        asked.append(size)
        return indices[len(asked) - 1]

    code = new_code(random_below)
    assert asked == [len(ALPHABET)] * 15
    assert code[:15] == "".join(ALPHABET[index] for index in indices)
    assert code[15] == check_symbol(code[:15])
    assert is_well_formed(code)


def test_different_random_symbols_make_different_codes() -> None:
    assert len(set(SOME_CODES)) == len(SOME_CODES)


def test_a_mistyped_check_symbol_is_always_caught() -> None:
    for code in SOME_CODES:
        for wrong in ALPHABET.replace(code[-1], ""):
            assert not is_well_formed(code[:-1] + wrong), (code, wrong)


def test_the_check_symbol_catches_every_single_symbol_substitution_at_every_position() -> None:
    missed: list[tuple[str, str]] = []
    for position in range(CODE_LENGTH):
        for symbol in ALPHABET:
            code = valid_code_with({position: symbol})
            for wrong in ALPHABET.replace(symbol, ""):
                typo = code[:position] + wrong + code[position + 1 :]
                if is_well_formed(typo):
                    missed.append((code, typo))
    assert missed == []


def test_the_check_symbol_catches_every_adjacent_transposition_of_distinct_symbols() -> None:
    missed: list[tuple[str, str]] = []
    for position in range(CODE_LENGTH - 1):
        for first in ALPHABET:
            for second in ALPHABET.replace(first, ""):
                code = valid_code_with({position: first, position + 1: second})
                swapped = code[:position] + second + first + code[position + 2 :]
                if is_well_formed(swapped):
                    missed.append((code, swapped))
    assert missed == []


def test_a_mistyped_or_swapped_symbol_in_a_code_makes_it_not_well_formed() -> None:
    code = SOME_CODES[2]  # 23456789ABCDEFG and its check symbol
    assert is_well_formed(code)
    assert not is_well_formed("A" + code[1:])
    assert not is_well_formed(code[1] + code[0] + code[2:])


@pytest.mark.parametrize(
    "code",
    [
        "",
        SOME_CODES[0][:-1],
        SOME_CODES[0] + "2",
        SOME_CODES[2].lower(),
        "0" + SOME_CODES[2][1:],
        "O" + SOME_CODES[2][1:],
        "1" + SOME_CODES[2][1:],
        "I" + SOME_CODES[2][1:],
        "L" + SOME_CODES[2][1:],
        grouped(SOME_CODES[2]),
        SOME_CODES[2][:8] + " " + SOME_CODES[2][9:],
        "Ä" + SOME_CODES[2][1:],
    ],
)
def test_a_code_of_the_wrong_length_or_with_foreign_characters_is_not_well_formed(code: str) -> None:
    assert not is_well_formed(code)


@pytest.mark.parametrize(
    "typed",
    [
        "{code}",
        "{lower}",
        "{grouped}",
        "{grouped_lower}",
        "{spaced}",
        "  {spaced}  ",
        "{first}-{rest}",
        "{first}\t{rest}",
        "{first} - {rest}",
    ],
)
def test_a_code_typed_in_lower_case_with_spaces_or_dashes_normalises_to_the_code(typed: str) -> None:
    code = SOME_CODES[3]
    text = typed.format(
        code=code,
        lower=code.lower(),
        grouped=grouped(code),
        grouped_lower=grouped(code).lower(),
        spaced=" ".join(code[start : start + 4] for start in range(0, CODE_LENGTH, 4)),
        first=code[:7].lower(),
        rest=code[7:],
    )
    assert normalised(text) == code
    assert is_well_formed(normalised(text))


def test_a_code_is_printed_in_four_groups_of_four_joined_by_dashes() -> None:
    code = SOME_CODES[2]
    assert grouped(code) == f"{code[0:4]}-{code[4:8]}-{code[8:12]}-{code[12:16]}"
    assert grouped("ABCDEFGHJKMNPQRS") == "ABCD-EFGH-JKMN-PQRS"


@given(st.randoms(use_true_random=False))
def test_a_printed_code_normalises_back_to_the_code(source: random.Random) -> None:
    code = new_code(from_randoms(source))
    printed = grouped(code)
    assert len(printed) == 19
    assert [len(group) for group in printed.split("-")] == [4, 4, 4, 4]
    assert normalised(printed) == code
    assert normalised(printed.lower()) == code


def test_a_code_is_stored_as_its_sha256_hex_digest() -> None:
    code = SOME_CODES[2]
    assert code_hash(code) == hashlib.sha256(code.encode()).hexdigest()
    assert len(code_hash(code)) == 64
    assert code not in code_hash(code)


@given(st.randoms(use_true_random=False), st.randoms(use_true_random=False))
def test_different_codes_have_different_hashes(first: random.Random, second: random.Random) -> None:
    one, other = new_code(from_randoms(first)), new_code(from_randoms(second))
    assert (code_hash(one) == code_hash(other)) == (one == other)


# --- a card --------------------------------------------------------------------------------------------------------


def test_a_card_spends_and_returns_the_balance_left() -> None:
    assert Card(balance=5000, expires_at=None, disabled=False).spend(1250, NOW) == 3750


def test_spending_a_cards_exact_balance_leaves_nothing() -> None:
    assert Card(balance=5000, expires_at=None, disabled=False).spend(5000, NOW) == 0


def test_a_card_refuses_to_pay_more_than_its_balance_and_says_both_amounts() -> None:
    refused = refusal_of(lambda: Card(balance=5000, expires_at=None, disabled=False).spend(5001, NOW))
    assert refused.refusal is Refusal.CARD_INSUFFICIENT
    assert refused.refusal.value == "gift_card_insufficient_balance"
    assert refused.details == [{"balance_minor": 5000, "asked_minor": 5001}]


def test_a_disabled_card_pays_nothing() -> None:
    refused = refusal_of(lambda: Card(balance=5000, expires_at=None, disabled=True).spend(100, NOW))
    assert refused.refusal is Refusal.CARD_DISABLED


def test_a_card_expires_at_its_expiry_instant_not_a_moment_later() -> None:
    card = Card(balance=5000, expires_at=NOW, disabled=False)
    assert not card.is_expired(NOW - ONE_MICROSECOND)
    assert card.is_expired(NOW)
    assert card.spend(100, NOW - ONE_MICROSECOND) == 4900
    assert refusal_of(lambda: card.spend(100, NOW)).refusal is Refusal.CARD_EXPIRED
    assert refusal_of(lambda: card.spend(100, NOW + timedelta(days=1))).refusal is Refusal.CARD_EXPIRED


def test_a_card_without_an_expiry_never_expires() -> None:
    card = Card(balance=5000, expires_at=None, disabled=False)
    assert not card.is_expired(datetime(9999, 12, 31, tzinfo=UTC))


def test_a_card_that_is_both_disabled_and_expired_is_refused_as_disabled() -> None:
    card = Card(balance=5000, expires_at=NOW - timedelta(days=1), disabled=True)
    assert refusal_of(lambda: card.spend(100, NOW)).refusal is Refusal.CARD_DISABLED
    assert card.status(NOW) == "disabled"


def test_a_cards_status_is_active_expired_or_disabled() -> None:
    expires = NOW + timedelta(days=30)
    assert Card(balance=5000, expires_at=expires, disabled=False).status(NOW) == "active"
    assert Card(balance=0, expires_at=None, disabled=False).status(NOW) == "active"
    assert Card(balance=5000, expires_at=expires, disabled=False).status(expires) == "expired"
    assert Card(balance=5000, expires_at=expires, disabled=True).status(NOW) == "disabled"


def test_a_card_takes_back_up_to_what_it_paid_for_the_order() -> None:
    card = Card(balance=1000, expires_at=None, disabled=False)
    assert card.refund(500, spent_for_order=2000, now=NOW) == 1500
    assert card.refund(2000, spent_for_order=2000, now=NOW) == 3000


def test_a_refund_of_more_than_the_card_paid_for_the_order_is_refused() -> None:
    card = Card(balance=1000, expires_at=None, disabled=False)
    refused = refusal_of(lambda: card.refund(2001, spent_for_order=2000, now=NOW))
    assert refused.refusal is Refusal.REFUND_EXCEEDS_SPENT
    assert refused.details == [{"refundable_minor": 2000, "asked_minor": 2001}]
    assert refusal_of(lambda: card.refund(1, spent_for_order=0, now=NOW)).refusal is Refusal.REFUND_EXCEEDS_SPENT


def test_a_disabled_or_expired_card_takes_no_refund() -> None:
    disabled = Card(balance=1000, expires_at=None, disabled=True)
    expired = Card(balance=1000, expires_at=NOW, disabled=False)
    assert refusal_of(lambda: disabled.refund(100, spent_for_order=500, now=NOW)).refusal is Refusal.CARD_DISABLED
    assert refusal_of(lambda: expired.refund(100, spent_for_order=500, now=NOW)).refusal is Refusal.CARD_EXPIRED


# --- a card's expiry -----------------------------------------------------------------------------------------------


def test_a_card_issued_without_a_date_under_a_policy_without_a_validity_never_expires() -> None:
    assert GiftCardPolicy().expires_at(NOW, None, TALLINN) is None
    assert GiftCardPolicy(minimum_validity_months=24).expires_at(NOW, None, TALLINN) is None


def test_a_card_without_a_date_expires_at_the_end_of_the_local_day_that_many_months_later() -> None:
    issued = datetime(2026, 8, 10, 9, 0, tzinfo=UTC)  # 12:00 on 10 August in Tallinn (summer time, UTC+3)
    expires = GiftCardPolicy(expire_after_months=2).expires_at(issued, None, TALLINN)
    assert expires == datetime(2026, 10, 11, 0, 0, tzinfo=TALLINN)  # still summer time on 11 October
    assert expires == datetime(2026, 10, 10, 21, 0, tzinfo=UTC)


def test_a_cards_validity_across_a_change_of_clocks_ends_at_local_midnight_of_the_new_offset() -> None:
    issued = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)  # 12:00 on 15 January in Tallinn (winter time, UTC+2)
    expires = GiftCardPolicy(expire_after_months=3).expires_at(issued, None, TALLINN)
    assert expires == datetime(2026, 4, 16, 0, 0, tzinfo=TALLINN)
    assert expires == datetime(2026, 4, 15, 21, 0, tzinfo=UTC)  # summer time since 29 March: UTC+3, not +2


def test_a_cards_validity_counts_from_the_local_day_it_was_issued_not_the_utc_day() -> None:
    issued = datetime(2026, 1, 31, 22, 30, tzinfo=UTC)  # 00:30 on 1 February in Tallinn
    expires = GiftCardPolicy(expire_after_months=1).expires_at(issued, None, TALLINN)
    assert expires == datetime(2026, 3, 2, 0, 0, tzinfo=TALLINN)


def test_a_cards_validity_from_the_end_of_a_long_month_ends_with_the_shorter_month() -> None:
    issued = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)  # 31 January in Tallinn
    expires = GiftCardPolicy(expire_after_months=1).expires_at(issued, None, TALLINN)
    assert expires == datetime(2026, 3, 1, 0, 0, tzinfo=TALLINN)  # through 28 February


def test_an_asked_date_is_kept_over_the_programs_validity() -> None:
    issued = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    asked = datetime(2027, 5, 5, 12, 0, tzinfo=UTC)
    assert GiftCardPolicy(expire_after_months=3).expires_at(issued, asked, TALLINN) == asked
    assert GiftCardPolicy().expires_at(issued, asked, TALLINN) == asked


def test_an_asked_date_earlier_than_the_minimum_validity_is_refused_and_says_the_earliest() -> None:
    issued = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    policy = GiftCardPolicy(minimum_validity_months=12)
    earliest = datetime(2027, 3, 11, 0, 0, tzinfo=TALLINN)
    refused = refusal_of(lambda: policy.expires_at(issued, earliest - ONE_MICROSECOND, TALLINN))
    assert refused.refusal is Refusal.EXPIRY_TOO_SOON
    assert refused.details == [{"field": "expires_at", "earliest": "2027-03-10T22:00:00+00:00"}]
    assert "12 months" in refused.message


def test_an_asked_date_exactly_at_the_end_of_the_minimum_validity_is_accepted() -> None:
    issued = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    earliest = datetime(2027, 3, 10, 22, 0, tzinfo=UTC)  # midnight starting 11 March in Tallinn
    policy = GiftCardPolicy(minimum_validity_months=12)
    assert policy.expires_at(issued, earliest, TALLINN) == earliest
    assert policy.expires_at(issued, earliest + timedelta(days=400), TALLINN) == earliest + timedelta(days=400)


def test_an_asked_date_not_after_the_issue_is_refused() -> None:
    issued = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    for asked in (issued, issued - timedelta(days=1)):
        with pytest.raises(WalletRefused) as refused:
            GiftCardPolicy().expires_at(issued, asked, TALLINN)
        assert refused.value.refusal is Refusal.EXPIRY_TOO_SOON
        assert refused.value.details == [{"field": "expires_at"}]
    assert GiftCardPolicy().expires_at(issued, issued + ONE_MICROSECOND, TALLINN) == issued + ONE_MICROSECOND


def test_a_policy_finds_the_gift_card_product_sold_under_a_sku() -> None:
    fifty = GiftCardProduct("GC-50", 5000)
    policy = GiftCardPolicy(products=(GiftCardProduct("GC-25", 2500), fifty))
    assert policy.product("GC-50") == fifty
    assert policy.product("GC-75") is None
    assert GiftCardPolicy().product("GC-50") is None


# --- guessing codes ------------------------------------------------------------------------------------------------


def test_lookups_are_limited_once_either_the_key_or_the_address_reaches_its_limit() -> None:
    limits = LookupLimits()
    assert (limits.per_key, limits.per_address, limits.window) == (100, 10, timedelta(minutes=15))
    assert not limits.exceeded(by_key=0, by_address=0)
    assert not limits.exceeded(by_key=99, by_address=9)
    assert limits.exceeded(by_key=100, by_address=0)
    assert limits.exceeded(by_key=0, by_address=10)
    assert limits.exceeded(by_key=250, by_address=30)


def test_a_programs_own_lookup_limits_apply() -> None:
    strict = LookupLimits(per_key=5, per_address=2)
    assert not strict.exceeded(by_key=4, by_address=1)
    assert strict.exceeded(by_key=5, by_address=1)
    assert strict.exceeded(by_key=4, by_address=2)


# --- store credit --------------------------------------------------------------------------------------------------


def test_store_credit_pays_and_returns_what_is_left() -> None:
    assert spend_credit(available=2000, amount=750) == 1250
    assert spend_credit(available=2000, amount=2000) == 0


def test_store_credit_refuses_to_pay_more_than_the_member_has() -> None:
    refused = refusal_of(lambda: spend_credit(available=2000, amount=2001))
    assert refused.refusal is Refusal.CREDIT_INSUFFICIENT
    assert refused.details == [{"balance_minor": 2000, "asked_minor": 2001}]
    assert refusal_of(lambda: spend_credit(available=0, amount=1)).refusal is Refusal.CREDIT_INSUFFICIENT


# --- converting points ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conversion", "asked", "spent", "credit"),
    [
        (Conversion(points=100, amount_minor=100), 250, 250, 250),  # 100 points = 1.00
        (Conversion(points=100, amount_minor=100), 1, 1, 1),
        (Conversion(points=100, amount_minor=500), 250, 250, 1250),  # 100 points = 5.00
        (Conversion(points=3, amount_minor=1), 10, 9, 3),  # the tenth point stays with the member
        (Conversion(points=100, amount_minor=7), 250, 243, 17),  # 242 points buy only 16.94 cents
        (Conversion(points=1, amount_minor=3), 1, 1, 3),
        (Conversion(points=100, amount_minor=100, minimum_points=500), 500, 500, 500),
    ],
)
def test_points_convert_to_whole_minor_units_and_spend_only_what_that_credit_costs(
    conversion: Conversion, asked: int, spent: int, credit: int
) -> None:
    assert conversion.of(asked) == (spent, credit)


def test_fewer_points_than_the_minimum_are_not_converted() -> None:
    refused = refusal_of(lambda: Conversion(points=100, amount_minor=100, minimum_points=500).of(499))
    assert refused.refusal is Refusal.CONVERSION_TOO_SMALL
    assert refused.details == [{"minimum_points": 500}]


def test_no_points_or_a_negative_number_of_points_are_not_converted() -> None:
    for asked in (0, -100):
        with pytest.raises(WalletRefused) as refused:
            Conversion(points=100, amount_minor=100).of(asked)
        assert refused.value.refusal is Refusal.CONVERSION_TOO_SMALL


def test_points_worth_less_than_one_minor_unit_are_not_converted() -> None:
    refused = refusal_of(lambda: Conversion(points=100, amount_minor=1).of(99))
    assert refused.refusal is Refusal.CONVERSION_TOO_SMALL
    assert refused.details == [{"points": 100, "amount_minor": 1}]
    assert Conversion(points=100, amount_minor=1).of(100) == (100, 1)


@given(
    points=st.integers(min_value=1, max_value=1000),
    amount_minor=st.integers(min_value=1, max_value=1000),
    asked=st.integers(min_value=1, max_value=1_000_000),
)
def test_a_conversion_never_gives_more_than_the_points_are_worth_nor_spends_a_point_more_than_needed(
    points: int, amount_minor: int, asked: int
) -> None:
    conversion = Conversion(points=points, amount_minor=amount_minor)
    if asked * amount_minor < points:
        assert refusal_of(lambda: conversion.of(asked)).refusal is Refusal.CONVERSION_TOO_SMALL
        return
    spent, credit = conversion.of(asked)
    assert 1 <= spent <= asked
    assert credit >= 1
    assert spent * amount_minor >= credit * points  # the member never gets more than the spent points are worth
    assert (spent - 1) * amount_minor < credit * points  # one point fewer would not pay for the credit
    assert (credit + 1) * points > asked * amount_minor  # the asked points are worth less than one more minor unit


# --- events --------------------------------------------------------------------------------------------------------


def test_a_gift_card_issued_event_carries_its_facts_and_leaves_the_envelope_out() -> None:
    event = GiftCardIssued(
        program_id=7,
        member_id=42,
        occurred_at=NOW,
        card_id=3,
        last4="PQRS",
        currency="EUR",
        amount_minor=5000,
        expires_at=datetime(2027, 6, 1, 21, 0, tzinfo=UTC),
        order_id="order-1",
        source="sale",
    )
    assert event.payload() == {
        "card_id": 3,
        "last4": "PQRS",
        "currency": "EUR",
        "amount_minor": 5000,
        "expires_at": "2027-06-01T21:00:00+00:00",
        "order_id": "order-1",
        "source": "sale",
    }
    assert not {"program_id", "member_id", "occurred_at"} & set(event.payload())


def test_a_gift_card_issued_without_an_expiry_or_an_order_says_so_with_nulls() -> None:
    event = GiftCardIssued(
        program_id=7,
        member_id=None,
        occurred_at=NOW,
        card_id=3,
        last4="PQRS",
        currency="EUR",
        amount_minor=5000,
        expires_at=None,
        order_id=None,
        source="api",
    )
    assert event.payload()["expires_at"] is None
    assert event.payload()["order_id"] is None


CARD_KEYS = {"card_id", "last4", "currency"}
CREDIT_KEYS = {"amount_minor", "balance_minor", "currency"}


@pytest.mark.parametrize(
    ("event", "keys"),
    [
        (
            GiftCardRedeemed(
                program_id=7,
                member_id=None,
                occurred_at=NOW,
                card_id=3,
                last4="PQRS",
                currency="EUR",
                amount_minor=100,
                balance_minor=4900,
                order_id="o-1",
            ),
            CARD_KEYS | {"amount_minor", "balance_minor", "order_id"},
        ),
        (
            GiftCardRefunded(
                program_id=7,
                member_id=None,
                occurred_at=NOW,
                card_id=3,
                last4="PQRS",
                currency="EUR",
                amount_minor=100,
                balance_minor=5000,
                order_id="o-1",
            ),
            CARD_KEYS | {"amount_minor", "balance_minor", "order_id"},
        ),
        (
            GiftCardExpired(
                program_id=7,
                member_id=None,
                occurred_at=NOW,
                card_id=3,
                last4="PQRS",
                currency="EUR",
                amount_minor=4900,
            ),
            CARD_KEYS | {"amount_minor"},
        ),
        (
            GiftCardDisabled(
                program_id=7,
                member_id=None,
                occurred_at=NOW,
                card_id=3,
                last4="PQRS",
                currency="EUR",
                balance_minor=4900,
                reason="lost",
            ),
            CARD_KEYS | {"balance_minor", "reason"},
        ),
        (
            StoreCreditGranted(
                program_id=7,
                member_id=42,
                occurred_at=NOW,
                amount_minor=500,
                balance_minor=1500,
                currency="EUR",
                reason="goodwill",
                order_id=None,
            ),
            CREDIT_KEYS | {"reason", "order_id"},
        ),
        (
            StoreCreditSpent(
                program_id=7,
                member_id=42,
                occurred_at=NOW,
                amount_minor=500,
                balance_minor=1000,
                currency="EUR",
                order_id="o-2",
            ),
            CREDIT_KEYS | {"order_id"},
        ),
        (
            PointsConverted(
                program_id=7,
                member_id=42,
                occurred_at=NOW,
                amount_minor=500,
                balance_minor=2000,
                currency="EUR",
                points=500,
            ),
            CREDIT_KEYS | {"points"},
        ),
    ],
    ids=lambda value: getattr(value, "type", ""),
)
def test_every_other_wallet_event_carries_its_own_facts_and_not_the_envelope(
    event: DomainEvent, keys: set[str]
) -> None:
    assert set(event.payload()) == keys


@pytest.mark.parametrize(
    ("event", "type_"),
    [
        (GiftCardIssued, "gift_card.issued"),
        (GiftCardRedeemed, "gift_card.redeemed"),
        (GiftCardRefunded, "gift_card.refunded"),
        (GiftCardExpired, "gift_card.expired"),
        (GiftCardDisabled, "gift_card.disabled"),
        (StoreCreditGranted, "store_credit.granted"),
        (StoreCreditSpent, "store_credit.spent"),
        (PointsConverted, "store_credit.converted"),
    ],
)
def test_each_wallet_event_is_known_by_its_type(event: type[DomainEvent], type_: str) -> None:
    assert event.type == type_
    assert EVENT_TYPES[type_] is event
