"""Apple's PassKit web service (``webServiceURL`` is ``<public URL>/passes/apple``), and the program logo Google
Wallet shows. The request boundary: it commits.

Answers are the protocol's status codes (200, 201, 204, 304, 401); a refusal carries the API's error envelope,
which Wallet ignores and a person debugging reads (docs/errors.md).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from punchcard.kit.http import NowDep, SessionDep
from punchcard.passes import devices, images, service
from punchcard.passes.http import pass_response
from punchcard.program import service as programs
from punchcard.program.errors import ProgramNotFound

log = logging.getLogger(__name__)

router = APIRouter(prefix=service.WEB_SERVICE_PATH + "/v1", tags=["wallet passes"])
logos = APIRouter(tags=["wallet passes"])

Authorization = Annotated[str | None, Header()]
Identifier = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]
REGISTRATION = "/devices/{device}/registrations/{pass_type_identifier}/{serial_number}"


class PushTokenIn(BaseModel):
    """Apple's ``PushToken`` (other keys a later Wallet may send are ignored: the device is not ours to refuse)."""

    pushToken: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[0-9A-Fa-f]+$")]  # noqa: N815 (Apple's)


class LogsIn(BaseModel):
    """Apple's ``LogEntries``."""

    logs: Annotated[list[Annotated[str, Field(max_length=2000)]], Field(max_length=100)]


def _public_url(request: Request) -> str:
    return str(request.app.state.settings.public_url)


@router.post(REGISTRATION, status_code=201, responses={200: {"description": "registered already"}})
def register(
    device: Identifier,
    pass_type_identifier: str,
    serial_number: str,
    body: PushTokenIn,
    session: SessionDep,
    now: NowDep,
    authorization: Authorization = None,
) -> Response:
    """A device wants the pass's updates, pushed to ``pushToken``."""
    created = devices.register(session, device, pass_type_identifier, serial_number, authorization, body.pushToken, now)
    session.commit()
    return Response(status_code=201 if created else 200)


@router.delete(REGISTRATION)
def unregister(
    device: Identifier,
    pass_type_identifier: str,
    serial_number: str,
    session: SessionDep,
    authorization: Authorization = None,
) -> Response:
    """The device wants no more of the pass's updates."""
    devices.unregister(session, device, pass_type_identifier, serial_number, authorization)
    session.commit()
    return Response(status_code=200)


@router.get("/devices/{device}/registrations/{pass_type_identifier}", responses={204: {"description": "none"}})
def updated(
    device: Identifier,
    pass_type_identifier: str,
    session: SessionDep,
    passesUpdatedSince: str | None = None,  # noqa: N803
) -> Response:
    """The serial numbers of the device's passes that changed since ``passesUpdatedSince``, and the tag to send
    next time; 204 when none did."""
    found = devices.updated(session, device, pass_type_identifier, passesUpdatedSince)
    session.commit()
    if found is None:
        return Response(status_code=204)
    return JSONResponse({"lastUpdated": found.last_updated, "serialNumbers": found.serial_numbers})


@router.get("/passes/{pass_type_identifier}/{serial_number}", responses={304: {"description": "not modified"}})
def latest(
    pass_type_identifier: str,
    serial_number: str,
    request: Request,
    session: SessionDep,
    authorization: Authorization = None,
    if_modified_since: Annotated[str | None, Header()] = None,
) -> Response:
    """The pass as it is now; 304 when it has not changed since ``If-Modified-Since``."""
    found = devices.latest(
        session, pass_type_identifier, serial_number, authorization, if_modified_since, _public_url(request)
    )
    session.commit()
    return Response(status_code=304) if found is None else pass_response(found)


@router.post("/log")
def log_messages(body: LogsIn) -> Response:
    """What devices report about our passes and this service: kept in the server's log, for an operator."""
    for message in body.logs:
        log.warning("Wallet reports: %s", message[:500])
    return Response(status_code=200)


@logos.get("/passes/{slug}/logo.png", include_in_schema=False)
def logo(slug: str, session: SessionDep) -> Response:
    """The program's logo in Google Wallet (the class's ``programLogo``, which Google fetches)."""
    try:
        version = programs.current(session, programs.program_id_for(session, slug))
    except ProgramNotFound:
        return Response(status_code=404)
    return Response(
        images.logo(version.program.email.colour),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )
