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

from punchcard.jobs import service as jobs
from punchcard.kit.db import unit_of_work
from punchcard.kit.events import EVENT_TYPES
from punchcard.outbox.models import OutboxEvent
from punchcard.portal import service as portal
from punchcard.program import service as programs
from punchcard.survey import service as surveys
from punchcard.survey.models import SurveyInvitation
from tests.clock import NOW
from tests.factories import ApiClient, deliver_outbox, line

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


def test_every_event_type_is_documented_and_nothing_else() -> None:
    assert sorted(documented()) == sorted(EVENT_TYPES)


def test_each_documented_example_has_the_fields_and_types_of_a_real_event(api: ApiClient, engine: Engine) -> None:
    real = real_events(api, engine)
    examples = documented()
    assert sorted(real) == sorted(examples), "the scenario should produce every documented type"
    for event_type, example in examples.items():
        assert example["type"] == event_type
        assert example["schema_version"] == EVENT_TYPES[event_type].schema_version
        assert same_shape(example, real[event_type]), (event_type, shape(real[event_type]))
