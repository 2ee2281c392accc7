"""The pure referral rules, without a database: e-mail and signal normalising, each fraud check and what it decides,
qualifying, when a referral pays, and the referrer's caps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from punchcard.referral.checks import (
    Joining,
    digest,
    normalise_email,
    screen_joining,
    screen_purchase,
    signals_of,
    verdict,
)
from punchcard.referral.domain import (
    Action,
    Check,
    FraudChecks,
    Gift,
    Payout,
    Purchase,
    Referrals,
    Status,
    payable_at,
    qualifies,
    referrer_may_earn,
)

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RULE = Referrals(referrer=Gift(200), referee=Gift(100), min_order_total=Decimal("20.00"), per_month=10)


@pytest.mark.parametrize(
    ("given", "mailbox"),
    [
        ("A.n.n.a+friend@GoogleMail.com", "anna@gmail.com"),
        ("anna.kask@gmail.com", "annakask@gmail.com"),
        ("anna+shop@outlook.com", "anna@outlook.com"),
        ("anna-shop@yahoo.com", "anna@yahoo.com"),
        ("anna.kask+x@example.ee", "anna.kask+x@example.ee"),  # other providers keep dots and tags: they may matter
        ("  Anna@Example.EE ", "anna@example.ee"),
    ],
)
def test_an_address_is_compared_by_the_mailbox_it_reaches(given: str, mailbox: str) -> None:
    assert normalise_email(given) == mailbox


def test_signals_are_kept_as_digests_of_their_normalised_values() -> None:
    found = signals_of("Anna+x@gmail.com", {"phone": "+372 5555 1234", "shipping_address": "Pikk 1, Tallinn", "ip": ""})
    assert set(found) == {"email", "phone", "shipping_address"}  # an empty value is no signal
    assert found["email"] == digest("email", "anna@gmail.com")
    assert found["phone"] == digest("phone", "00372-5555-1234")
    assert found["shipping_address"] == digest("shipping_address", "PIKK 1 tallinn")
    assert "anna" not in found["email"]


def joining(**overrides: object) -> Joining:
    values: dict[str, object] = {
        "referrer_external_id": "anna",
        "referee_external_id": "ben",
        "referrer_signals": {("email", digest("email", "anna@gmail.com"))},
        "referee_signals": signals_of("ben@example.com", {}),
        "referrals_this_week": 0,
        "signups_from_source": 0,
        "known_person": False,
        "orders_before": 0,
    }
    return Joining(**{**values, **overrides})  # type: ignore[arg-type]


def test_a_friend_with_their_own_identity_raises_no_flag() -> None:
    assert screen_joining(FraudChecks(), joining()) == []


def test_a_second_address_of_the_same_gmail_mailbox_is_a_self_referral() -> None:
    flags = screen_joining(FraudChecks(), joining(referee_signals=signals_of("a.n.n.a+2@gmail.com", {})))
    assert [(flag.check, flag.reason) for flag in flags] == [
        (Check.SELF_REFERRAL, "the same e-mail address (after normalising)")
    ]


def test_the_same_phone_is_a_self_referral_but_a_shared_ip_address_is_not() -> None:
    referrer = {("phone", digest("phone", "+3725551234")), ("ip", digest("ip", "10.0.0.1"))}
    referee = signals_of("ben@example.com", {"phone": "003725551234", "ip": "10.0.0.1"})
    flags = screen_joining(FraudChecks(), joining(referrer_signals=referrer, referee_signals=referee))
    assert [flag.reason for flag in flags] == ["the same phone number"]


def test_more_referrals_in_a_week_than_the_limit_are_flagged_from_the_first_one_over_it() -> None:
    checks = FraudChecks(referrals_per_week=3)
    assert screen_joining(checks, joining(referrals_this_week=2)) == []
    [flag] = screen_joining(checks, joining(referrals_this_week=3))
    assert flag.check is Check.VELOCITY


def test_many_sign_ups_from_one_ip_address_or_device_are_flagged() -> None:
    [flag] = screen_joining(FraudChecks(signups_per_source_per_day=3), joining(signups_from_source=3))
    assert flag.check is Check.SIGNUPS_FROM_ONE_SOURCE


def test_someone_the_shop_or_the_program_already_knows_is_an_existing_customer() -> None:
    flags = screen_joining(FraudChecks(), joining(known_person=True, orders_before=2))
    assert [flag.check for flag in flags] == [Check.EXISTING_CUSTOMER, Check.EXISTING_CUSTOMER]
    assert "2 orders" in flags[1].reason


def test_a_check_that_is_off_raises_nothing_and_each_decides_by_its_action() -> None:
    self_referral = joining(referee_signals=signals_of("anna@gmail.com", {}))
    assert screen_joining(FraudChecks(self_referral=Action.OFF), self_referral) == []
    rejecting = FraudChecks(self_referral=Action.REJECT)
    assert verdict(rejecting, screen_joining(rejecting, self_referral)) is Status.REJECTED
    assert verdict(FraudChecks(), screen_joining(FraudChecks(), self_referral)) is Status.HELD
    assert verdict(FraudChecks(), []) is None


def test_a_purchase_with_the_referrers_card_or_address_is_the_referrers_own_order() -> None:
    referrer = {("payment_fingerprint", digest("payment_fingerprint", "fp_123"))}
    purchase = Purchase(AT, Decimal("30"), signals_of(None, {"payment_fingerprint": "fp_123"}))
    [flag] = screen_purchase(FraudChecks(), AT - timedelta(days=1), purchase, referrer)
    assert flag.check is Check.REFERRERS_OWN_ORDER


def test_an_order_placed_before_the_referral_shows_an_existing_customer() -> None:
    purchase = Purchase(AT - timedelta(days=2), Decimal("30"), {})
    [flag] = screen_purchase(FraudChecks(), AT, purchase, set())
    assert flag.check is Check.EXISTING_CUSTOMER


def test_the_first_purchase_reaching_the_minimum_within_the_time_allowed_qualifies() -> None:
    joined = AT - timedelta(days=10)
    assert not qualifies(RULE, joined, Purchase(AT, Decimal("19.99"), {}))
    assert qualifies(RULE, joined, Purchase(AT, Decimal("20.00"), {}))
    late = Purchase(joined + timedelta(days=366), Decimal("50"), {})
    assert not qualifies(RULE, joined, late)


def test_a_referral_pays_at_once_or_when_the_orders_points_vest() -> None:
    vest = AT + timedelta(days=14)
    assert payable_at(RULE, AT, vest) == AT
    waiting = Referrals(referrer=Gift(200), referee=Gift(100), payout=Payout.WHEN_POINTS_VEST)
    assert payable_at(waiting, AT, vest) == vest
    assert payable_at(waiting, AT, None) == AT  # points that were never pending vest at once


def test_the_referrers_caps_leave_room_until_they_are_reached() -> None:
    assert referrer_may_earn(RULE, paid_this_month=9, paid_ever=40)
    assert not referrer_may_earn(RULE, paid_this_month=10, paid_ever=40)
    lifetime = Referrals(referrer=Gift(200), referee=Gift(100), lifetime=5)
    assert not referrer_may_earn(lifetime, paid_this_month=0, paid_ever=5)
