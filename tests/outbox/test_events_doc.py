"""docs/events.md tells the truth: every event type in the code is documented, and each documented example has the
same fields, of the same JSON types, as the real event that a scenario through the API produces."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.coalition import service as coalitions
from punchcard.jobs import service as jobs
from punchcard.kit.db import unit_of_work
from punchcard.kit.events import EVENT_TYPES
from punchcard.member import service as members
from punchcard.outbox.models import OutboxEvent
from punchcard.portal import service as portal
from punchcard.program import service as programs
from punchcard.survey import service as surveys
from punchcard.survey.models import SurveyInvitation
from tests.challenge.games import with_games
from tests.clock import NOW
from tests.coalition.test_coalition_api import both, found, transfer
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, line
from tests.membership.test_memberships_api import BEAN_CLUB

PAID = {"plan": "bean-club", "period": "month", "payment_ref": "in_1"}

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def documented() -> dict[str, dict[str, Any]]:
    """Each ``### `type` `` section's JSON example."""
    text = DOC.read_text()
    found = re.findall(r"^### `([a-z_.]+)`\n.*?```json\n(.*?)\n```", text, re.MULTILINE | re.DOTALL)
    return {event_type: json.loads(example) for event_type, example in found}


def shape(value: Any) -> Any:
    """The JSON type of ``value``, recursively (``null`` matches anything: an optional field)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def same_shape(example: Any, real: Any) -> bool:
    if example is None or real is None:
        return True
    if isinstance(example, dict) and isinstance(real, dict):
        return example.keys() == real.keys() and all(same_shape(example[key], real[key]) for key in example)
    if isinstance(example, list) and isinstance(real, list):
        return all(same_shape(example[0], item) for item in real) if example else not real
    return bool(shape(example) == shape(real))


def invitation_token(api: ApiClient, engine: Engine) -> str:
    with Session(engine) as session:
        query = select(SurveyInvitation.token).where(SurveyInvitation.program_id == api.program_id)
        token = session.execute(query).scalar_one()
    assert token is not None
    return token


def real_events(api: ApiClient, engine: Engine) -> dict[str, dict[str, Any]]:
    """One event of every type, from a member's life through the API, the jobs and the portal."""
    reminded = NOW + timedelta(days=25)  # the coupon expires within the week, and it is Kai's birthday
    birthday = f"1990-{reminded.astimezone(ZoneInfo('Europe/Tallinn')):%m-%d}"
    member = api.member("c-42", email=f"kai-{api.slug}@example.com", name="Kai", language="fi", birth_date=birthday)
    api.purchase(member, [line("BEANS", "coffee-beans", "150.00", 2)], order_id="O-1")
    silver = api.member("c-43")  # stays silver until the review finds their points out of the window
    api.purchase(silver, [line("BEANS", "coffee-beans", "150.00", 2)], order_id="O-2")
    api.refund(member, "O-1", refund_lines=[{"sku": "BEANS", "quantity": 1}])
    api.purchase(member, [line("BEANS", "coffee-beans", "20.00")], order_id="O-3", occurred_at=NOW.isoformat())
    api.post(f"/api/v1/members/{member}/adjustments", {"points": 25, "reason": "Late delivery"})
    api.patch(f"/api/v1/members/{member}", {"name": "Kai Virtanen"})
    redeemed = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "r"}
    )
    code = redeemed.json()["coupon"]["code"]
    assert api.post(f"/api/v1/coupons/{code}/redemptions", {"order_id": "O-77"}).status_code in (200, 201)
    assert api.post(f"/api/v1/coupons/{code}/release", {"order_id": "O-77"}).status_code == 200
    deliver_outbox(api.client)  # the purchases schedule the survey invitation, which the jobs then send
    jobs.run(engine, at=reminded, now=reminded, only=[api.slug])
    token = invitation_token(api, engine)
    with unit_of_work(engine) as session:
        version = programs.current(session, api.program_id)
        invited = surveys.invitation(session, version.program, api.program_id, token, reminded)
        assert invited is not None
        surveys.answer(session, version, invited, 9, "Great beans, slow delivery", "fi", reminded)
    expiring = NOW + timedelta(days=340)  # the points earned now expire in under 30 days
    jobs.run(engine, at=expiring, now=expiring, only=[api.slug])
    later = NOW + timedelta(days=800)
    jobs.run(engine, at=later, now=later, only=[api.slug])
    with unit_of_work(engine) as session:
        portal.request_link(session, api.program_id, f"kai-{api.slug}@example.com", NOW, language="fi", source="portal")
    return first_of_each(engine, api, member)


def first_of_each(engine: Engine, api: ApiClient, member: str) -> dict[str, dict[str, Any]]:
    """The first outbox event of each type of ``api``'s program, as a consumer gets it."""
    found: dict[str, dict[str, Any]] = {}
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent).where(OutboxEvent.program_id == api.program_id).order_by(OutboxEvent.id)
        ).scalars()
        for row in rows:
            found.setdefault(
                row.type,
                {
                    "id": row.id,
                    "type": row.type,
                    "schema_version": row.schema_version,
                    "program": api.slug,
                    "member": member,
                    "occurred_at": row.occurred_at.isoformat(),
                    "recorded_at": row.recorded_at.isoformat(),
                    "payload": row.payload,
                },
            )
    return found


def referral_events(make_program: ProgramMaker, engine: Engine) -> dict[str, dict[str, Any]]:
    """One event of each referral type (and the gifts and revocations they cause), from a second program that
    gives the referrer a coupon: a friend held for sharing the referrer's phone, approved, qualifying, and refunded."""
    gifts = {"referrer": {"points": 200, "reward": "free-drink"}, "referee": {"points": 100}}
    api = make_program({"referrals": gifts})
    anna = api.member("c-7", attributes={"phone": "+372 5555 1234"})
    code = api.get(f"/api/v1/members/{anna}/referral").json()["code"]
    earlier = (NOW - timedelta(days=3)).isoformat()
    friend = api.member("c-43", referred_by=code, attributes={"phone": "+372 5555 1234"}, enrolled_at=earlier)
    [held] = api.get("/api/v1/referrals").json()["referrals"]
    assert api.post(f"/api/v1/referrals/{held['id']}/review", {"decision": "approve", "reason": "siblings"}).is_success
    bought = (NOW - timedelta(days=2)).isoformat()
    api.purchase(friend, [line("BEANS", "coffee-beans", "30.00")], order_id="O-R", occurred_at=bought)
    deliver_outbox(api.client)
    api.refund(friend, "O-R", refund_lines=[{"sku": "BEANS", "quantity": 1}], occurred_at=NOW.isoformat())
    deliver_outbox(api.client)
    return first_of_each(engine, api, friend)


def game_events(make_program: ProgramMaker, engine: Engine) -> dict[str, dict[str, Any]]:
    """One event of each challenge, streak and badge type, from a program with the demo's games and a 14-day return
    window: explorer joined, completed and reversed by a refund inside the window; the streak reached in November
    and reversed by a refund of October's order."""
    api = make_program(with_games(points={"pending_days": 14}))
    member = api.member("c-44", enrolled_at="2026-08-01T09:00:00+00:00")
    for month in (9, 10, 11):
        api.purchase(
            member,
            [line("MUG", "merch", "12.00")],
            order_id=f"O-S{month}",
            occurred_at=f"2026-{month:02d}-10T10:00:00+00:00",
        )
    api.refund(member, "O-S10", amount="12.00", occurred_at="2026-11-20T10:00:00+00:00")
    assert api.post(f"/api/v1/members/{member}/challenges/explorer/join").status_code == 201
    for minute, category in enumerate(("coffee-beans", "merch", "food"), start=1):
        moment = (NOW + timedelta(minutes=minute)).isoformat()
        api.purchase(member, [line("X", category, "5.00")], order_id=f"O-C{minute}", occurred_at=moment)
    api.refund(member, "O-C1", amount="5.00", occurred_at=(NOW + timedelta(minutes=4)).isoformat())
    return first_of_each(engine, api, member)


def membership_events(make_program: ProgramMaker, engine: Engine) -> dict[str, dict[str, Any]]:
    """One event of each membership type: a trial started, converted by a payment, a payment failing, a cancellation
    at the period's end, and the jobs ending it there."""
    api = make_program({"membership_plans": [BEAN_CLUB]})
    member = api.member("c-45")
    started = (NOW - timedelta(days=20)).isoformat()
    answer = api.post(f"/api/v1/members/{member}/memberships", {**PAID, "started_at": started})
    assert answer.status_code == 201, answer.text
    for kind, days, attributes in (
        ("membership_renewed", 6, {"payment_ref": "in_2"}),
        ("membership_payment_failed", 5, {}),
        ("membership_renewed", 4, {"payment_ref": "in_3"}),
        ("membership_cancelled", 3, {}),
    ):
        body = {
            "id": f"{kind}-{days}",
            "type": kind,
            "member_external_id": member,
            "occurred_at": (NOW - timedelta(days=days)).isoformat(),
            "attributes": attributes,
        }
        assert api.post("/api/v1/events", body).status_code == 201
    ended = NOW + timedelta(days=60)  # paid until 19 January: renewed twice (the second a recovery) from 19 November
    jobs.run(engine, at=ended, now=ended, only=[api.slug])
    return first_of_each(engine, api, member)


def wallet_events(make_program: ProgramMaker, engine: Engine) -> dict[str, dict[str, Any]]:
    """One event of each gift-card and store-credit type: a card issued, spent, refunded to and expired by the jobs,
    another disabled; a member's credit granted, spent, bought with points, and earned as cashback on merch, part of
    which a refund takes back."""
    cashback = {
        "code": "merch-cashback",
        "name": {"en": "2% back on merch"},
        "when": "purchase",
        "then": {"cashback_percent": 2, "lines": {"categories": ["merch"]}},
    }
    api = make_program(
        {
            "store_credit": {"conversion": {"points": 100, "amount": "1.00", "minimum_points": 0}},
            "earning_rules": [cashback],
            "gift_cards": {"minimum_validity_months": 0},  # a card that expires within the scenario
        }
    )
    member = api.member("c-46")
    api.purchase(member, [line("TEE", "merch", "25.00", 2)], order_id="O-T", occurred_at=NOW.isoformat())
    api.refund(member, "O-T", refund_lines=[{"sku": "TEE", "quantity": 1}], occurred_at=NOW.isoformat())

    def sent(path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        answer = api.post(path, body, headers={"Idempotency-Key": key})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    card = {"amount": "25.00", "currency": "EUR", "expires_at": (NOW + timedelta(days=30)).isoformat()}
    code = sent("/api/v1/gift-cards", card, "card-1")["code"]
    sent(f"/api/v1/gift-cards/{code}/redemptions", {"amount": "10.00", "order_id": "O-G"}, "pay-1")
    sent(f"/api/v1/gift-cards/{code}/refunds", {"amount": "2.50", "order_id": "O-G"}, "back-1")
    other = sent("/api/v1/gift-cards", {"amount": "10.00", "currency": "EUR"}, "card-2")["code"]
    assert api.post(f"/api/v1/gift-cards/{other}/disable", {"reason": "reported stolen"}).status_code == 200
    sent(f"/api/v1/members/{member}/store-credit/grants", {"amount": "5.00", "reason": "Late delivery"}, "grant-1")
    sent(f"/api/v1/members/{member}/store-credit/redemptions", {"amount": "2.00", "order_id": "O-H"}, "spend-1")
    assert api.post(f"/api/v1/members/{member}/adjustments", {"points": 100, "reason": "Welcome"}).status_code == 201
    sent(f"/api/v1/members/{member}/conversions", {"points": 50}, "convert-1")
    expired = NOW + timedelta(days=31)
    jobs.run(engine, at=expired, now=expired, only=[api.slug])
    return first_of_each(engine, api, member)


def cause_events(make_program: ProgramMaker, engine: Engine) -> dict[str, dict[str, Any]]:
    """A donation to a cause, matched by the shop."""
    cause = {"code": "baltic-sea", "name": "Baltic Sea Foundation", "point_value": "0.01", "match": {"budget": "5.00"}}
    api = make_program({"causes": [cause]})
    member = api.member("c-47")
    body = {"cause": "baltic-sea", "points": 40}
    answer = api.post(f"/api/v1/members/{member}/donations", body, headers={"Idempotency-Key": "give"})
    assert answer.status_code == 201, answer.text
    return first_of_each(engine, api, member)


def coalition_events(make_program: ProgramMaker, engine: Engine) -> dict[str, dict[str, Any]]:
    """A member linked at two brands of a coalition moves points from the owner to the partner, then unlinks."""
    brands = found(make_program)
    sender, receiver = both(brands, engine)
    assert transfer(brands.roaster, sender, brands.tea.slug, 40, "move").status_code == 201  # of the 50 for joining
    with unit_of_work(engine) as session:
        coalition = coalitions.coalition(session, brands.code)
        coalitions.unlink(session, coalition, members.get(session, brands.roaster.program_id, sender), NOW)
    return first_of_each(engine, brands.tea, receiver) | first_of_each(engine, brands.roaster, sender)


def privacy_events(make_program: ProgramMaker, engine: Engine) -> dict[str, dict[str, Any]]:
    """A member erased at their request."""
    api = make_program()
    member = api.member("c-48", email=f"gone-{api.slug}@example.com", name="Kai")
    erased = api.post(f"/api/v1/members/{member}/erase", {"reason": "the member asked"})
    assert erased.status_code == 200, erased.text
    return first_of_each(engine, api, erased.json()["member"])


def test_every_event_type_is_documented_and_nothing_else() -> None:
    assert sorted(documented()) == sorted(EVENT_TYPES)


def test_each_documented_example_has_the_fields_and_types_of_a_real_event(
    api: ApiClient, make_program: ProgramMaker, engine: Engine
) -> None:
    real = (
        game_events(make_program, engine)
        | referral_events(make_program, engine)
        | membership_events(make_program, engine)
        | wallet_events(make_program, engine)
        | cause_events(make_program, engine)
        | coalition_events(make_program, engine)
        | privacy_events(make_program, engine)
        | real_events(api, engine)
    )
    examples = documented()
    assert sorted(real) == sorted(examples), "the scenario should produce every documented type"
    for event_type, example in examples.items():
        assert example["type"] == event_type
        assert example["schema_version"] == EVENT_TYPES[event_type].schema_version
        assert same_shape(example, real[event_type]), (event_type, shape(real[event_type]))
