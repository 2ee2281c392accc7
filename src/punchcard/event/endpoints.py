"""/api/v1/events (now, or accepted for later with ``Prefer: respond-async``), /api/v1/events/batch, the status of
an event, and /api/v1/preview."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from punchcard.event import accepted, service
from punchcard.event.accepted import AcceptCommit, Received
from punchcard.event.http import record_now
from punchcard.event.schemas import EventBatchIn, EventIn, EventStatusOut, PreviewIn
from punchcard.intake.service import Tracked
from punchcard.kit.errors import PunchcardError, validation_failure
from punchcard.kit.http import NowDep, SessionDep
from punchcard.program.http import AccessDep, AskedLanguageDep, OwnAccessDep, VersionDep

router = APIRouter(prefix="/api/v1", tags=["events"])

ASYNC = "respond-async"


@router.post(
    "/events",
    status_code=201,
    responses={
        200: {"description": "a replay of an event already processed"},
        202: {"description": "accepted for later (`Prefer: respond-async`)", "model": EventStatusOut},
    },
)
async def post_event(
    body: EventIn,
    request: Request,
    access: OwnAccessDep,
    now: NowDep,
    prefer: Annotated[str | None, Header(description="`respond-async`: accept now, process later (202)")] = None,
) -> JSONResponse:
    """Process a purchase, refund or custom event exactly once; a retry with the same id returns the first response.

    The event is recorded by the process's group-commit writer, together with the events that arrive with it, and
    answered after their common commit (``event.group_commit``). With ``Prefer: respond-async`` it is stored
    durably and answered ``202`` at once; a worker processes it later, and its ``status_url`` tells the outcome.
    """
    received = Received.of(body)
    if ASYNC in _preferences(prefer):
        [answer] = await _accepts(request).accept(access.version, [received], now)
        if isinstance(answer, PunchcardError):
            raise answer
        response = JSONResponse(_shown(request, answer), status_code=202)
        response.headers["Preference-Applied"] = ASYNC
        response.headers["Location"] = _status_url(request, answer.external_id)
        return response
    outcome = await record_now(request, access.version, body, now)
    return JSONResponse(outcome.body, status_code=outcome.status)


@router.post("/events/batch", status_code=202)
async def post_events(batch: EventBatchIn, request: Request, access: OwnAccessDep, now: NowDep) -> JSONResponse:
    """Accept up to 1,000 events for later processing, in one write. Each item is answered in order on its own: its
    status (as ``Prefer: respond-async`` answers one event), or its error (``{"error": {...}}``: an invalid body, a
    conflicting retry, ...); a bad item does not stop the others. Items with the same member are processed in the
    order given."""
    answers: list[dict[str, Any] | None] = []
    valid: list[Received] = []
    for item in batch.events:
        try:
            body = EventIn.model_validate(item)
        except ValidationError as invalid:
            answers.append(validation_failure(invalid.errors()).envelope())
            continue
        answers.append(None)
        valid.append(Received.of(body))
    found = iter(await _accepts(request).accept(access.version, valid, now) if valid else [])
    results = [answer if answer is not None else _answer(request, next(found)) for answer in answers]
    return JSONResponse({"results": results}, status_code=202)


@router.get("/events/{event_id:path}", responses={200: {"model": EventStatusOut}})
def get_event(event_id: str, request: Request, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Where an event stands: ``accepted`` (waiting for a worker), ``processed`` (with the response a synchronous
    request got or would have got) or ``rejected`` (with its error). Events processed at once are ``processed``."""
    return _shown(request, accepted.status(session, access.caller.program_id, event_id))


@router.post("/preview")
def preview(
    body: PreviewIn, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    """What a purchase would earn, rule by rule, without writing anything; rule names in the language asked for."""
    evaluation = service.preview(session, version, body, now)
    language = version.program.text_language(asked)
    return {
        "points": evaluation.points,
        "effects": [
            {
                "type": "points_earned",
                "points": award.points,
                "rule": award.rule_code,
                "rule_name": award.rule_name.in_language(language),
                "detail": award.detail,
                "exact": str(award.exact),
            }
            for award in evaluation.awards
        ],
    }


def _preferences(prefer: str | None) -> set[str]:
    """The preference tokens of a ``Prefer`` header (RFC 7240), without their parameters."""
    if not prefer:
        return set()
    return {part.split(";")[0].split("=")[0].strip().lower() for part in prefer.split(",")}


def _accepts(request: Request) -> AcceptCommit:
    accepts: AcceptCommit = request.app.state.accept_commit
    return accepts


def _answer(request: Request, answer: Tracked | PunchcardError) -> dict[str, Any]:
    return answer.envelope() if isinstance(answer, PunchcardError) else _shown(request, answer)


def _shown(request: Request, tracked: Tracked) -> dict[str, Any]:
    return tracked.document() | {"status_url": _status_url(request, tracked.external_id)}


def _status_url(request: Request, event_id: str) -> str:
    """Where the event's status is read, as a path (right behind any proxy)."""
    return str(request.app.url_path_for("get_event", event_id=quote(event_id, safe="")))
