"""The API's contract for callers and bad input: keys, scopes, program isolation, the error envelope, and that no
rejected request ever changes anything or answers with a 500."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import event as sqlalchemy_event

from punchcard.kit import invalidation
from punchcard.kit.db import unit_of_work
from punchcard.program import service as programs
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, earned, error_of, line, snapshot

PURCHASE_AT = "2026-06-01T12:00:00+00:00"


def purchase_body(api: ApiClient, member: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": api.next_id("evt"),
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": PURCHASE_AT,
        "order_id": api.next_id("order"),
        "currency": "EUR",
        "lines": [line("BEANS-1", "coffee-beans", "12.50", 2)],
        **fields,
    }


def redeem(api: ApiClient, member: str, reward: str, key: str) -> Any:
    return api.post(f"/api/v1/members/{member}/redemptions", {"reward": reward}, headers={"Idempotency-Key": key})


# --- keys -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token pc_adm_x", "Bearer pc_adm_not-a-real-key"],
    ids=["missing", "empty", "basic-auth", "bearer-without-key", "bearer-blank", "other-scheme", "unknown-key"],
)
def test_a_request_without_a_valid_key_is_401_in_the_error_envelope(
    api: ApiClient, client: TestClient, authorization: str | None
) -> None:
    # Given a member of a program
    member = api.member()
    before = snapshot(api, member)
    headers = {} if authorization is None else {"Authorization": authorization}
    # When someone reads them, and tries to adjust their points, without a valid key
    read = client.get(f"/api/v1/members/{member}", headers=headers)
    write = client.post(
        f"/api/v1/members/{member}/adjustments", json={"points": 100, "reason": "free points"}, headers=headers
    )
    # Then both are 401 unauthorized, in the standard envelope, and nothing changed
    for response in (read, write):
        assert set(response.json()) == {"error"}
        assert set(error_of(response, 401, "unauthorized")) == {"code", "message", "details"}
    assert snapshot(api, member) == before


def test_a_key_is_accepted_with_any_case_of_the_bearer_scheme(api: ApiClient, client: TestClient) -> None:
    member = api.member()
    response = client.get(f"/api/v1/members/{member}", headers={"Authorization": f"bearer {api.key}"})
    assert response.status_code == 200, response.text
    assert response.json()["external_id"] == member


def test_a_key_just_used_is_not_read_again_until_its_program_publishes_a_new_version(
    api: ApiClient, client: TestClient, make_program: ProgramMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a count of the server's reads of API keys
    key_reads = []

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM api_keys" in statement:
            key_reads.append(statement)

    engine = client.app.state.sessions.kw["bind"]  # type: ignore[attr-defined]
    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        # When a member is enrolled and read three times with the same key, while no change is announced (other
        # test workers' programs, which PostgreSQL's NOTIFY tells this process of, and a slow machine's second are
        # held off: the cache's own clock and generation are what is under test)
        frozen = invalidation.generation()
        with monkeypatch.context() as held:
            held.setattr(programs, "KEY_CACHE_SECONDS", 3600.0)
            held.setattr(invalidation, "generation", lambda: frozen)
            member = api.member()
            for _ in range(3):
                assert client.get(f"/api/v1/members/{member}", headers=api.headers).status_code == 200
        # Then the key was read once: the server remembers a live key for a moment (program.service.for_key)
        assert len(key_reads) == 1
        # When the program publishes a new version in this process
        text = yaml.safe_dump({**make_program.definition, "slug": api.slug, "name": "Renamed"})
        with unit_of_work(engine) as session:
            programs.apply(session, programs.parse_text(text, "yaml"), text, "yaml", NOW)
        # Then the next request reads the key again, and with it the version now in force
        assert client.get(f"/api/v1/members/{member}", headers=api.headers).status_code == 200
        assert len(key_reads) == 2
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)


def test_a_key_revoked_by_another_process_stops_working(
    api: ApiClient, client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a key the server has just accepted, and so remembers
    member = api.member()
    assert client.get(f"/api/v1/members/{member}", headers=api.headers).status_code == 200
    heard = invalidation.generation()
    # When an operator revokes it with the command line, in a process of its own
    punchcard = Path(sys.executable).with_name("punchcard")
    subprocess.run(
        [str(punchcard), "--database-url", database_url, "apikey", "revoke", "--program", api.slug, api.key],
        check=True,
        capture_output=True,
    )
    if client.app.state.invalidation is not None:  # type: ignore[attr-defined]
        # Then on PostgreSQL the server hears of it (LISTEN/NOTIFY) as the revocation commits
        wait_until(lambda: invalidation.generation() != heard)
    else:
        # Then on SQLite, which cannot notify, the server reads the key again once its backstop has passed
        monkeypatch.setattr(programs, "KEY_CACHE_SECONDS", 0.0)
    # And refuses the key from then on
    error_of(client.get(f"/api/v1/members/{member}", headers=api.headers), 401, "unauthorized")


def wait_until(condition: Callable[[], bool]) -> None:
    """Wait for something another process does; what is asserted is that it happens, not how soon."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.01)


def test_a_key_of_one_program_never_sees_or_changes_another_programs_members(make_program: ProgramMaker) -> None:
    # Given two programs, A with a member who has bought something, and B
    program_a, program_b = make_program(), make_program()
    member = program_a.member("shared-id")
    program_a.purchase(member, [line("MUG", "merch", "100.00")], order_id="A-1")
    before = snapshot(program_a, member)
    # When B's key reads the member, their ledger and their coupons
    for path in (f"/api/v1/members/{member}", f"/api/v1/members/{member}/ledger", f"/api/v1/members/{member}/coupons"):
        # Then the member does not exist for B
        error_of(program_b.get(path), 404, "member_not_found")
    # And B's catalogue view for the member does not exist either
    error_of(program_b.get("/api/v1/rewards", params={"member": member}), 404, "member_not_found")
    # When B posts a purchase, redeems a reward or adjusts points for A's member
    error_of(program_b.post("/api/v1/events", purchase_body(program_b, member)), 404, "member_not_found")
    error_of(redeem(program_b, member, "free-drink", "b-1"), 404, "member_not_found")
    adjustment = {"points": -100, "reason": "stealing"}
    error_of(program_b.post(f"/api/v1/members/{member}/adjustments", adjustment), 404, "member_not_found")
    # And B refunds A's order
    refund = {
        "id": program_b.next_id("refund"),
        "type": "refund",
        "member_external_id": member,
        "occurred_at": "2026-06-02T12:00:00+00:00",
        "order_id": "A-1",
        "currency": "EUR",
        "amount": "100.00",
    }
    error_of(program_b.post("/api/v1/events", refund), 404, "member_not_found")
    # Then nothing changed in A
    assert snapshot(program_a, member) == before
    # And B may enrol its own member with the same external_id, who starts from scratch
    program_b.member("shared-id")
    assert program_b.points("shared-id")["available"] == 50
    assert program_a.points(member) == before[0]


def test_a_coupon_of_one_program_is_unknown_to_another(make_program: ProgramMaker) -> None:
    # Given a coupon issued in program A
    program_a, program_b = make_program(), make_program()
    member = program_a.member()
    program_a.purchase(member, [line("MUG", "merch", "150.00")])
    code = redeem(program_a, member, "free-drink", "k-1").json()["coupon"]["code"]
    order = {"total": "10.00", "currency": "EUR", "lines": [line("DRINK-ANY", "drinks", "3.50")]}
    # When program B validates, reads, redeems or releases it
    validation = program_b.post("/api/v1/coupons/validate", {"code": code, "order": order})
    # Then for B it does not exist
    assert validation.status_code == 200, validation.text
    assert validation.json() == {"valid": False, "reason": "coupon_not_found"}
    error_of(program_b.get(f"/api/v1/coupons/{code}"), 404, "coupon_not_found")
    error_of(program_b.post(f"/api/v1/coupons/{code}/redemptions", {"order_id": "B-1"}), 404, "coupon_not_found")
    error_of(program_b.post(f"/api/v1/coupons/{code}/release", {"order_id": "B-1"}), 404, "coupon_not_found")
    # And in A it is still unused
    assert program_a.get(f"/api/v1/coupons/{code}").json()["status"] == "active"


# --- scopes -----------------------------------------------------------------------------------------------------------


def test_an_integration_key_cannot_adjust_points_or_block_members(api: ApiClient) -> None:
    # Given a member and the shop's integration key
    member = api.member()
    shop = api.as_integration()
    before = snapshot(api, member)
    # When the shop tries to adjust points or to block the member
    adjustment = shop.post(f"/api/v1/members/{member}/adjustments", {"points": 100, "reason": "goodwill"})
    block = shop.patch(f"/api/v1/members/{member}", {"status": "blocked"})
    # Then both are forbidden and nothing changed
    error_of(adjustment, 403, "forbidden")
    error_of(block, 403, "forbidden")
    assert snapshot(api, member) == before
    assert api.get(f"/api/v1/members/{member}").json()["status"] == "active"


def test_an_integration_key_does_the_shops_everyday_work(api: ApiClient) -> None:
    # Given the shop's integration key
    shop = api.as_integration()
    # When it enrols a member, records a purchase, updates the profile and redeems a reward
    member = shop.member(email="ann@example.com")
    assert earned(shop.purchase(member, [line("BEANS-1", "coffee-beans", "50.00")])) == 100
    renamed = shop.patch(f"/api/v1/members/{member}", {"name": "Ann"})
    redemption = redeem(shop, member, "free-drink", "shop-1")
    # Then all of it is allowed
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Ann"
    assert redemption.status_code == 201, redemption.text
    assert shop.available(member) == 0


def test_an_admin_key_adjusts_points_and_blocks_members(api: ApiClient) -> None:
    # Given a member
    member = api.member()
    # When an admin gives goodwill points and then blocks the member
    adjustment = api.post(f"/api/v1/members/{member}/adjustments", {"points": 100, "reason": "goodwill"})
    block = api.patch(f"/api/v1/members/{member}", {"status": "blocked"})
    # Then both happen
    assert adjustment.status_code == 201, adjustment.text
    assert adjustment.json()["balance"] == {"available": 150, "pending": 0}
    assert block.status_code == 200, block.text
    assert block.json()["status"] == "blocked"
    # And a blocked member's purchases are refused without changing anything
    before = snapshot(api, member)
    error_of(api.post("/api/v1/events", purchase_body(api, member)), 422, "member_blocked")
    assert snapshot(api, member) == before


# --- malformed and invalid bodies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/v1/members", b'{"external_id": '),
        ("/api/v1/events", b'{"id": "e-1", "type": "purchase",}'),
        ("/api/v1/members/{member}/redemptions", b"{reward: free-drink}"),
        ("/api/v1/members/{member}/adjustments", b'{"points": 10 "reason": "x"}'),
        ("/api/v1/coupons/validate", b"\xff\xfe not even text"),
        ("/api/v1/preview", b"[" * 5000),
    ],
    ids=["truncated", "trailing-comma", "unquoted", "missing-comma", "binary", "unclosed-arrays"],
)
def test_malformed_json_is_400_malformed_json_and_changes_nothing(api: ApiClient, path: str, raw: bytes) -> None:
    member = api.member()
    before = snapshot(api, member)
    response = api.client.post(
        path.format(member=member),
        content=raw,
        headers={**api.headers, "Content-Type": "application/json", "Idempotency-Key": "k-1"},
    )
    error = error_of(response, 400, "malformed_json")
    assert error["details"] == []
    assert snapshot(api, member) == before


def fields_of(response: Any) -> list[str]:
    return [detail["field"] for detail in error_of(response, 422, "validation_error")["details"]]


def test_a_missing_field_is_named_in_the_details(api: ApiClient) -> None:
    assert fields_of(api.post("/api/v1/members", {"email": "ann@example.com"})) == ["external_id"]
    member = api.member()
    body = purchase_body(api, member)
    del body["occurred_at"]
    assert fields_of(api.post("/api/v1/events", body)) == ["occurred_at"]
    assert fields_of(api.post(f"/api/v1/members/{member}/adjustments", {"points": 5})) == ["reason"]
    assert fields_of(api.post("/api/v1/coupons/validate", {"code": "X"})) == ["order"]


def test_a_wrong_type_is_named_in_the_details_down_to_the_nested_field(api: ApiClient) -> None:
    member = api.member()
    before = snapshot(api, member)
    assert fields_of(api.post("/api/v1/members", {"external_id": 42})) == ["external_id"]
    assert fields_of(api.post("/api/v1/members", {"external_id": "x", "marketing_consent": "maybe"})) == [
        "marketing_consent"
    ]
    bad_line = [{"sku": "BEANS-1", "category": "coffee-beans", "quantity": "two", "unit_price": "12.50"}]
    assert fields_of(api.post("/api/v1/events", purchase_body(api, member, lines=bad_line))) == ["lines.0.quantity"]
    assert fields_of(api.post(f"/api/v1/members/{member}/adjustments", {"points": "100", "reason": "goodwill"})) == [
        "points"
    ]
    order = {"total": "twenty", "currency": "EUR"}
    assert fields_of(api.post("/api/v1/coupons/validate", {"code": "X", "order": order})) == ["order.total"]
    assert snapshot(api, member) == before


def test_an_unknown_field_is_refused_rather_than_ignored(api: ApiClient) -> None:
    # A misspelt field would otherwise be silently dropped (here: the consent the member did give)
    member = api.member()
    before = snapshot(api, member)
    assert fields_of(api.post("/api/v1/members", {"external_id": "m-new", "marketing_consnet": True})) == [
        "marketing_consnet"
    ]
    error_of(api.get("/api/v1/members/m-new"), 404, "member_not_found")
    assert fields_of(api.post("/api/v1/events", purchase_body(api, member, coupon="X"))) == ["coupon"]
    extra_line = [{**line("BEANS-1", "coffee-beans", "12.50"), "discount": "1.00"}]
    assert fields_of(api.post("/api/v1/events", purchase_body(api, member, lines=extra_line))) == ["lines.0.discount"]
    assert fields_of(api.patch(f"/api/v1/members/{member}", {"nickname": "Annie"})) == ["nickname"]
    redemption = {"reward": "free-drink", "points": 0}
    response = api.post(f"/api/v1/members/{member}/redemptions", redemption, headers={"Idempotency-Key": "k-1"})
    assert fields_of(response) == ["points"]
    assert snapshot(api, member) == before


# --- money ------------------------------------------------------------------------------------------------------------


def test_money_is_accepted_as_a_decimal_string_or_a_number_and_means_the_same(api: ApiClient) -> None:
    # Given two members
    first, second = api.member(), api.member()
    # When each buys 100 stickers at 0.29, one sending the price as "0.29", the other as the JSON number 0.29
    as_string = api.purchase(first, [line("STICKER", "merch", "0.29", 100)])
    as_number = api.purchase(second, [{"sku": "STICKER", "category": "merch", "quantity": 100, "unit_price": 0.29}])
    # Then both earn 29 points: the number is read as the decimal 0.29, never as the binary float
    # (in which 100 x 0.29 is 28.999999999999996, which would round down to 28)
    assert earned(as_string) == earned(as_number) == 29


def test_money_is_returned_as_decimal_strings(api: ApiClient) -> None:
    # The catalogue states amounts as strings with the currency's two decimals
    five_off = api.get("/api/v1/rewards").json()["items"][0]
    assert five_off["code"] == "five-euro-off"
    assert five_off["benefit"]["amount"] == "5.00"
    assert five_off["benefit"]["min_order_total"] == "20.00"
    # And a coupon's discount, asked for with numbers, comes back as a decimal string
    member = api.member()
    api.purchase(member, [line("MUG", "merch", "150.00")])
    code = redeem(api, member, "free-drink", "k-1").json()["coupon"]["code"]
    order = {"total": 7.3, "currency": "EUR", "lines": [{"sku": "DRINK-ANY", "quantity": 2, "unit_price": 3.65}]}
    response = api.post("/api/v1/coupons/validate", {"code": code, "order": order})
    assert response.status_code == 200, response.text
    assert response.json()["discount"] == {"amount": "3.65", "currency": "EUR"}


# --- never a 500 ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """A bad request and the error it must get."""

    path: str
    body: Any
    code: str = "validation_error"
    status: int = 422
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=lambda: {"Idempotency-Key": "k-1"})
    params: dict[str, Any] = field(default_factory=dict)
    raw: tuple[str, str] | None = None
    """Replace this text in the JSON sent by that one, for what a Python value cannot say (e.g. the number 1e400)."""


EVENTS = "/api/v1/events"
ADJUST = "/api/v1/members/{member}/adjustments"
VALIDATE = "/api/v1/coupons/validate"


def event(**fields: Any) -> dict[str, Any]:
    """A purchase by {member} with one line; ``fields`` replace parts of it (``line`` replaces the line's fields)."""
    bad_line = {**line("BEANS-1", "coffee-beans", "12.50"), **fields.pop("line", {})}
    return {
        "id": "evt-bad",
        "type": "purchase",
        "member_external_id": "{member}",
        "occurred_at": PURCHASE_AT,
        "order_id": "order-bad",
        "currency": "EUR",
        "lines": [bad_line],
        **fields,
    }


BAD_REQUESTS = {
    "member-array-instead-of-object": Bad("/api/v1/members", [{"external_id": "m-1"}]),
    "event-array-instead-of-object": Bad(EVENTS, [event()]),
    "event-string-instead-of-object": Bad(EVENTS, "purchase"),
    "event-null-body": Bad(EVENTS, None),
    "lines-object-instead-of-array": Bad(EVENTS, event(lines={"sku": "BEANS-1", "quantity": 1})),
    "redemption-array": Bad("/api/v1/members/{member}/redemptions", ["free-drink"]),
    "validate-order-array": Bad(VALIDATE, {"code": "X", "order": [{"total": "10.00"}]}),
    "adjustment-number-body": Bad(ADJUST, 100),
    "huge-quantity": Bad(EVENTS, event(line={"quantity": 10**30})),
    "huge-price-number": Bad(EVENTS, event(line={"unit_price": 1e300})),
    "overflowing-price-number": Bad(EVENTS, event(line={"unit_price": "HUGE"}), raw=('"HUGE"', "1e400")),
    "overflowing-points-number": Bad(ADJUST, {"points": "HUGE", "reason": "goodwill"}, raw=('"HUGE"', "1e400")),
    "huge-order-total": Bad(EVENTS, event(line={"unit_price": "999999999999", "quantity": "999999999"})),
    "huge-adjustment": Bad(ADJUST, {"points": 10**30, "reason": "goodwill"}),
    "huge-ledger-cursor": Bad("/api/v1/members/{member}/ledger", None, method="GET", params={"before": 10**30}),
    "nan-price": Bad(EVENTS, event(line={"unit_price": "NaN"})),
    "infinite-price": Bad(EVENTS, event(line={"unit_price": "Infinity"})),
    "nan-shipping": Bad(EVENTS, event(shipping="nan")),
    "nan-order-total": Bad(VALIDATE, {"code": "X", "order": {"total": "NaN", "currency": "EUR"}}),
    "boolean-price": Bad(EVENTS, event(line={"unit_price": True})),
    "negative-quantity": Bad(EVENTS, event(line={"quantity": -1})),
    "zero-quantity": Bad(EVENTS, event(line={"quantity": 0})),
    "negative-price": Bad(EVENTS, event(line={"unit_price": "-12.50"})),
    "negative-refund-quantity": Bad(
        EVENTS, event(type="refund", lines=None, refund_lines=[{"sku": "BEANS-1", "quantity": -1}])
    ),
    "fractional-adjustment": Bad(ADJUST, {"points": 1.5, "reason": "goodwill"}),
    "zero-adjustment": Bad(ADJUST, {"points": 0, "reason": "nothing"}),
    "naive-occurred-at": Bad(EVENTS, event(occurred_at="2026-06-01T12:00:00")),
    "naive-enrolled-at": Bad("/api/v1/members", {"external_id": "m-1", "enrolled_at": "2026-01-01T00:00:00"}),
    "year-one-occurred-at": Bad(EVENTS, event(occurred_at="0001-01-01T00:00:00+00:00")),
    "year-one-enrolled-at": Bad("/api/v1/members", {"external_id": "m-1", "enrolled_at": "0001-01-01T00:00:00+00:00"}),
    "far-future-enrolled-at": Bad(
        "/api/v1/members", {"external_id": "m-1", "enrolled_at": "9999-12-31T23:59:59+00:00"}
    ),
    "not-a-date": Bad(EVENTS, event(occurred_at="yesterday")),
    "impossible-birth-date": Bad("/api/v1/members", {"external_id": "m-1", "birth_date": "2000-02-30"}),
    "nul-in-external-id": Bad("/api/v1/members", {"external_id": "m-\u0000"}),
    "nul-in-order-id": Bad(EVENTS, event(order_id="order-\u0000")),
    "refund-with-lines-and-amount": Bad(
        EVENTS, event(type="refund", lines=None, amount="1.00", refund_lines=[{"sku": "BEANS-1", "quantity": 1}])
    ),
    "enrolment-posted-as-event": Bad(EVENTS, event(type="member_enrolled", lines=None)),
    "overlong-idempotency-key": Bad(
        "/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k" * 300}
    ),
    "ledger-page-of-zero": Bad("/api/v1/members/{member}/ledger", None, method="GET", params={"limit": 0}),
    "nul-in-path": Bad("/api/v1/members/m-%00", None, method="GET"),
    "nul-in-query": Bad("/api/v1/rewards", None, method="GET", params={"member": "m-\u0000"}),
    "nul-in-coupon-code": Bad("/api/v1/coupons/AB%00CD/redemptions", {"order_id": "order-1"}),
}


def fill(value: Any, member: str) -> Any:
    if isinstance(value, str):
        return value.replace("{member}", member)
    if isinstance(value, list):
        return [fill(item, member) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, member) for key, item in value.items()}
    return value


@pytest.mark.parametrize("bad", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_input_is_a_4xx_in_the_envelope_never_a_500_and_changes_nothing(api: ApiClient, bad: Bad) -> None:
    # Given a member with points
    member = api.member("m-given")
    api.purchase(member, [line("BEANS-1", "coffee-beans", "100.00")], order_id="order-given")
    before = snapshot(api, member)
    members_before = api.get("/api/v1/members/m-1")
    # When a bad request arrives
    content = json.dumps(fill(bad.body, member))
    if bad.raw is not None:
        content = content.replace(*bad.raw)
    response = api.client.request(
        bad.method,
        bad.path.format(member=member),
        content=content if bad.method == "POST" else None,
        params=bad.params,
        headers={**api.headers, "Content-Type": "application/json", **bad.headers},
    )
    # Then it is refused with its error code, never a 500, and nothing changed
    error = error_of(response, bad.status, bad.code)
    if bad.code == "validation_error":
        assert error["details"], "a validation error says which field is wrong"
    assert snapshot(api, member) == before
    assert api.get("/api/v1/members/m-1").status_code == members_before.status_code == 404


# --- documentation ----------------------------------------------------------------------------------------------------


def test_the_openapi_document_and_the_interactive_docs_are_served_without_a_key(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Punchcard"
    for path in ("/api/v1/members", "/api/v1/events", "/api/v1/preview", "/api/v1/rewards", "/api/v1/coupons/validate"):
        assert path in spec.json()["paths"], path
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]


def test_a_body_sent_as_a_form_is_415_and_says_to_send_json(api: ApiClient) -> None:
    # When a body arrives without a JSON content type (as `curl -d` sends it)
    response = api.client.post(
        "/api/v1/members",
        content=b'{"external_id": "c-1"}',
        headers={**api.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    # Then the error names the header to send, and no member was created
    error = error_of(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]
    error_of(api.get("/api/v1/members/c-1"), 404, "member_not_found")
