"""What outbound webhooks keep about a member: one delivery per event about them and endpoint, with the body that
is sent. The export lists them as what was disclosed to whom (the endpoint's URL, the event, when it was delivered)
without the bodies, which repeat the activity. Erasure rewrites each body as its event now reads (the pseudonym for
the member, the personal fields null, the rest scrubbed): delivered bodies are a log, and pending ones go out so,
still in order, before the ``member.erased`` event that follows them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_json
from punchcard.webhook.models import WebhookDelivery, WebhookEndpoint


def _export(session: Session, subject: Subject) -> Rows:
    query = (
        select(WebhookDelivery, WebhookEndpoint.url)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.member_id == subject.member_id, WebhookEndpoint.program_id == subject.program_id)
        .order_by(WebhookDelivery.id)
    )
    found = session.execute(query).all()
    return {"webhook_deliveries": [{**as_json(row, omit={"body"}), "url": url} for row, url in found]}


def _erase(session: Session, erasure: Erasure) -> None:
    query = select(WebhookDelivery).where(WebhookDelivery.member_id == erasure.subject.member_id)
    for delivery in session.execute(query).scalars():
        delivery.body = json.dumps(
            _erased(json.loads(delivery.body), erasure), separators=(",", ":"), ensure_ascii=False
        )
    session.flush()


def _erased(body: dict[str, Any], erasure: Erasure) -> dict[str, Any]:
    """The body (``webhook.service.body``) with its event (``data``) as erasure leaves it."""
    data = body["data"]
    event = {**data, "member": erasure.pseudonym, "payload": erasure.payload(data["type"], data["payload"])}
    return {**body, "data": event}


PART = Part("webhooks", ("webhook_deliveries",), _export, _erase)
