"""Gift cards through the API: issued once per Idempotency-Key with a code shown once, spent in part, refunded to the
card up to what it paid, disabled, expired into breakage, and guarded against guessing. A refused request changes
nothing."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.ledger.models import LedgerEntry
from punchcard.ledger.verify import verify
from punchcard.wallet.domain import is_well_formed, normalised
from punchcard.wallet.models import GiftCard, LookupFailure
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, error_of, run_jobs

GIFT_CARDS = {
    "gift_cards": {
        "expire_after_months": 24,
        "minimum_validity_months": 12,
        "lookup_limits": {"per_key": 6, "per_address": 3, "window_minutes": 15},
    }
}


@pytest.fixture
def api(make_program: ProgramMaker) -> ApiClient:
    return make_program(GIFT_CARDS)


def issue(api: ApiClient, amount: str = "25.00", key: str = "issue-1", **fields: Any) -> dict[str, Any]:
    response = api.post(
        "/api/v1/gift-cards", {"amount": amount, "currency": "EUR", **fields}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def move(api: ApiClient, code: str, what: str, amount: str, order_id: str, key: str) -> httpx.Response:
    return api.post(
        f"/api/v1/gift-cards/{code}/{what}", {"amount": amount, "order_id": order_id}, headers={"Idempotency-Key": key}
    )


def balance(api: ApiClient, code: str) -> str:
    response = api.get(f"/api/v1/gift-cards/{code}")
    assert response.status_code == 200, response.text
    return str(response.json()["balance"])


def balanced(engine: Engine, api: ApiClient) -> bool:
    with Session(engine) as session:
        return verify(session, api.program_id).is_balanced


def test_an_issued_card_has_a_well_formed_code_its_amount_and_the_programs_validity(api: ApiClient) -> None:
    card = issue(api, "25.00", recipient_email="friend@example.com", message="Happy birthday")

    assert is_well_formed(normalised(card["code"]))
    assert card["last4"] == normalised(card["code"])[-4:]
    assert (card["balance"], card["initial_amount"], card["status"]) == ("25.00", "25.00", "active")
    assert card["expires_at"] == "2028-11-25T22:00:00+00:00"  # the local day 24 months on has ended (Tallinn)


def test_the_code_is_stored_only_as_a_hash(api: ApiClient, engine: Engine) -> None:
    card = issue(api)

    with Session(engine) as session:
        row = session.execute(select(GiftCard).where(GiftCard.id == card["id"])).scalar_one()
    assert normalised(card["code"]) not in {row.code_hash, row.last4 * 4}
    assert len(row.code_hash) == 64


def test_issuing_again_with_the_same_key_answers_with_the_same_card_and_code(api: ApiClient, engine: Engine) -> None:
    first = issue(api, key="same")

    again = api.post("/api/v1/gift-cards", {"amount": "25.00", "currency": "EUR"}, headers={"Idempotency-Key": "same"})

    assert again.status_code == 200
    assert again.json() == first
    with Session(engine) as session:
        assert session.execute(select(func.count()).where(GiftCard.program_id == api.program_id)).scalar_one() == 1


def test_the_same_key_with_another_amount_is_a_conflict(api: ApiClient) -> None:
    issue(api, key="same")

    response = api.post(
        "/api/v1/gift-cards", {"amount": "30.00", "currency": "EUR"}, headers={"Idempotency-Key": "same"}
    )

    error_of(response, 409, "idempotency_conflict")


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"amount": "25.00", "currency": "EUR"}, {}, 422, "validation_error"),
        ({"amount": "25.00", "currency": "USD"}, {"Idempotency-Key": "k"}, 422, "currency_mismatch"),
        ({"amount": "25.001", "currency": "EUR"}, {"Idempotency-Key": "k"}, 422, "validation_error"),
        ({"amount": "0", "currency": "EUR"}, {"Idempotency-Key": "k"}, 422, "validation_error"),
        ({"amount": "-5", "currency": "EUR"}, {"Idempotency-Key": "k"}, 422, "validation_error"),
        (
            {"amount": "25.00", "currency": "EUR", "expires_at": "2027-06-01T00:00:00+00:00"},
            {"Idempotency-Key": "k"},
            422,
            "gift_card_expiry_too_soon",
        ),
    ],
)
def test_a_card_that_cannot_be_issued_is_refused_and_nothing_is_written(
    api: ApiClient, engine: Engine, body: dict[str, Any], headers: dict[str, str], status: int, code: str
) -> None:
    error_of(api.post("/api/v1/gift-cards", body, headers=headers), status, code)

    with Session(engine) as session:
        assert session.execute(select(func.count()).where(GiftCard.program_id == api.program_id)).scalar_one() == 0


def test_a_card_may_be_dated_beyond_the_minimum_validity(api: ApiClient) -> None:
    card = issue(api, expires_at="2028-01-31T12:00:00+02:00")

    assert card["expires_at"] == "2028-01-31T10:00:00+00:00"


def test_a_code_is_found_however_it_is_typed(api: ApiClient) -> None:
    code = issue(api)["code"]

    assert balance(api, code.lower()) == "25.00"
    assert balance(api, normalised(code)) == "25.00"


def test_a_card_pays_part_of_an_order_and_keeps_the_rest(api: ApiClient, engine: Engine) -> None:
    code = issue(api)["code"]

    response = move(api, code, "redemptions", "10.50", "order-1", "pay-1")

    assert response.status_code == 201, response.text
    assert response.json()["amount"] == "10.50"
    assert response.json()["gift_card"]["balance"] == "14.50"
    assert balance(api, code) == "14.50"
    assert balanced(engine, api)


def test_a_redemption_sent_again_is_answered_as_the_first_and_pays_once(api: ApiClient) -> None:
    code = issue(api)["code"]
    first = move(api, code, "redemptions", "10.00", "order-1", "pay-1")

    again = move(api, code, "redemptions", "10.00", "order-1", "pay-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert balance(api, code) == "15.00"


def test_a_redemption_the_balance_does_not_cover_is_refused_whole(api: ApiClient) -> None:
    code = issue(api, "20.00")["code"]

    error = error_of(move(api, code, "redemptions", "20.01", "order-1", "pay-1"), 409, "gift_card_insufficient_balance")

    assert error["details"] == [{"balance_minor": 2000, "asked_minor": 2001}]
    assert balance(api, code) == "20.00"


def test_the_exact_balance_can_be_spent_to_zero(api: ApiClient) -> None:
    code = issue(api, "20.00")["code"]

    assert move(api, code, "redemptions", "20.00", "order-1", "pay-1").status_code == 201

    assert balance(api, code) == "0.00"
    error_of(move(api, code, "redemptions", "0.01", "order-2", "pay-2"), 409, "gift_card_insufficient_balance")


def test_a_refund_puts_back_at_most_what_the_card_paid_for_that_order(api: ApiClient, engine: Engine) -> None:
    code = issue(api)["code"]
    move(api, code, "redemptions", "10.00", "order-1", "pay-1")

    part = move(api, code, "refunds", "4.00", "order-1", "back-1")
    too_much = move(api, code, "refunds", "6.01", "order-1", "back-2")
    other_order = move(api, code, "refunds", "1.00", "order-2", "back-3")
    rest = move(api, code, "refunds", "6.00", "order-1", "back-4")

    assert part.json()["gift_card"]["balance"] == "19.00"
    assert error_of(too_much, 409, "refund_exceeds_spent")["details"] == [{"refundable_minor": 600, "asked_minor": 601}]
    error_of(other_order, 409, "refund_exceeds_spent")
    assert rest.json()["gift_card"]["balance"] == "25.00"
    assert balanced(engine, api)


def test_a_disabled_card_pays_nothing_and_takes_no_refund_but_keeps_its_balance(api: ApiClient) -> None:
    code = issue(api)["code"]
    move(api, code, "redemptions", "5.00", "order-1", "pay-1")

    disabled = api.post(f"/api/v1/gift-cards/{code}/disable", {"reason": "reported stolen"})
    again = api.post(f"/api/v1/gift-cards/{code}/disable", {"reason": "reported stolen"})

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    assert again.json() == disabled.json()
    error_of(move(api, code, "redemptions", "1.00", "order-2", "pay-2"), 409, "gift_card_disabled")
    error_of(move(api, code, "refunds", "1.00", "order-1", "back-1"), 409, "gift_card_disabled")
    assert balance(api, code) == "20.00"


def test_only_an_admin_key_disables_a_card(api: ApiClient) -> None:
    code = issue(api)["code"]

    error_of(api.as_integration().post(f"/api/v1/gift-cards/{code}/disable", {"reason": "x"}), 403, "forbidden")


def test_an_expired_card_shows_nothing_left_and_pays_nothing(api: ApiClient, clock: Clock) -> None:
    code = issue(api, expires_at="2027-12-01T00:00:00+00:00")["code"]

    clock.set("2027-12-01T00:00:00+00:00")

    shown = api.get(f"/api/v1/gift-cards/{code}").json()
    assert (shown["status"], shown["balance"]) == ("expired", "0.00")
    error_of(move(api, code, "redemptions", "1.00", "order-1", "pay-1"), 409, "gift_card_expired")


def test_the_jobs_write_an_expired_cards_remainder_off_to_breakage_at_its_expiry(
    api: ApiClient, engine: Engine
) -> None:
    card = issue(api, expires_at="2027-12-01T00:00:00+00:00")
    move(api, card["code"], "redemptions", "5.00", "order-1", "pay-1")

    run_jobs(api, engine, "2027-12-02T03:00:00+00:00")
    run_jobs(api, engine, "2027-12-03T03:00:00+00:00")  # nothing more the second time

    with Session(engine) as session:
        expired = session.execute(
            select(LedgerEntry.account, LedgerEntry.amount, LedgerEntry.occurred_at).where(
                LedgerEntry.program_id == api.program_id, LedgerEntry.kind == "expire", LedgerEntry.asset == "EUR"
            )
        ).all()
        assert verify(session, api.program_id).is_balanced
    assert sorted((account, amount) for account, amount, _ in expired) == [
        (f"gift_card:{card['id']}", -2000),
        ("program:breakage", 2000),
    ]
    assert {moment.isoformat() for _, _, moment in expired} == {"2027-12-01T00:00:00+00:00"}


def test_an_unknown_code_is_not_found_and_every_failed_lookup_is_logged_and_counted(
    api: ApiClient, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="punchcard.wallet.service"):
        error_of(api.get("/api/v1/gift-cards/AAAA-BBBB-CCCC-DDDD"), 404, "gift_card_not_found")
        error_of(move(api, "2222-3333-4444-5555", "redemptions", "1.00", "o", "k"), 404, "gift_card_not_found")

    assert [record.getMessage().endswith("'DDDD'") for record in caplog.records].count(True) == 1
    assert len(caplog.records) == 2
    with Session(engine) as session:
        tried = session.execute(select(LookupFailure.tried).where(LookupFailure.program_id == api.program_id))
        assert sorted(tried.scalars()) == ["5555", "DDDD"]


def test_after_too_many_failed_lookups_from_one_address_even_a_real_code_waits_for_the_window(
    api: ApiClient, clock: Clock
) -> None:
    code = issue(api)["code"]
    for guess in ("AAAA-BBBB-CCCC-DDDD", "EEEE-FFFF-GGGG-HHHH", "JJJJ-KKKK-MMMM-NNNN"):
        error_of(api.get(f"/api/v1/gift-cards/{guess}"), 404, "gift_card_not_found")

    limited = api.get(f"/api/v1/gift-cards/{code}")
    refused_payment = move(api, code, "redemptions", "1.00", "order-1", "pay-1")
    clock.set("2026-11-25T12:15:01+00:00")
    later = api.get(f"/api/v1/gift-cards/{code}")

    error_of(limited, 429, "gift_card_lookups_limited")
    assert limited.headers["Retry-After"] == "900"
    error_of(refused_payment, 429, "gift_card_lookups_limited")
    assert later.status_code == 200
    assert later.json()["balance"] == "25.00"


def test_a_card_of_one_program_is_unknown_to_another(api: ApiClient, make_program: ProgramMaker) -> None:
    code = issue(api)["code"]
    other = make_program(GIFT_CARDS)

    error_of(other.get(f"/api/v1/gift-cards/{code}"), 404, "gift_card_not_found")
    error_of(move(other, code, "redemptions", "1.00", "order-1", "pay-1"), 404, "gift_card_not_found")
    assert balance(api, code) == "25.00"


def test_verify_names_a_card_taken_below_zero_behind_the_services_back(api: ApiClient, engine: Engine) -> None:
    from datetime import UTC, datetime

    from punchcard.ledger import money
    from punchcard.ledger.domain import EntryKind, gift_card_account
    from punchcard.ledger.posting import MoneyPosting

    card = issue(api, "5.00")
    moment = datetime(2026, 11, 25, tzinfo=UTC)
    with Session(engine) as session:
        posting = MoneyPosting(api.program_id, 1, "EUR", moment, moment, "test")
        money.post(session, posting, gift_card_account(card["id"]), EntryKind.SPEND, -700)  # balanced, but below zero
        problems = verify(session, api.program_id).problems
        session.rollback()

    assert [(problem.check, problem.detail) for problem in problems] == [
        ("money_not_negative", f"gift_card:{card['id']} holds -200 EUR")
    ]
