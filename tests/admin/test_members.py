"""Finding members and looking after them in the console: search by e-mail, id or name; the member page; adjustments
with a required reason, made once per form; blocking and unblocking — each written to the audit log."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.admin.conftest import Console, audit_count, audit_entries, metric
from tests.factories import ApiClient, deliver_outbox, error_of, ledger_items, line, snapshot

from punchcard.mail import sender
from punchcard.mail.compose import Mail
from punchcard.staff.domain import Action, Role


def _found_ids(html: str) -> list[str]:
    return re.findall(r'<td><a href="/admin/p/[^/]+/members/[^"]+">([^<]+)</a></td>', html)


@pytest.fixture
def people(api: ApiClient) -> dict[str, str]:
    tag = "t" + uuid.uuid4().hex[:5]  # starts with a letter, so only "-2" itself contains "-2"
    return {
        "ann": api.member(f"cust-{tag}-1", email=f"ann.{tag}@example.com", name="Ann Lindqvist"),
        "bob": api.member(f"cust-{tag}-2", email=f"bob.{tag}@shop.example", name="Bob Tamm"),
        "cleo": api.member(f"cust-{tag}-3", email=f"cleo.{tag}@example.com", name="Cleo Lind"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ANN.", ["ann"]),  # e-mail, any case
        ("shop.example", ["bob"]),
        ("lind", ["ann", "cleo"]),  # name
        ("-2", ["bob"]),  # member id
        ("nobody-like-this", []),
        ("%", []),  # LIKE wildcards are plain characters
    ],
)
def test_members_are_found_by_email_id_or_name(
    query: str, expected: list[str], api: ApiClient, people: dict[str, str], signed_in: Callable[[Role], Console]
) -> None:
    console = signed_in(Role.VIEWER)
    html = console.page(f"/admin/p/{api.slug}/members", q=query)
    found = [external_id for external_id in _found_ids(html) if external_id in people.values()]
    assert sorted(found) == sorted(people[name] for name in expected)


def test_an_exact_member_id_comes_first(
    api: ApiClient, people: dict[str, str], signed_in: Callable[[Role], Console]
) -> None:
    console = signed_in(Role.VIEWER)
    assert _found_ids(console.page(f"/admin/p/{api.slug}/members", q=people["bob"]))[0] == people["bob"]


def test_the_member_page_shows_balance_tier_progress_ledger_coupons_and_events(
    api: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    # Given a member who bought 300 € of beans (600 points, Silver) and redeemed a free drink
    member = api.member(name="Dora Example")
    api.purchase(member, [line("BEANS", "coffee-beans", "300.00")], occurred_at="2026-06-01T12:00:00+00:00")
    redeemed = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k-1"}
    )
    assert redeemed.status_code == 201, redeemed.text
    coupon = redeemed.json()["coupon"]["code"]
    # When support opens the member page
    html = signed_in(Role.SUPPORT).page(f"/admin/p/{api.slug}/members/{member}")
    # Then it shows the balance, tier and progress, the ledger, the coupon and the events
    assert metric(html, "available") == "500"  # 50 welcome + 600 - 150
    assert "<strong>Silver</strong>" in html
    assert "900 more to reach Gold (1,500)" in html
    assert "2 points per € on coffee beans" in html
    assert "Welcome bonus" in html
    assert coupon in html
    assert "purchase" in html


def test_a_redemption_from_several_lots_is_one_ledger_line_that_opens_to_show_them(
    api: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    # Given a member whose 150-point redemption spent two orders' lots (60 and 70, expiring first) and 20 of the
    # welcome bonus
    member = api.member()
    for order, euros in (("O-1", "60.00"), ("O-2", "70.00")):
        api.purchase(member, [line("MUG", "merch", euros)], order_id=order)
    redeemed = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k-lots"}
    )
    assert redeemed.status_code == 201, redeemed.text
    spends = [item for item in ledger_items(api, member) if item["kind"] == "spend"]
    assert sorted(item["points"] for item in spends) == [-70, -60, -20]

    # When support opens the member page
    html = signed_in(Role.SUPPORT).page(f"/admin/p/{api.slug}/members/{member}")

    # Then the redemption is one line of −150, which lists the three lots it came from
    assert html.count(">−150<") == 1
    assert "from 3 lots" in html
    lots = re.findall(r"<li>lot \d+: (−\d+)</li>", html)
    assert sorted(lots) == ["−20", "−60", "−70"]


def test_support_adjusts_points_with_a_reason_and_the_audit_log_records_it(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    member = api.member()
    console = signed_in(Role.SUPPORT)
    base = f"/admin/p/{api.slug}/members/{member}"
    # When support adds 25 points because a parcel was late
    form = {"points": "25", "reason": "parcel arrived late", "form_key": uuid.uuid4().hex}
    response = console.post(f"{base}/adjustments", form)
    # Then the balance is 75, the ledger says why, and the audit log says who, what, why and to whom
    assert (response.status_code, response.headers["location"]) == (303, f"{base}?notice=adjusted")
    assert api.available(member) == 75
    assert ledger_items(api, member)[0]["description"] == "Adjustment: parcel arrived late"
    [entry] = audit_entries(
        engine, program_id=api.program_id, action=Action.POINTS_ADJUSTED.value, target=f"member {member}"
    )
    assert (entry.reason, entry.details) == ("parcel arrived late", {"points": 25, "available_after": 75})
    assert entry.staff_id is not None
    assert "The points were adjusted." in console.page(f"{base}?notice=adjusted")


def test_the_same_adjustment_form_sent_twice_adjusts_once(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    member = api.member()
    console = signed_in(Role.SUPPORT)
    form = {"points": "-20", "reason": "double click", "form_key": uuid.uuid4().hex}
    for _ in range(2):
        assert console.post(f"/admin/p/{api.slug}/members/{member}/adjustments", form).status_code == 303
    assert api.available(member) == 30
    assert audit_count(engine, program_id=api.program_id, action=Action.POINTS_ADJUSTED.value) == 1


@pytest.mark.parametrize(
    ("points", "reason", "message"),
    [
        ("25", "", "String should have at least 3 characters"),
        ("25", "ok", "String should have at least 3 characters"),
        ("", "a good reason", "enter a whole number of points"),
        ("2.5", "a good reason", "enter a whole number of points"),
        ("0", "a good reason", "an adjustment of 0 points changes nothing"),
        ("-51", "take back more than there is", "51 points needed, 50 available"),
    ],
)
def test_a_refused_adjustment_says_why_next_to_the_field_and_changes_nothing(
    points: str, reason: str, message: str, api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    member = api.member()
    before = snapshot(api, member)
    console = signed_in(Role.SUPPORT)
    form = {"points": points, "reason": reason, "form_key": uuid.uuid4().hex}
    response = console.post(f"/admin/p/{api.slug}/members/{member}/adjustments", form)
    assert response.status_code == 422
    assert re.search(rf'<p class="error" id="error-(points|reason)">{re.escape(message)}', response.text)
    assert f'value="{reason}"' in response.text  # what was typed stays in the form
    assert snapshot(api, member) == before
    assert audit_count(engine, program_id=api.program_id, action=Action.POINTS_ADJUSTED.value) == 0


def test_blocking_needs_a_reason_refuses_the_members_events_and_unblocking_lets_them_in(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    member = api.member()
    console = signed_in(Role.SUPPORT)
    base = f"/admin/p/{api.slug}/members/{member}"
    # Given a block without a reason is refused
    refused = console.post(f"{base}/status", {"blocked": "true", "reason": ""})
    assert refused.status_code == 422
    assert api.get(f"/api/v1/members/{member}").json()["status"] == "active"
    # When support blocks the member with a reason
    assert console.post(f"{base}/status", {"blocked": "true", "reason": "suspected fraud"}).status_code == 303
    # Then the shop's purchases for them are refused
    assert api.get(f"/api/v1/members/{member}").json()["status"] == "blocked"
    body = {
        "id": api.next_id("evt"),
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": "2026-06-01T12:00:00+00:00",
        "order_id": api.next_id("o"),
        "currency": "EUR",
        "lines": [line("B", "coffee-beans", "10.00")],
    }
    error_of(api.post("/api/v1/events", body), 422, "member_blocked")
    # When they are unblocked, the same purchase is accepted
    assert console.post(f"{base}/status", {"blocked": "false", "reason": "cleared by the bank"}).status_code == 303
    assert api.post("/api/v1/events", body).status_code == 201
    # And both changes are in the audit log with their reasons
    reasons = [
        (e.action, e.reason) for e in audit_entries(engine, program_id=api.program_id) if e.target == f"member {member}"
    ]
    assert reasons == [
        (Action.MEMBER_BLOCKED.value, "suspected fraud"),
        (Action.MEMBER_UNBLOCKED.value, "cleared by the bank"),
    ]


def test_an_unknown_member_is_a_not_found_page(api: ApiClient, signed_in: Callable[[Role], Console]) -> None:
    response = signed_in(Role.VIEWER).get(f"/admin/p/{api.slug}/members/no-such-member")
    assert response.status_code == 404
    assert "no member with external_id" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_support_sends_a_portal_sign_in_link_that_signs_the_member_in(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[Mail] = []
    monkeypatch.setattr(sender, "send", lambda settings, mails: sent.extend(mails))
    email = f"dora-{uuid.uuid4().hex[:8]}@example.com"
    member = api.member(email=email, name="Dora", language="et")
    console = signed_in(Role.SUPPORT)
    # When support sends Dora a sign-in link
    response = console.post(f"/admin/p/{api.slug}/members/{member}/sign-in-link")
    assert response.status_code == 303
    deliver_outbox(console.http)  # (other tests' mail may go out with it)
    # Then she gets the portal's mail, in Estonian, and its link signs her in to the portal
    [mail] = [mail for mail in sent if mail.to == email]
    assert (mail.to, mail.language) == (email, "et")
    link = re.search(r"(/portal/[^/]+/auth/link\?token=[\w-]+)", mail.text)
    assert link is not None
    opened = TestClient(console.http.app, follow_redirects=False).get(link.group(1))
    assert (opened.status_code, opened.headers["location"]) == (303, f"/portal/{api.slug}")
    [entry] = audit_entries(engine, program_id=api.program_id, action=Action.SIGN_IN_LINK_SENT.value)
    assert (entry.target, entry.details) == (f"member {member}", {"to": email})


def test_no_link_goes_to_a_member_without_an_address_or_a_blocked_one(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[Mail] = []
    monkeypatch.setattr(sender, "send", lambda settings, mails: sent.extend(mails))
    console = signed_in(Role.SUPPORT)
    nameless = api.member()
    blocked = api.member(email=f"eve-{uuid.uuid4().hex[:8]}@example.com")
    api.patch(f"/api/v1/members/{blocked}", {"status": "blocked"})
    for member, reason in ((nameless, "this member has no e-mail address"), (blocked, "no link was sent")):
        response = console.post(f"/admin/p/{api.slug}/members/{member}/sign-in-link")
        assert response.status_code == 422
        assert reason in response.text
    assert sent == []
    assert audit_count(engine, program_id=api.program_id, action=Action.SIGN_IN_LINK_SENT.value) == 0
