"""Request-scoped dependencies: a session (the request commits it), the caller's key, and the program in force."""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from punchcard.auth.service import Caller, authenticate
from punchcard.kit.clock import utc_now
from punchcard.kit.errors import ValidationFailed
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session  # endpoints commit; anything uncommitted is rolled back when the session closes


SessionDep = Annotated[Session, Depends(get_session)]


def get_caller(session: SessionDep, authorization: Annotated[str | None, Header()] = None) -> Caller:
    return authenticate(session, authorization)


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_version(session: SessionDep, caller: CallerDep) -> ProgramVersion:
    return programs.current(session, caller.program_id)


VersionDep = Annotated[ProgramVersion, Depends(get_version)]


def get_now() -> datetime:
    return utc_now()


NowDep = Annotated[datetime, Depends(get_now)]


def reject_nul(request: Request) -> None:
    """PostgreSQL text cannot hold NUL: refuse it in the path and the query string as request bodies do."""
    for where, values in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        for name, value in values:
            if "\x00" in str(value):
                raise ValidationFailed(
                    f"the request is invalid: {where}.{name}: must not contain the NUL character",
                    [{"field": f"{where}.{name}", "message": "must not contain the NUL character"}],
                )
