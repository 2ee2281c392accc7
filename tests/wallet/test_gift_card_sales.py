"""Gift cards sold as products: a purchase line of a gift-card sku sells one card per unit, issued when the order's
return window has closed (less what was refunded inside it), its code mailed to the buyer and then kept no longer."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.ledger.verify import verify
from punchcard.wallet.models import GiftCard
from tests.factories import ApiClient, ProgramMaker, line, run_jobs
from tests.mailing.test_member_mails import mails_to, member, rows, send, subjects, text_of
from tests.smtp import Mailbox

GIFT = line("GIFT-25", "gift-cards", "25.00")
BOUGHT_AT = "2026-11-10T10:00:00+00:00"
WINDOW_CLOSED = "2026-11-23T22:00:00+00:00"  # 14 days on, the last local day (Tallinn) has ended


def program(make_program: ProgramMaker, pending_days: int = 14) -> ApiClient:
    return make_program(
        {
            "gift_cards": {"expire_after_months": 36, "products": [{"sku": "GIFT-25", "amount": "25.00"}]},
            "points": {"pending_days": pending_days},
        }
    )


def cards(engine: Engine, api: ApiClient) -> list[GiftCard]:
    with Session(engine) as session:
        query = select(GiftCard).where(GiftCard.program_id == api.program_id).order_by(GiftCard.id)
        return list(session.execute(query).scalars())


def test_the_cards_of_a_sale_are_issued_when_the_return_window_closes_and_their_codes_mailed_to_the_buyer(
    make_program: ProgramMaker, engine: Engine, client: TestClient, mailbox: Mailbox
) -> None:
    api = program(make_program)
    anna, address = member(api, "anna")
    api.purchase(anna, [line("GIFT-25", "gift-cards", "25.00", 2)], order_id="O-1", occurred_at=BOUGHT_AT)

    run_jobs(api, engine, "2026-11-23T21:00:00+00:00")
    before = cards(engine, api)
    run_jobs(api, engine, WINDOW_CLOSED)
    send(client)

    assert before == []
    issued = cards(engine, api)
    assert [(card.amount_minor, card.source, card.order_id) for card in issued] == [(2500, "sale", "O-1")] * 2
    assert subjects(mailbox, address) == ["Your gift card from Bean There Coffee Roasters"] * 2
    codes = [
        re.search(r"\n\n([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})\n\n", text_of(m))
        for m in mails_to(mailbox, address)
    ]
    assert all(codes)
    for found in codes:
        assert found is not None
        assert api.get(f"/api/v1/gift-cards/{found.group(1)}").json()["balance"] == "25.00"
    assert [card.delivery_code for card in cards(engine, api)] == [None, None]  # delivered: kept no longer
    assert [(row.kind, row.channel, row.status) for row in rows(engine, api) if row.kind == "gift_card_sold"] == [
        ("gift_card_sold", "email", "sent")
    ] * 2
    with Session(engine) as session:
        assert verify(session, api.program_id).is_balanced


def test_units_refunded_inside_the_window_are_never_issued(make_program: ProgramMaker, engine: Engine) -> None:
    api = program(make_program)
    anna = api.member()
    api.purchase(anna, [line("GIFT-25", "gift-cards", "25.00", 3)], order_id="O-1", occurred_at=BOUGHT_AT)
    api.refund(anna, "O-1", refund_lines=[{"sku": "GIFT-25", "quantity": 2}], occurred_at="2026-11-15T10:00:00+00:00")

    run_jobs(api, engine, WINDOW_CLOSED)

    assert len(cards(engine, api)) == 1


def test_an_order_refunded_whole_inside_the_window_issues_nothing(make_program: ProgramMaker, engine: Engine) -> None:
    api = program(make_program)
    anna = api.member()
    api.purchase(anna, [GIFT, line("BEANS", "coffee-beans", "12.50")], order_id="O-1", occurred_at=BOUGHT_AT)
    api.refund(anna, "O-1", amount="37.50", occurred_at="2026-11-15T10:00:00+00:00")

    run_jobs(api, engine, WINDOW_CLOSED)

    assert cards(engine, api) == []


def test_without_a_return_window_the_card_is_issued_with_the_purchase(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = program(make_program, pending_days=0)
    anna = api.member()

    api.purchase(anna, [GIFT], order_id="O-1")

    [card] = cards(engine, api)
    assert (card.amount_minor, card.member_id is not None, card.delivery_code is not None) == (2500, True, True)


def test_a_gift_card_line_earns_no_points(make_program: ProgramMaker) -> None:
    api = program(make_program, pending_days=0)
    anna = api.member()

    answer = api.purchase(anna, [GIFT], order_id="O-1")

    assert answer["effects"] == [effect for effect in answer["effects"] if effect["type"] != "points_earned"]
