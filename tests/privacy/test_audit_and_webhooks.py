"""What others keep of an erasure: the audit log says who exported and who erased the member, and why, under the
pseudonym and without their personal data; webhook subscribers get what was pending for the member without it, then
``member.erased``, in order, and nothing after."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import ERASED
from punchcard.member.models import Member
from punchcard.staff.models import AuditEntry
from punchcard.webhook.models import WebhookDelivery
from tests.clock import NOW
from tests.factories import ApiClient, deliver_outbox, line
from tests.privacy.database import found_anywhere

EMAIL, NAME = "audited-member@example.com", "Audra Audited"


def test_the_audit_log_says_who_exported_and_erased_the_member_and_why_without_their_data(
    api: ApiClient, engine: Engine
) -> None:
    # Given a member whose data an admin key exported
    member = api.member(email=EMAIL, name=NAME)
    deliver_outbox(api.client)
    assert api.get(f"/api/v1/members/{member}/export").status_code == 200

    # When the admin key erases them, with a reason that names them, and the activity log hears of it
    reason = f"{NAME} asked by e-mail"
    pseudonym = api.post(f"/api/v1/members/{member}/erase", {"reason": reason}).json()["member"]
    deliver_outbox(api.client)

    # Then the log has the enrolment, the export, the erasure and its event, all under the pseudonym
    with Session(engine) as session:
        member_id = session.execute(select(Member.id).where(Member.external_id == pseudonym)).scalar_one()
        entries = session.execute(
            select(AuditEntry).where(AuditEntry.member_id == member_id).order_by(AuditEntry.id)
        ).scalars()
        log = [(entry.action, entry.staff_id, entry.target, entry.reason, entry.details) for entry in entries]
    target = f"member {pseudonym}"
    assert [action for action, *_ in log] == [
        "member.enrolled",
        "points.earned",  # the welcome bonus
        "member.data_exported",
        "member.data_erased",
        "member.erased",
    ]
    assert {entry_target for _, _, entry_target, _, _ in log} == {target}
    assert (log[0][4]["email"], log[0][4]["name"]) == (None, None)
    assert log[2:] == [
        ("member.data_exported", None, target, "", {"source": "api"}),
        ("member.data_erased", None, target, f"{ERASED} asked by e-mail", {"source": "api"}),
        ("member.erased", None, target, "", {"source": "api"}),
    ]
    assert found_anywhere(engine, (member, EMAIL, NAME)) == []


def test_webhooks_send_what_was_pending_without_personal_data_then_member_erased_and_nothing_after(
    api: ApiClient, engine: Engine
) -> None:
    # Given an endpoint for every event, whose receiver is down, and a member's events waiting for it
    hook = api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "events": ["*"]})
    assert hook.status_code == 201, hook.text
    member = api.member(email=EMAIL, name=NAME)
    api.patch(f"/api/v1/members/{member}", {"name": "Audra Renamed"})
    api.purchase(member, [line("BEANS", "coffee-beans", "30.00")], occurred_at=NOW.isoformat())
    deliver_outbox(api.client)

    # When the member is erased, and the refused event after it finds them gone
    pseudonym = api.post(f"/api/v1/members/{member}/erase", {"reason": "asked"}).json()["member"]
    assert api.purchase(member, [line("BEANS", "coffee-beans", "30.00")], expect=410)
    deliver_outbox(api.client)

    # Then the pending deliveries are the same events, naming the pseudonym and nothing personal, then member.erased
    with Session(engine) as session:
        rows = session.execute(
            select(WebhookDelivery).where(WebhookDelivery.endpoint_id == hook.json()["id"]).order_by(WebhookDelivery.id)
        ).scalars()
        sent = [(row.status, json.loads(row.body)["data"]) for row in rows]
    assert [(status, data["type"]) for status, data in sent] == [
        ("pending", "member.enrolled"),
        ("pending", "points.earned"),
        ("pending", "member.updated"),
        ("pending", "points.earned"),
        ("pending", "member.erased"),
    ]
    assert {data["member"] for _, data in sent} == {pseudonym}
    assert sent[2][1]["payload"] == {"changes": {"name": None}}
    assert sent[-1][1]["payload"] == {"source": "api"}
    assert found_anywhere(engine, (member, EMAIL, NAME, "Audra Renamed")) == []
