"""The transactional outbox: every committed change writes its domain events with it, a refused or rolled-back one
writes none, and the API's effects are derived from the very events others will hear of."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.kit.db import unit_of_work
from punchcard.member.domain import MemberUpdated
from punchcard.outbox import service as outbox
from punchcard.outbox.models import OutboxEvent
from tests.clock import NOW
from tests.factories import ApiClient, error_of, line


def events_of(engine: Engine, program_id: int) -> list[tuple[str, dict[str, Any]]]:
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent.type, OutboxEvent.payload)
            .where(OutboxEvent.program_id == program_id)
            .order_by(OutboxEvent.id)
        )
        return [(event_type, payload) for event_type, payload in rows]


def test_a_purchase_that_reaches_a_tier_writes_both_events_and_its_effects_are_theirs(
    api: ApiClient, engine: Engine
) -> None:
    # Given a member (enrolment and welcome bonus are two events)
    member = api.member()
    assert [event_type for event_type, _ in events_of(engine, api.program_id)] == ["member.enrolled", "points.earned"]
    # When they buy 300.00 EUR of coffee beans (2 points per euro: 600 points, Silver at 500)
    response = api.purchase(member, [line("BEANS", "coffee-beans", "300.00")], order_id="O-1")
    # Then the outbox holds the earning and the upgrade, in that order, with the shop's ids (and the rewards the
    # 650 points now reach, which no response shows)
    earned, upgraded, *affordable = events_of(engine, api.program_id)[2:]
    assert [event_type for event_type, _ in affordable] == ["reward.affordable"] * 3
    assert earned[0] == "points.earned"
    assert (earned[1]["points"], earned[1]["order_id"], earned[1]["event"], earned[1]["cause"]) == (
        600,
        "O-1",
        response["event_id"],
        "purchase",
    )
    assert upgraded == ("tier.upgraded", {"from_tier": "bronze", "to_tier": "silver", "reason": "upgrade"})
    # And the response's effects say exactly what the events say
    awards = earned[1]["awards"]
    assert response["effects"] == [
        {
            "type": "points_earned",
            "points": award["points"],
            "rule": award["rule"],
            "rule_name": award["rule_name"],
            "detail": award["detail"],
            **({"pending_until": earned[1]["pending_until"]} if earned[1]["pending_until"] else {}),
        }
        for award in awards
    ] + [{"type": "tier_changed", "from": "bronze", "to": "silver", "reason": "upgrade"}]


def test_a_refused_event_and_a_replay_write_nothing(api: ApiClient, engine: Engine) -> None:
    # Given a member who bought once
    member = api.member()
    api.purchase(member, [line("BEANS", "coffee-beans", "10.00")], order_id="O-1")
    before = events_of(engine, api.program_id)
    # When the same order comes again under another event id, and a refund exceeds the order
    again = api.purchase(member, [line("BEANS", "coffee-beans", "10.00")], order_id="O-1", expect=409)
    assert again["error"]["code"] == "order_already_recorded"
    refused = api.refund(member, "O-1", amount="99.00", expect=422)
    assert refused["error"]["code"] == "refund_exceeds_order"
    # And a blocked member's purchase is refused
    api.patch(f"/api/v1/members/{member}", {"status": "blocked"})
    blocked_from = len(events_of(engine, api.program_id))
    body: dict[str, Any] = {"id": "evt-x", "type": "purchase", "member_external_id": member}
    body |= {"occurred_at": NOW.isoformat()}
    body |= {"order_id": "O-2", "currency": "EUR", "lines": [line("BEANS", "coffee-beans", "10.00")]}
    error_of(api.post("/api/v1/events", body), 422, "member_blocked")
    # Then nothing was written for the refusals; blocking is a profile change, told once
    after = events_of(engine, api.program_id)
    assert after[: len(before)] == before
    assert after[len(before) :] == [("member.updated", {"changes": {"status": "blocked"}})]
    assert len(after) == blocked_from


def test_events_published_in_a_savepoint_that_rolls_back_are_not_written(api: ApiClient, engine: Engine) -> None:
    member_id = _member_id(engine, api, api.member())
    kept = MemberUpdated(program_id=api.program_id, member_id=member_id, occurred_at=NOW, changes={"name": "kept"})
    dropped = MemberUpdated(program_id=api.program_id, member_id=member_id, occurred_at=NOW, changes={"name": "no"})
    with unit_of_work(engine) as session:
        outbox.publish(session, [kept], NOW)
        savepoint = session.begin_nested()
        outbox.publish(session, [dropped], NOW)
        savepoint.rollback()
    with unit_of_work(engine) as session:
        outbox.publish(session, [dropped], NOW)
        session.rollback()  # a whole transaction that rolls back writes nothing either
    updates = [payload for event_type, payload in events_of(engine, api.program_id) if event_type == "member.updated"]
    assert updates == [{"changes": {"name": "kept"}}]


def test_a_retried_event_is_told_once(api: ApiClient, engine: Engine) -> None:
    member = api.member()
    body: dict[str, Any] = {"id": "evt-1", "type": "purchase", "member_external_id": member}
    body |= {"occurred_at": NOW.isoformat()}
    body |= {"order_id": "O-1", "currency": "EUR", "lines": [line("BEANS", "coffee-beans", "10.00")]}
    assert api.post("/api/v1/events", body).status_code == 201
    assert api.post("/api/v1/events", body).status_code == 200
    with Session(engine) as session:
        earned = session.execute(
            select(func.count()).where(OutboxEvent.program_id == api.program_id, OutboxEvent.type == "points.earned")
        ).scalar_one()
    assert earned == 2  # the welcome bonus and the purchase, not the retry


def _member_id(engine: Engine, api: ApiClient, external_id: str) -> int:
    from punchcard.member import repository as members

    with Session(engine) as session:
        return members.get(session, api.program_id, external_id).id
