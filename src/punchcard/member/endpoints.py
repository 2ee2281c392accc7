"""/api/v1/members: enrol, read, update, history, adjustments."""

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar, cast

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from punchcard.api.deps import Access, CallerDep, NowDep, SessionDep, VersionDep, in_one_trip
from punchcard.api.errors import error_response
from punchcard.api.member_view import member_view
from punchcard.event import service as events
from punchcard.kit.db import is_conflict, retry_on_conflict
from punchcard.kit.errors import TryAgain
from punchcard.ledger import adjustments
from punchcard.ledger import repository as ledger_queries
from punchcard.member import repository as members
from punchcard.member import service
from punchcard.member.schemas import AdjustmentIn, MemberIn, MemberPatch, iso

router = APIRouter(prefix="/api/v1/members", tags=["members"])
log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def retried_when_busy(endpoint: Callable[P, R]) -> Callable[P, R | JSONResponse]:
    """For an endpoint that commits its request's ``session`` itself: when the database gives the transaction up (a
    deadlock or a serialization failure), roll back and run the whole endpoint again on a fresh transaction
    (``kit.db.retry_on_conflict``, at most 3 runs); after the last, answer 503 ``busy_try_again`` with
    ``Retry-After`` instead of a 500. For the adjustment and redemption endpoints, until their work moves into a
    service, where the retry belongs."""

    @functools.wraps(endpoint)
    def run(*args: P.args, **kwargs: P.kwargs) -> R | JSONResponse:
        session = cast(Session, kwargs["session"])
        try:
            return retry_on_conflict(lambda: endpoint(*args, **kwargs), before_retry=session.rollback)
        except DBAPIError as error:
            if not is_conflict(error):
                raise
            log.warning("gave the request up after retrying it: %s", error.orig)
        busy = TryAgain("the database gave this request up for a conflicting change; nothing was done: send it again")
        response = error_response(busy.status, busy.code, busy.message, busy.details)
        response.headers["Retry-After"] = str(busy.retry_after)
        return response

    return run


@router.post("", status_code=201)
def create_member(body: MemberIn, session: SessionDep, version: VersionDep, now: NowDep) -> dict[str, Any]:
    """Enrol a member; the program's ``member_enrolled`` rules (e.g. a welcome bonus) run at once."""
    profile = service.Profile(body.email, body.name, body.birth_date, body.language, body.marketing_consent)
    member, effects = events.enrol(session, version, body.external_id, profile, body.enrolled_at or now, now)
    view = member_view(session, version, member, now)
    session.commit()
    return {**view, "effects": effects}


@router.get("/{external_id}")
async def read_member(
    external_id: str, request: Request, now: NowDep, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    """The member with points, expiring points and tier progress: the API's most frequent call, so one trip to the
    thread pool (``in_one_trip``)."""

    def read(session: Session, access: Access) -> dict[str, Any]:
        member = members.get(session, access.version.program_id, external_id)
        return member_view(session, access.version, member, now)

    return await in_one_trip(request, authorization, read)


@router.patch("/{external_id}")
def update_member(
    external_id: str, body: MemberPatch, session: SessionDep, version: VersionDep, caller: CallerDep, now: NowDep
) -> dict[str, Any]:
    """Change profile fields; blocking or unblocking (``status``) needs the admin scope."""
    changes = body.model_dump(exclude_unset=True)
    if "status" in changes:
        caller.require_admin()
    member = members.get(session, version.program_id, external_id, lock=True)
    service.update(session, member, changes, now)
    view = member_view(session, version, member, now)
    session.commit()
    return view


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
    entries = ledger_queries.history(session, member.id, before, limit + 1)
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
