"""The caller's key and the program version in force, for any feature's endpoints: the dependencies that resolve
``Authorization: Bearer <key>`` to a caller and a program version (``program.service.for_key``, one query), and the
single trip to the thread pool of the most frequent read. Generic request dependencies are in ``kit.http``."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.types import Scope

from punchcard.auth.service import Caller
from punchcard.i18n.catalogue import matching, wished
from punchcard.kit.db import reading, retry_on_conflict
from punchcard.kit.http import SessionDep
from punchcard.program import service as programs
from punchcard.program.domain import Program, ProgramVersion

T = TypeVar("T")


@dataclass(frozen=True)
class Access:
    caller: Caller
    version: ProgramVersion


_REMEMBERED = "punchcard.access"


def _read_key(session: Session, authorization: str | None) -> Access:
    return Access(*programs.for_key(session, authorization))


def authenticate(sessions: Callable[[], Session], authorization: str | None) -> Access:
    """The caller's key and program version, read in a short session of its own that is closed before returning:
    for callers that hold no session (``api.limits.KeyFirst``, ``get_own_access``). Run it in the thread pool."""
    with sessions() as session:
        return _read_key(session, authorization)


def remember(scope: Scope, access: Access) -> None:
    """Keep ``access`` for the rest of the request (in its ASGI state), so that no dependency reads the key again."""
    scope.setdefault("state", {})[_REMEMBERED] = access


def remembered(request: Request) -> Access | None:
    """The access ``api.limits.KeyFirst`` found before the body was read (API writes only), if any."""
    access: Access | None = request.scope.get("state", {}).get(_REMEMBERED)
    return access


async def get_access(
    request: Request, session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Access:
    """The caller's key and the program version in force. An API write was authenticated before its body was read,
    and that is reused; otherwise one query in the request's session, in one trip to the thread pool."""
    access = remembered(request)
    if access is None:
        access = await run_in_threadpool(_read_key, session, authorization)
    return access


AccessDep = Annotated[Access, Depends(get_access)]


async def get_own_access(request: Request, authorization: Annotated[str | None, Header()] = None) -> Access:
    """``get_access`` without the request's session: for endpoints whose work happens elsewhere (events, on the
    group-commit writer). What was found before the body was read is reused; otherwise the key is read in a short
    session of its own, opened and closed in one trip to the thread pool."""
    access = remembered(request)
    if access is None:
        access = await run_in_threadpool(authenticate, request.app.state.sessions, authorization)
    return access


OwnAccessDep = Annotated[Access, Depends(get_own_access)]


async def in_one_trip(request: Request, authorization: str | None, work: Callable[[Session, Access], T]) -> T:
    """Authenticate and do ``work`` (which must not commit: it reads) in one session and one trip to the thread pool.

    A synchronous dependency, a synchronous endpoint and closing a session that read each take a trip of their own;
    for the most frequent read that was three trips, more CPU than its queries (docs/performance.md, finding 17).
    """
    access = remembered(request)

    def trip() -> T:
        with request.app.state.sessions() as session:
            reading(session)
            return work(session, access or _read_key(session, authorization))

    return await run_in_threadpool(retry_on_conflict, trip)  # again on a fresh connection if it was lost


LangQuery = Annotated[
    str | None, Query(description="the language of program texts (names, descriptions), one of the program's")
]
AcceptLanguageHeader = Annotated[
    str | None, Header(description="the languages wished for program texts, when there is no `lang`")
]


def asked_language(program: Program, lang: str | None, accept_language: str | None) -> str | None:
    """The program language a request asks its program texts in: ``?lang=``, then ``Accept-Language``; ``None`` when
    it asks for none the program has. A response about a member then uses the member's language
    (``member.http``), any other the program's first."""
    return matching([lang, *wished(accept_language)], program.languages)


async def get_caller(access: AccessDep) -> Caller:
    return access.caller


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_version(access: AccessDep) -> ProgramVersion:
    return access.version


VersionDep = Annotated[ProgramVersion, Depends(get_version)]


async def get_asked_language(
    version: VersionDep, lang: LangQuery = None, accept_language: AcceptLanguageHeader = None
) -> str | None:
    return asked_language(version.program, lang, accept_language)


AskedLanguageDep = Annotated[str | None, Depends(get_asked_language)]
"""The program language the request asks its texts in, if any (``asked_language``)."""
