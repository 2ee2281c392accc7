"""/api/v1/webhooks: subscribe another system to the program's domain events, read what was sent, send again.

All of it needs the admin scope: an endpoint receives members' data, and its secret is shown once, on creation.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.settings import Settings
from punchcard.member.schemas import iso
from punchcard.program.http import CallerDep, VersionDep
from punchcard.webhook import service
from punchcard.webhook.schemas import WebhookIn
from punchcard.webhook.service import WebhookAttempt, WebhookDelivery, WebhookEndpoint

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


def _endpoint(row: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": row.events,
        "description": row.description,
        "created_at": iso(row.created_at),
        "status": "disabled" if row.disabled_at else "enabled",
        "disabled_at": iso(row.disabled_at),
        "disabled_reason": row.disabled_reason or None,
        "failing_since": iso(row.failing_since),
    }


def _delivery(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_id": str(row.event_id),
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "created_at": iso(row.created_at),
        "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
        "delivered_at": iso(row.delivered_at),
        "failed_at": iso(row.failed_at),
        "last_status": row.last_status,
        "last_error": row.last_error or None,
        "log": [
            {
                "at": iso(attempt.attempted_at),
                "status_code": attempt.status_code,
                "error": attempt.error or None,
                "milliseconds": attempt.milliseconds,
            }
            for attempt in attempts
        ],
    }


@router.post("", status_code=201)
def create_webhook(
    body: WebhookIn, request: Request, session: SessionDep, version: VersionDep, caller: CallerDep, now: NowDep
) -> dict[str, Any]:
    """Subscribe a URL to event types (``"*"``: all); the answer carries the signing ``secret``, shown only now."""
    caller.require_admin()
    settings: Settings = request.app.state.settings
    row = service.create(
        session,
        version.program_id,
        str(body.url),
        body.events,
        body.description,
        now,
        allow_private=settings.webhooks_allow_private,
    )
    session.commit()
    return {**_endpoint(row), "secret": row.secret}


@router.get("")
def list_webhooks(session: SessionDep, version: VersionDep, caller: CallerDep) -> dict[str, Any]:
    caller.require_admin()
    return {"items": [_endpoint(row) for row in service.endpoints(session, version.program_id)]}


@router.get("/{webhook_id}")
def get_webhook(webhook_id: int, session: SessionDep, version: VersionDep, caller: CallerDep) -> dict[str, Any]:
    caller.require_admin()
    return _endpoint(service.get(session, version.program_id, webhook_id))


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(
    webhook_id: int, session: SessionDep, version: VersionDep, caller: CallerDep, now: NowDep
) -> Response:
    """Stop sending to it; nothing more is sent, and it is gone from the list."""
    caller.require_admin()
    service.delete(session, version.program_id, webhook_id, now)
    session.commit()
    return Response(status_code=204)


@router.post("/{webhook_id}/enable")
def enable_webhook(webhook_id: int, session: SessionDep, version: VersionDep, caller: CallerDep) -> dict[str, Any]:
    """Send to an endpoint that was disabled for failing; what is pending goes out, oldest first."""
    caller.require_admin()
    row = service.enable(session, version.program_id, webhook_id)
    session.commit()
    return _endpoint(row)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: int,
    session: SessionDep,
    version: VersionDep,
    caller: CallerDep,
    before: Annotated[int | None, Query(description="the `next_before` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """What was sent to the endpoint, newest first, each with its attempts (status code, error, time taken)."""
    caller.require_admin()
    page = service.deliveries(session, version.program_id, webhook_id, before, limit)
    return {
        "items": [_delivery(row, page.attempts[row.id]) for row in page.deliveries],
        "next_before": page.next_before,
    }


@router.post("/{webhook_id}/deliveries/{delivery_id}/retry", status_code=202)
def retry_delivery(
    webhook_id: int, delivery_id: int, session: SessionDep, version: VersionDep, caller: CallerDep, now: NowDep
) -> dict[str, Any]:
    """Send a delivery again as soon as the sender runs, whatever its status."""
    caller.require_admin()
    row = service.retry(session, version.program_id, webhook_id, delivery_id, now)
    session.commit()
    return _delivery(row, [])
