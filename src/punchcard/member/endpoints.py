"""/api/v1/members: enrol, read, update. The member's ledger and adjustments are the ledger's
(``ledger.endpoints``), redemptions the rewards' and coupons the coupons'."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from sqlalchemy.orm import Session

from punchcard.event import service as events
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member import repository as members
from punchcard.member import service
from punchcard.member.http import member_view, read_view
from punchcard.member.schemas import MemberIn, MemberPatch
from punchcard.program.http import (
    AcceptLanguageHeader,
    Access,
    AskedLanguageDep,
    CallerDep,
    LangQuery,
    VersionDep,
    asked_language,
    in_one_trip,
)
from punchcard.referral.errors import ReferralsNotOffered

router = APIRouter(prefix="/api/v1/members", tags=["members"])


@router.post("", status_code=201)
def create_member(
    body: MemberIn, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    """Enrol a member; the program's ``member_enrolled`` rules (e.g. a welcome bonus) run at once."""
    profile = service.Profile(body.email, body.name, body.birth_date, body.language, body.marketing_consent)
    if body.referred_by is not None and version.program.referrals is None:
        raise ReferralsNotOffered("this program has no referrals", [{"field": "referred_by"}])
    attributes = body.enrolment_attributes()
    member, effects = events.enrol(
        session, version, body.external_id, profile, body.enrolled_at or now, now, attributes=attributes
    )
    view = member_view(session, version, member, now, asked)
    session.commit()
    return {**view, "effects": effects}


@router.get("/{external_id}")
async def read_member(
    external_id: str,
    request: Request,
    now: NowDep,
    authorization: Annotated[str | None, Header()] = None,
    lang: LangQuery = None,
    accept_language: AcceptLanguageHeader = None,
) -> dict[str, Any]:
    """The member with points, expiring points and tier progress: the API's most frequent call, so one trip to the
    thread pool (``in_one_trip``)."""

    def read(session: Session, access: Access) -> dict[str, Any]:
        asked = asked_language(access.version.program, lang, accept_language)
        return read_view(session, access.version, external_id, now, asked)

    return await in_one_trip(request, authorization, read)


@router.patch("/{external_id}")
def update_member(
    external_id: str,
    body: MemberPatch,
    session: SessionDep,
    version: VersionDep,
    caller: CallerDep,
    asked: AskedLanguageDep,
    now: NowDep,
) -> dict[str, Any]:
    """Change profile fields; blocking or unblocking (``status``) needs the admin scope."""
    changes = body.model_dump(exclude_unset=True)
    if "status" in changes:
        caller.require_admin()
    member = members.get(session, version.program_id, external_id, lock=True)
    service.update(session, member, changes, now)
    view = member_view(session, version, member, now, asked)
    session.commit()
    return view
