"""/api/v1/members/{id}/ledger and /api/v1/members/{id}/adjustments: the member's ledger, and adjusting it by hand."""

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from punchcard.kit.http import NowDep, SessionDep, retried_when_busy
from punchcard.ledger import adjustments, repository
from punchcard.member import service as members
from punchcard.member.schemas import AdjustmentIn, iso
from punchcard.program.http import CallerDep, VersionDep

router = APIRouter(prefix="/api/v1/members", tags=["members"])


@router.get("/{external_id}/ledger")
def read_ledger(
    external_id: str,
    session: SessionDep,
    version: VersionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="next_cursor from the previous page")] = None,
) -> dict[str, Any]:
    """The member's ledger entries, newest first; ``next_cursor`` fetches the page after."""
    member = members.get(session, version.program_id, external_id)
    entries = repository.history(session, member.id, before, limit + 1)
    page = entries[:limit]
    return {
        "items": [
            {
                "id": entry.id,
                "account": entry.account,
                "kind": entry.kind,
                "points": entry.amount,
                "occurred_at": iso(entry.occurred_at),
                "recorded_at": iso(entry.recorded_at),
                "description": entry.description,
                "rule": entry.rule_code,
                "order_id": entry.order_id,
                "lot_id": entry.lot_id,
                "operation": entry.operation,
                "program_version": entry.program_version,
            }
            for entry in page
        ],
        "next_cursor": page[-1].id if len(entries) > limit else None,
    }


def _adjustment_operation(key: str) -> str:
    """The ledger operation of a keyed adjustment; keys too long for the column (64 characters) are hashed."""
    operation = f"adjustment:{key}"
    return operation if len(operation) <= 64 else f"adjustment:#{hashlib.sha256(key.encode()).hexdigest()[:52]}"


@router.post("/{external_id}/adjustments", status_code=201)
@retried_when_busy
def adjust_points(
    external_id: str,
    body: AdjustmentIn,
    session: SessionDep,
    version: VersionDep,
    caller: CallerDep,
    now: NowDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> Any:
    """Goodwill or correction (admin scope). With an ``Idempotency-Key`` a retry changes nothing more."""
    caller.require_admin()
    member = members.get(session, version.program_id, external_id)
    operation = _adjustment_operation(idempotency_key) if idempotency_key else None
    program = version.program
    ledger = adjustments.Ledger(version.program_id, version.version, program.points, program.zone)
    adjusted = adjustments.adjust(
        session, ledger, member.id, body.points, body.reason, operation=operation, source="api", now=now
    )
    balance = {"available": adjusted.balance.available, "pending": adjusted.balance.pending}
    result = {"points": body.points, "reason": body.reason, "balance": balance}
    if adjusted.replayed:
        return JSONResponse({**result, "replayed": True}, status_code=200)
    session.commit()
    return result
