"""/api/v1/events and /api/v1/preview."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from punchcard.event import service
from punchcard.event.group_commit import GroupCommit
from punchcard.event.schemas import EventIn, PreviewIn
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.idempotency import request_hash
from punchcard.program.http import OwnAccessDep, VersionDep

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.post("/events", status_code=201, responses={200: {"description": "a replay of an event already processed"}})
async def post_event(body: EventIn, request: Request, access: OwnAccessDep, now: NowDep) -> JSONResponse:
    """Process a purchase, refund or custom event exactly once; a retry with the same id returns the first response.

    The event is recorded by the process's group-commit writer, together with the events that arrive with it, and
    answered after their common commit (``event.group_commit``).
    """
    digest = request_hash(body.model_dump(mode="json"))
    committer: GroupCommit = request.app.state.group_commit
    outcome = await committer.record(access.version, body, digest, now)
    return JSONResponse(outcome.body, status_code=outcome.status)


@router.post("/preview")
def preview(body: PreviewIn, session: SessionDep, version: VersionDep, now: NowDep) -> dict[str, Any]:
    """What a purchase would earn, rule by rule, without writing anything."""
    evaluation = service.preview(session, version, body, now)
    return {
        "points": evaluation.points,
        "effects": [
            {
                "type": "points_earned",
                "points": award.points,
                "rule": award.rule_code,
                "rule_name": award.rule_name,
                "detail": award.detail,
                "exact": str(award.exact),
            }
            for award in evaluation.awards
        ],
    }
