"""A member with a row in (nearly) every table about members, built through the real paths (the API, the jobs, the
portal's and the console's services), for the privacy tests: plain functions, no fixtures."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from punchcard.coalition import service as coalitions
from punchcard.jobs import service as jobs
from punchcard.kit.db import unit_of_work
from punchcard.member import service as members
from punchcard.passes import service as passes
from punchcard.portal import service as portal
from punchcard.program import service as programs
from punchcard.push import service as push
from punchcard.push.schemas import SubscriptionIn
from punchcard.staff import service as staff
from punchcard.staff.domain import Action
from punchcard.survey import service as surveys
from punchcard.survey.models import SurveyInvitation
from tests.challenge.games import with_games
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, line, process_accepted
from tests.membership.test_memberships_api import BEAN_CLUB
from tests.push.standin import BrowserSubscription

LATER = NOW + timedelta(days=5)
"""When the jobs run in the life: the member's birthday, and their survey is due."""
BIRTHDAY = f"1961-{LATER.astimezone(ZoneInfo('Europe/Tallinn')):%m-%d}"
REFERRALS = {"referrer": {"points": 200}, "referee": {"points": 100}, "qualify": {"on": "first_purchase"}}
CASHBACK = {
    "code": "merch-cashback",
    "name": {"en": "2% back on merch"},
    "when": "purchase",
    "then": {"cashback_percent": 2, "lines": {"categories": ["merch"]}},
}


@dataclass(frozen=True)
class Life:
    roaster: ApiClient
    """The program the member lives in: it founded a coalition with ``tea``."""
    tea: ApiClient
    member: str
    """The member's external id at the roaster."""
    tea_member: str
    """The same person's account at the partner brand (same e-mail address, linked)."""
    others: tuple[str, ...]
    """Other members of the roaster: the friend who referred the member, a bystander."""
    personal: tuple[str, ...]
    """Every personal value the life stored somewhere: external ids, both e-mail addresses and names the member had,
    phone, IP address, device, address, what they wrote in the survey."""


def programs_of_a_coalition(make_program: ProgramMaker, **changes: Any) -> tuple[ApiClient, ApiClient]:
    """The roaster (with games, referrals, a birthday gift, a membership plan, ``changes``) and its partner brand."""
    code = f"c-{uuid.uuid4().hex[:8]}"
    tea = make_program({"coalition": {"code": code, "points_per_unit": 2}})
    founding = {"code": code, "points_per_unit": 1, "owner": {"unit_value": "0.01", "partners": [tea.slug]}}
    roaster = make_program(
        with_games(
            earning_rules=[*make_program.definition["earning_rules"], CASHBACK],
            referrals=REFERRALS,
            birthday={"points": 100},
            membership_plans=[BEAN_CLUB],
            coalition=founding,
            **changes,
        )
    )
    return roaster, tea


def live(make_program: ProgramMaker, engine: Engine, client: TestClient) -> Life:
    """Enrol a member (referred by a friend, with the shop's signals) and let them do everything: change their name
    and address, buy, refund, send an event for later, redeem and use a coupon, get store credit, buy a gift card,
    give to a cause, join a plan and a challenge, show on leaderboards, move points to the partner brand, sign in to
    the portal, turn on notifications, add their card to a wallet, get a birthday gift and mails, answer a survey;
    and be looked up by support staff. Every webhook goes to a receiver that is down, so deliveries stay pending."""
    tag = uuid.uuid4().hex[:10]
    roaster, tea = programs_of_a_coalition(make_program)
    hook = roaster.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "events": ["*"]})
    assert hook.status_code == 201, hook.text
    friend = roaster.member(f"ann-{tag}", email=f"ann-{tag}@example.com", name=f"Ann Friend{tag}")
    bystander = roaster.member(f"bo-{tag}", email=f"bo-{tag}@example.com")
    roaster.purchase(bystander, [line("BEANS", "coffee-beans", "18.00")], occurred_at="2026-10-02T10:00:00+00:00")
    code = roaster.get(f"/api/v1/members/{friend}/referral").json()["code"]

    member, email, name = f"kai-{tag}", f"kai-{tag}@example.com", f"Kai Tester{tag}"
    first_email, first_name = f"kai.first-{tag}@example.com", f"Kai Firstname{tag}"
    phone, ip = f"+372 5{int(tag[:6], 16) % 10**7:07d}", f"2001:db8::{tag[:4]}:{tag[4:8]}"
    device, address = f"device-{tag}", f"Tamme {tag} 5, Tartu"
    signals = {"phone": phone, "ip": ip, "device_id": device, "shipping_address": address}
    enrolled = roaster.post(
        "/api/v1/members",
        {
            "external_id": member,
            "email": first_email,
            "name": first_name,
            "birth_date": BIRTHDAY,
            "marketing_consent": True,
            "enrolled_at": "2026-06-01T10:00:00+00:00",
            "referred_by": code,
            "attributes": signals,
        },
    )
    assert enrolled.status_code == 201, enrolled.text
    with unit_of_work(engine) as session:  # support staff send a sign-in link to the address the member had then
        found = members.get(session, roaster.program_id, member)
        staff.record(
            session,
            Action.SIGN_IN_LINK_SENT,
            NOW,
            staff_id=None,
            program_id=roaster.program_id,
            member_id=found.id,
            target=f"member {member}",
            details={"to": first_email},
        )
    assert roaster.patch(f"/api/v1/members/{member}", {"email": email, "name": name}).status_code == 200

    bought = [line("BEANS", "coffee-beans", "30.00"), line("GIFT-25", "gift-cards", "25.00")]
    roaster.purchase(member, bought, order_id=f"O-1-{tag}", occurred_at="2026-10-01T10:00:00+00:00")
    roaster.refund(member, f"O-1-{tag}", amount="10.00", occurred_at="2026-10-05T10:00:00+00:00")
    assert roaster.post(f"/api/v1/members/{member}/challenges/explorer/join").status_code == 201
    for minute, (sku, category) in enumerate((("BEANS", "coffee-beans"), ("MUG", "merch"), ("CAKE", "food")), 1):
        moment = (NOW + timedelta(minutes=minute)).isoformat()
        roaster.purchase(member, [line(sku, category, "8.00")], order_id=f"O-{sku}-{tag}", occurred_at=moment)
    later = {**_event(f"visit-{tag}", "store_visit", member), "attributes": signals}
    assert roaster.post("/api/v1/events", later, headers={"Prefer": "respond-async"}).status_code == 202
    process_accepted(client)

    adjusted = {"points": 500, "reason": f"Late delivery to {name}"}
    assert roaster.post(f"/api/v1/members/{member}/adjustments", adjusted).status_code == 201
    redeemed = _sent(roaster, f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, f"r-{tag}")
    coupon = redeemed["coupon"]["code"]
    assert roaster.post(f"/api/v1/coupons/{coupon}/redemptions", {"order_id": f"O-C-{tag}"}).status_code in (200, 201)
    _sent(roaster, f"/api/v1/members/{member}/store-credit/grants", {"amount": "5.00", "reason": "Sorry"}, f"g-{tag}")
    _sent(roaster, f"/api/v1/members/{member}/donations", {"cause": "baltic-sea", "points": 40}, f"d-{tag}")
    plan = {"plan": "bean-club", "period": "month", "payment_ref": f"pay-{tag}", "subscription_ref": f"sub-{tag}"}
    plan["started_at"] = "2026-11-20T10:00:00+00:00"
    assert roaster.post(f"/api/v1/members/{member}/memberships", plan).status_code == 201
    assert roaster.request("PUT", f"/api/v1/members/{member}/leaderboard", {"shown": True}).status_code == 200
    assert roaster.get(f"/api/v1/members/{member}/referral").status_code == 200  # their own code, to share
    gift = {"cause": "baltic-sea", "kind": "percent", "value": 10}
    assert roaster.request("PUT", f"/api/v1/members/{member}/standing-gift", gift).status_code == 200

    tea_member = tea.member(f"leaf-{tag}", email=email, name=name)
    with unit_of_work(engine) as session:
        kai = members.get(session, roaster.program_id, member)
        coalition = coalitions.of_program(session, programs.current(session, roaster.program_id))
        assert coalition is not None
        coalitions.link(session, coalition, kai, NOW)
        portal.start_session(session, kai, NOW)
        portal.request_link(session, roaster.program_id, email, NOW, language="fi", source="portal")
        browser = BrowserSubscription(
            f"http://127.0.0.1:9/push/{tag}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        subscription = SubscriptionIn.model_validate(browser.to_json())
        push.subscribe(session, roaster.program_id, kai.id, subscription, NOW, allow_private=True)
        passes.pass_of(session, roaster.program_id, kai.id, NOW)
    moved = {"to": tea.slug, "points": 40}
    _sent(roaster, f"/api/v1/members/{member}/coalition-transfers", moved, f"m-{tag}")

    deliver_outbox(client)
    jobs.run(engine, at=LATER, now=LATER, only=[roaster.slug])
    comment = f"{name} here: slow delivery"
    with unit_of_work(engine) as session:
        version = programs.current(session, roaster.program_id)
        query = select(SurveyInvitation.token).where(SurveyInvitation.member_id == kai.id)
        token = session.execute(query).scalar_one()
        assert token is not None
        invited = surveys.invitation(session, version.program, roaster.program_id, token, LATER)
        assert invited is not None
        surveys.answer(session, version, invited, 9, comment, "fi", LATER)
    deliver_outbox(client)
    client.app.state.mail.drain()  # type: ignore[attr-defined]
    personal = (member, tea_member, email, first_email, name, first_name, phone, ip, device, address, comment)
    return Life(roaster, tea, member, tea_member, (friend, bystander), personal)


def _event(event_id: str, event_type: str, member: str) -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "member_external_id": member, "occurred_at": NOW.isoformat()}


def _sent(api: ApiClient, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    answer = api.post(path, body, headers={"Idempotency-Key": key})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())
