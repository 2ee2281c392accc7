"""The console's gift cards and store credit: the liability page's figures, each checked against two months of cards
and credit moved through the API and the jobs; the cards listed newest first, found by the last four symbols of their
code and paged; a card with its ledger history; disabling a card (with a reason, audited, once, only by the roles that
may); and on the member page the member's store credit and the grant form (with a reason, audited, exactly once per
form however often it is sent, and refused with an error for an amount that is not one)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.admin.conftest import Console, audit_count, audit_entries, metric
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, line, run_jobs
from tests.wallet.test_cashback import CASHBACK, ONE_POINT

from punchcard.ledger.verify import verify
from punchcard.staff.domain import Action, Role
from punchcard.wallet import figures

WALLET: dict[str, Any] = {
    "earning_rules": [ONE_POINT, CASHBACK],
    "points": {"pending_days": 14},  # cashback waits in the return window too
    "gift_cards": {"minimum_validity_months": 0},  # so that a card may be issued to expire within the story
}
MERCH = [line("MUG", "merch", "9.99"), line("TEE", "merch", "25.00")]
"""2% cashback: 0.19 + 0.50 = €0.69."""


def issue(api: ApiClient, amount: str, key: str, **fields: Any) -> dict[str, Any]:
    response = api.post(
        "/api/v1/gift-cards", {"amount": amount, "currency": "EUR", **fields}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def move(api: ApiClient, card: dict[str, Any], what: str, amount: str, order_id: str) -> None:
    response = api.post(
        f"/api/v1/gift-cards/{card['code']}/{what}",
        {"amount": amount, "order_id": order_id},
        headers={"Idempotency-Key": f"{what}-{order_id}"},
    )
    assert response.status_code == 201, response.text


def grant(api: ApiClient, member: str, amount: str, key: str) -> None:
    response = api.post(
        f"/api/v1/members/{member}/store-credit/grants",
        {"amount": amount, "reason": "Late delivery"},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text


def spend_credit(api: ApiClient, member: str, amount: str, order_id: str) -> None:
    response = api.post(
        f"/api/v1/members/{member}/store-credit/redemptions",
        {"amount": amount, "order_id": order_id},
        headers={"Idempotency-Key": f"spend-{order_id}"},
    )
    assert response.status_code == 201, response.text


def card_of(api: ApiClient, card: dict[str, Any]) -> dict[str, Any]:
    response = api.get(f"/api/v1/gift-cards/{card['code']}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def credit_of(api: ApiClient, member: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/members/{member}/store-credit")
    assert response.status_code == 200, response.text
    return dict(response.json())


@dataclass(frozen=True)
class Story:
    api: ApiClient
    anna: str
    a: dict[str, Any]
    b: dict[str, Any]
    c: dict[str, Any]

    @property
    def base(self) -> str:
        return f"/admin/p/{self.api.slug}"


@pytest.fixture
def story(make_program: ProgramMaker, clock: Clock, engine: Engine) -> Story:
    return tell(make_program, clock, engine)


def tell(make_program: ProgramMaker, clock: Clock, engine: Engine) -> Story:
    """Two months of money, told through the API as it happened (times UTC; Tallinn is 2 hours ahead in November),
    read on 25 November:

    - October: card A of €50.00 and card B of €20.00 (expiring on 20 November) are issued; A pays €15.00, B €8.00;
      Anna is granted €5.00 of store credit;
    - November: card C of €30.00 is issued; A pays €10.00 and takes €4.00 of it back in a refund; Anna spends €2.00
      of her credit and earns €0.69 cashback, pending for 14 days; the jobs write B's €12.00 off at its expiry.
    """
    api = make_program(WALLET)
    anna = api.member("anna", name="Anna Tamm", enrolled_at="2026-09-01T09:00:00+00:00")
    clock.set("2026-10-05T10:00:00+00:00")
    a = issue(api, "50.00", "card-a")
    clock.set("2026-10-06T10:00:00+00:00")
    b = issue(api, "20.00", "card-b", expires_at="2026-11-20T00:00:00+00:00")
    clock.set("2026-10-07T10:00:00+00:00")
    move(api, a, "redemptions", "15.00", "o-1")
    move(api, b, "redemptions", "8.00", "o-2")
    clock.set("2026-10-08T10:00:00+00:00")
    grant(api, anna, "5.00", "grant-anna")
    clock.set("2026-11-10T10:00:00+00:00")
    c = issue(api, "30.00", "card-c")
    clock.set("2026-11-12T10:00:00+00:00")
    move(api, a, "redemptions", "10.00", "o-3")
    clock.set("2026-11-13T10:00:00+00:00")
    move(api, a, "refunds", "4.00", "o-3")
    clock.set("2026-11-14T10:00:00+00:00")
    spend_credit(api, anna, "2.00", "o-4")
    clock.set("2026-11-20T10:00:00+00:00")
    api.purchase(anna, MERCH, order_id="o-5", occurred_at="2026-11-20T10:00:00+00:00")
    run_jobs(api, engine, "2026-11-21T00:00:00+00:00")
    clock.set("2026-11-25T12:00:00+00:00")
    return Story(api, anna, a, b, c)


FIGURES = {
    "gift-cards-outstanding": "€59.00",  # A 50 − 15 − 10 + 4 = 29, B written off, C 30
    "credit-outstanding": "€3.00",  # 5 − 2
    "pending-cashback": "€0.69",
    "liability": "€62.69",
    "breakage": "€12.00",
    "gift-cards-month-issued": "€30.00",
    "gift-cards-month-redeemed": "€6.00",  # 10 − 4 refunded
    "gift-cards-month-taken_back": "€0.00",
    "gift-cards-month-expired": "€12.00",  # B's remainder, dated at its expiry on 20 November
    "gift-cards-all-issued": "€100.00",
    "gift-cards-all-redeemed": "€29.00",  # 15 + 8 + 6
    "gift-cards-all-expired": "€12.00",
    "credit-month-issued": "€0.69",
    "credit-month-redeemed": "€2.00",
    "credit-all-issued": "€5.69",
    "credit-all-redeemed": "€2.00",
    "credit-all-taken_back": "€0.00",
    "credit-all-expired": "€0.00",
}


def test_the_page_shows_the_liability_and_its_movements_as_the_ledger_has_them(
    story: Story, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    page = signed_in(Role.VIEWER).page(f"{story.base}/wallet")

    assert {name: metric(page, name) for name in FIGURES} == FIGURES
    # The same as the API shows card by card and member by member
    balances = [card_of(story.api, card)["balance"] for card in (story.a, story.b, story.c)]
    assert balances == ["29.00", "0.00", "30.00"]
    assert (credit_of(story.api, story.anna)["balance"], credit_of(story.api, story.anna)["pending"]) == (
        "3.00",
        "0.69",
    )
    assert "€100.00 issued − €29.00 redeemed − €12.00 expired = €59.00 outstanding" in page
    assert "€5.69 issued − €2.00 redeemed − €0.00 taken back = €3.69 outstanding" in page
    with Session(engine) as session:
        assert verify(session, story.api.program_id).is_balanced


def test_this_month_is_the_calendar_month_in_the_programs_zone(
    story: Story, signed_in: Callable[[Role], Console], clock: Clock
) -> None:
    # On 1 December at 00:30 in Tallinn (22:30 UTC the day before) November's movements are no longer this month's
    clock.set("2026-11-30T22:30:00+00:00")
    page = signed_in(Role.VIEWER).page(f"{story.base}/wallet")
    assert metric(page, "gift-cards-month-issued") == "€0.00"
    assert metric(page, "gift-cards-all-issued") == "€100.00"
    # An hour earlier it is still November there
    clock.set("2026-11-30T21:30:00+00:00")
    page = signed_in(Role.VIEWER).page(f"{story.base}/wallet")
    assert metric(page, "gift-cards-month-issued") == "€30.00"


def test_a_program_without_cards_or_credit_owes_nothing(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    api = make_program()
    page = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/wallet")
    assert (metric(page, "liability"), metric(page, "gift-cards-all-issued")) == ("€0.00", "€0.00")
    assert "No gift cards yet." in page


def listed(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-card="(\d+)">', page)]


def test_cards_are_listed_newest_first_with_their_balance_and_status(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.SUPPORT).page(f"{story.base}/wallet")

    assert listed(page) == [story.c["id"], story.b["id"], story.a["id"]]
    a, b = story.a["id"], story.b["id"]
    assert (metric(page, f"card-{a}-balance"), metric(page, f"card-{a}-status")) == ("€29.00", "active")
    assert (metric(page, f"card-{b}-balance"), metric(page, f"card-{b}-status")) == ("€0.00", "expired")
    assert story.a["code"] not in page
    assert story.a["code"].replace("-", "") not in page  # only ever the last four symbols


def test_a_card_is_found_by_the_last_four_symbols_of_its_code_however_typed(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    console = signed_in(Role.VIEWER)
    last4 = story.a["last4"]
    typed = f" {last4[:2].lower()}-{last4[2:].lower()} "

    page = console.page(f"{story.base}/wallet", q=typed)

    assert listed(page) == [story.a["id"]]
    assert f"1 card ending in {last4}" in page


def test_a_search_that_is_not_four_symbols_says_so_and_lists_nothing(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    response = signed_in(Role.VIEWER).get(f"{story.base}/wallet", q="AB1")

    assert response.status_code == 422
    assert '<p class="error" id="error-q">Type the last four letters or digits' in response.text
    assert listed(response.text) == []


def test_the_list_pages_older_cards(
    story: Story, signed_in: Callable[[Role], Console], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figures, "CARD_PAGE", 2)
    console = signed_in(Role.VIEWER)

    first = console.page(f"{story.base}/wallet")
    older = re.search(r'href="([^"]+)">Older cards</a>', first)
    assert older is not None
    second = console.page(older.group(1).replace("&amp;", "&").split("#")[0])

    assert listed(first) == [story.c["id"], story.b["id"]]
    assert listed(second) == [story.a["id"]]
    assert "Older cards" not in second
    assert "Newest cards" in second


def test_a_card_shows_its_ledger_history_with_the_balance_after_each_movement(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"{story.base}/wallet/cards/{story.a['id']}")

    rows = re.findall(
        r'<tr data-kind="(\w+)">\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td class="num \w+">([^<]*)</td>\s*'
        r'<td class="num">([^<]*)</td>',
        page,
    )
    assert rows == [
        ("issue", "+€50.00", "€50.00"),
        ("spend", "−€15.00", "€35.00"),
        ("spend", "−€10.00", "€25.00"),
        ("refund", "+€4.00", "€29.00"),
    ]
    assert (metric(page, "balance"), metric(page, "amount"), metric(page, "status")) == ("€29.00", "€50.00", "active")


def test_a_card_of_another_program_is_not_found(
    story: Story, make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    other = make_program()
    response = signed_in(Role.VIEWER).get(f"/admin/p/{other.slug}/wallet/cards/{story.a['id']}")
    assert response.status_code == 404


def redeem(api: ApiClient, card: dict[str, Any], amount: str, order_id: str) -> httpx.Response:
    return api.post(
        f"/api/v1/gift-cards/{card['code']}/redemptions",
        {"amount": amount, "order_id": order_id},
        headers={"Idempotency-Key": f"later-{order_id}"},
    )


def test_support_disables_a_card_with_a_reason_once_and_the_audit_log_says_so(
    story: Story, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.SUPPORT)
    here = f"{story.base}/wallet/cards/{story.a['id']}"

    response = console.post(f"{here}/disable", {"reason": "reported stolen"})
    again = console.post(f"{here}/disable", {"reason": "reported stolen twice"})

    assert (response.status_code, response.headers["location"]) == (303, f"{here}?notice=disabled")
    assert (again.status_code, again.headers["location"]) == (303, f"{here}?notice=already_disabled")
    assert card_of(story.api, story.a)["status"] == "disabled"
    assert card_of(story.api, story.a)["balance"] == "29.00"  # still owed: the liability stays
    assert redeem(story.api, story.a, "1.00", "after").json()["error"]["code"] == "gift_card_disabled"
    [entry] = audit_entries(engine, program_id=story.api.program_id, action=Action.GIFT_CARD_DISABLED.value)
    assert (entry.target, entry.reason) == (f"gift card {story.a['id']} ending {story.a['last4']}", "reported stolen")
    assert entry.details == {"card_id": story.a["id"], "last4": story.a["last4"], "balance": "29.00", "currency": "EUR"}
    page = console.page(here, notice="disabled")
    assert "The gift card is disabled" in page
    assert metric(page, "disabled").endswith("“reported stolen”")
    assert "Disable gift card" not in page  # no form for a card disabled already
    assert metric(console.page(f"{story.base}/wallet"), "gift-cards-outstanding") == "€59.00"


def test_disabling_needs_a_reason(story: Story, signed_in: Callable[[Role], Console], engine: Engine) -> None:
    response = signed_in(Role.OWNER).post(f"{story.base}/wallet/cards/{story.a['id']}/disable", {"reason": " x "})

    assert response.status_code == 422
    assert '<p class="error" id="error-reason">say why' in response.text
    assert card_of(story.api, story.a)["status"] == "active"
    assert audit_count(engine, program_id=story.api.program_id, action=Action.GIFT_CARD_DISABLED.value) == 0


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MARKETER])
def test_a_role_that_may_not_block_may_not_disable_a_card_nor_sees_the_form(
    story: Story, signed_in: Callable[[Role], Console], engine: Engine, role: Role
) -> None:
    console = signed_in(role)
    here = f"{story.base}/wallet/cards/{story.a['id']}"

    response = console.post(f"{here}/disable", {"reason": "reported stolen"})

    assert response.status_code == 403
    assert f"the {role.value} role may not do this" in response.text
    assert card_of(story.api, story.a)["status"] == "active"
    assert audit_count(engine, program_id=story.api.program_id, action=Action.GIFT_CARD_DISABLED.value) == 0
    assert "Disable gift card" not in console.page(here)


def test_disabling_without_the_forms_csrf_token_is_refused(story: Story, signed_in: Callable[[Role], Console]) -> None:
    response = signed_in(Role.OWNER).post(
        f"{story.base}/wallet/cards/{story.a['id']}/disable", {"reason": "reported stolen"}, csrf=False
    )
    assert response.status_code == 403
    assert card_of(story.api, story.a)["status"] == "active"


@pytest.mark.parametrize("role", [Role.OWNER, Role.SUPPORT, Role.MARKETER, Role.VIEWER])
def test_the_page_is_in_every_roles_navigation(story: Story, signed_in: Callable[[Role], Console], role: Role) -> None:
    page = signed_in(role).page(f"{story.base}/dashboard")
    assert f'<a href="{story.base}/wallet">Gift cards &amp; credit</a>' in page


# --- the member page: store credit ----------------------------------------------------------------------------------


def grant_form_key(page: str) -> str:
    found = re.search(r'/store-credit/grants">.*?name="form_key" value="([0-9a-f]{32})"', page, re.DOTALL)
    assert found is not None, "no grant form on the page"
    return found.group(1)


def test_the_member_page_shows_the_members_store_credit_and_its_latest_movements(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"{story.base}/members/{story.anna}")

    assert (metric(page, "credit-available"), metric(page, "credit-pending")) == ("€3.00", "€0.69")
    assert re.findall(r'<tr data-credit="(\w+)">', page) == ["earn", "spend", "adjust"]
    assert "cashback (pending)" in page
    assert "Grant store credit" not in page  # a viewer changes nothing


def test_support_grants_store_credit_once_however_often_the_form_is_sent(
    story: Story, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.SUPPORT)
    here = f"{story.base}/members/{story.anna}"
    form = {"amount": "7.50", "reason": "parcel arrived late", "form_key": grant_form_key(console.page(here))}

    answers = [console.post(f"{here}/store-credit/grants", form) for _ in range(2)]

    assert [(answer.status_code, answer.headers["location"]) for answer in answers] == [
        (303, f"{here}?notice=credit_granted")
    ] * 2
    shown = credit_of(story.api, story.anna)
    assert shown["balance"] == "10.50"
    assert [(item["kind"], item["amount"], item["description"]) for item in shown["history"][:1]] == [
        ("adjust", "7.50", "parcel arrived late")
    ]
    [entry] = audit_entries(engine, program_id=story.api.program_id, action=Action.STORE_CREDIT_GRANTED.value)
    assert (entry.target, entry.reason) == (f"member {story.anna}", "parcel arrived late")
    assert entry.details == {"amount": "7.50", "currency": "EUR", "available_after": "10.50"}
    page = console.page(here, notice="credit_granted")
    assert "The store credit was granted." in page
    assert metric(page, "credit-available") == "€10.50"
    assert "granted store credit (7.50 EUR) — “parcel arrived late”" in page
    # A new page has a new form: the next grant is a new one
    form = {**form, "form_key": grant_form_key(page)}
    assert console.post(f"{here}/store-credit/grants", form).status_code == 303
    assert credit_of(story.api, story.anna)["balance"] == "18.00"
    assert metric(console.page(f"{story.base}/wallet"), "credit-outstanding") == "€18.00"


@pytest.mark.parametrize(
    ("amount", "reason", "field", "message"),
    [
        ("0", "goodwill", "credit_amount", "the amount must be more than zero"),
        ("0.00", "goodwill", "credit_amount", "the amount must be more than zero"),
        ("-5.00", "goodwill", "credit_amount", "the amount must be more than zero"),
        ("5.001", "goodwill", "credit_amount", "EUR has 2 decimals: enter an amount such as 5.00"),
        ("5,00", "goodwill", "credit_amount", "enter an amount in EUR, such as 5.00"),
        ("", "goodwill", "credit_amount", "enter an amount in EUR, such as 5.00"),
        ("NaN", "goodwill", "credit_amount", "enter an amount in EUR, such as 5.00"),
        ("2000000", "goodwill", "credit_amount", "at most 1,000,000 EUR at a time"),
        ("5.00", "", "credit_reason", "say why, in 3 to 500 characters"),
        ("5.00", " x ", "credit_reason", "say why, in 3 to 500 characters"),
    ],
)
def test_a_grant_that_is_not_one_shows_an_error_and_changes_nothing(
    story: Story,
    signed_in: Callable[[Role], Console],
    engine: Engine,
    amount: str,
    reason: str,
    field: str,
    message: str,
) -> None:
    console = signed_in(Role.SUPPORT)
    here = f"{story.base}/members/{story.anna}"
    before = credit_of(story.api, story.anna)
    form = {"amount": amount, "reason": reason, "form_key": grant_form_key(console.page(here))}

    response = console.post(f"{here}/store-credit/grants", form)

    assert response.status_code == 422
    assert re.search(rf'<p class="error" id="error-{field}">{re.escape(message)}', response.text)
    assert f'id="credit_amount" name="amount" inputmode="decimal" required value="{amount}"' in response.text
    assert credit_of(story.api, story.anna) == before
    assert audit_count(engine, program_id=story.api.program_id, action=Action.STORE_CREDIT_GRANTED.value) == 0


def test_a_grant_without_a_valid_one_time_key_is_refused(story: Story, signed_in: Callable[[Role], Console]) -> None:
    here = f"{story.base}/members/{story.anna}"
    form = {"amount": "5.00", "reason": "goodwill", "form_key": "not-a-key"}
    response = signed_in(Role.SUPPORT).post(f"{here}/store-credit/grants", form)
    assert response.status_code == 422
    assert "the form has no valid one-time key" in response.text
    assert credit_of(story.api, story.anna)["balance"] == "3.00"


def test_the_same_form_sent_again_with_another_amount_grants_nothing_more(
    story: Story, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.SUPPORT)
    here = f"{story.base}/members/{story.anna}"
    form = {"amount": "5.00", "reason": "goodwill", "form_key": uuid.uuid4().hex}
    assert console.post(f"{here}/store-credit/grants", form).status_code == 303

    response = console.post(f"{here}/store-credit/grants", {**form, "amount": "50.00"})

    assert response.status_code == 422
    assert "this form was already sent with another amount or reason; reload the page" in response.text
    assert credit_of(story.api, story.anna)["balance"] == "8.00"
    assert audit_count(engine, program_id=story.api.program_id, action=Action.STORE_CREDIT_GRANTED.value) == 1


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MARKETER])
def test_a_role_that_may_not_adjust_points_may_not_grant_credit(
    story: Story, signed_in: Callable[[Role], Console], engine: Engine, role: Role
) -> None:
    here = f"{story.base}/members/{story.anna}"
    form = {"amount": "5.00", "reason": "goodwill", "form_key": uuid.uuid4().hex}

    response = signed_in(role).post(f"{here}/store-credit/grants", form)

    assert response.status_code == 403
    assert credit_of(story.api, story.anna)["balance"] == "3.00"
    assert audit_count(engine, program_id=story.api.program_id, action=Action.STORE_CREDIT_GRANTED.value) == 0


# --- the figures on their own -----------------------------------------------------------------------------------------


def test_the_last_four_are_read_as_staff_type_them() -> None:
    assert [figures.last4_of(typed) for typed in ("ab12", " AB-12 ", "a b 1 2", "AB1", "ABC12", "AB!2", "ÄB12")] == [
        "AB12",
        "AB12",
        "AB12",
        None,
        None,
        None,
        None,
    ]
