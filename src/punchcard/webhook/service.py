"""Webhook endpoints and their deliveries: subscribing, the log, retrying by hand, and turning committed domain
events into deliveries (``consumer.WebhookFanout``, run by the outbox dispatcher).

A delivery is made once per event and endpoint, in the dispatcher's transaction (the unique key makes a repeat a
no-op), with the exact body every attempt will send; ``sender`` then posts it until it is delivered or given up.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.kit import outbound
from punchcard.outbox.domain import Message
from punchcard.webhook import repository
from punchcard.webhook.domain import Status, subscribed
from punchcard.webhook.errors import WebhookDeliveryNotFound, WebhookNotFound, WebhookUrlNotAllowed

# The rows cross the feature's boundary as what the API shows.
from punchcard.webhook.models import WebhookAttempt as WebhookAttempt
from punchcard.webhook.models import WebhookDelivery as WebhookDelivery
from punchcard.webhook.models import WebhookEndpoint as WebhookEndpoint


def check_url(url: str, allow_private: bool) -> None:
    """Refuse a URL that reaches a loopback or private address, or none at all, unless private ones are allowed
    (``kit.outbound``). Checked when an endpoint is made and again before every attempt (the name may resolve
    elsewhere by then)."""
    if allow_private:
        return
    found = outbound.blocked(url)
    if found is None:
        return
    if not found.private:
        raise WebhookUrlNotAllowed(found.reason, [{"field": "url", "message": "no address"}])
    raise WebhookUrlNotAllowed(
        f"webhooks may not reach private networks: {found.reason}", [{"field": "url", "message": found.reason}]
    )


def create(
    session: Session,
    program_id: int,
    url: str,
    events: list[str],
    description: str,
    now: datetime,
    *,
    allow_private: bool,
) -> WebhookEndpoint:
    check_url(url, allow_private)
    row = WebhookEndpoint(
        program_id=program_id,
        url=url,
        events=events,
        description=description,
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get(session: Session, program_id: int, endpoint_id: int) -> WebhookEndpoint:
    found = repository.endpoint(session, program_id, endpoint_id)
    if found is None:
        raise WebhookNotFound(f"no webhook {endpoint_id}", [{"webhook": endpoint_id}])
    return found


def endpoints(session: Session, program_id: int) -> Sequence[WebhookEndpoint]:
    return repository.endpoints(session, program_id)


def delete(session: Session, program_id: int, endpoint_id: int, now: datetime) -> None:
    """Stop sending to the endpoint; its deliveries stay readable (``deleted_at``)."""
    get(session, program_id, endpoint_id).deleted_at = now


def enable(session: Session, program_id: int, endpoint_id: int) -> WebhookEndpoint:
    """Send to a disabled endpoint again; its pending deliveries go out in order, from now."""
    found = get(session, program_id, endpoint_id)
    found.disabled_at, found.disabled_reason, found.failing_since = None, "", None
    return found


@dataclass(frozen=True)
class Page:
    deliveries: Sequence[WebhookDelivery]
    attempts: dict[int, list[WebhookAttempt]]
    next_before: int | None


def deliveries(session: Session, program_id: int, endpoint_id: int, before: int | None, limit: int) -> Page:
    get(session, program_id, endpoint_id)
    page, attempts = repository.deliveries(session, endpoint_id, before, limit)
    return Page(page, attempts, page[-1].id if len(page) == limit else None)


def retry(session: Session, program_id: int, endpoint_id: int, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Send a delivery again now, delivered or failed: a receiver that lost it asks for it once more. A retry made
    by hand gets a fresh retry window."""
    get(session, program_id, endpoint_id)
    found = repository.delivery(session, endpoint_id, delivery_id)
    if found is None:
        raise WebhookDeliveryNotFound(
            f"webhook {endpoint_id} has no delivery {delivery_id}", [{"delivery": delivery_id}]
        )
    found.status, found.next_attempt_at, found.first_attempt_at = Status.PENDING.value, now, None
    found.failed_at, found.locked_until = None, None
    session.flush()
    return found


def body(message: Message) -> str:
    """What is POSTed for an event (``docs/webhooks.md``)."""
    return json.dumps(
        {
            "id": str(message.id),
            "type": message.type,
            "created": message.recorded_at.isoformat(),
            "data": message.as_json(),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def fan_out(session: Session, messages: Sequence[Message], now: datetime) -> int:
    """One delivery per event and enabled endpoint of its program subscribed to its type; returns how many."""
    listening = repository.listening(session, sorted({message.program_id for message in messages}))
    rows: list[dict[str, Any]] = []
    for message in messages:
        for endpoint in listening:
            if endpoint.program_id == message.program_id and subscribed(endpoint.events, message.type):
                rows.append(
                    {
                        "endpoint_id": endpoint.id,
                        "event_id": message.id,
                        "event_type": message.type,
                        "member_id": message.member_id,
                        "body": body(message),
                        "status": Status.PENDING.value,
                        "attempts": 0,
                        "created_at": now,
                        "next_attempt_at": now,
                    }
                )
    repository.add_deliveries(session, rows)
    return len(rows)
