"""The member's profile: language, birth date and marketing consent; and the download of their own data."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from punchcard.i18n.catalogue import supported
from punchcard.kit.calendar import local_date
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member.service import Member
from punchcard.portal import service
from punchcard.portal.routes.common import (
    CsrfField,
    Visitor,
    VisitorDep,
    page,
    portal_router,
    remember_language,
    require_csrf,
)
from punchcard.privacy import service as privacy
from punchcard.privacy.domain import Requester, Source

router = portal_router()


@router.get("/profile")
def profile(request: Request, visitor: VisitorDep, saved: bool = False) -> Response:
    member = visitor.signed_in()
    return _profile_page(request, visitor, member, saved=saved)


def _profile_page(
    request: Request,
    visitor: Visitor,
    member: Member,
    *,
    status_code: int = 200,
    saved: bool = False,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    values = form or {
        "language": supported(member.language) or visitor.ui.language,
        "birth_date": member.birth_date.isoformat() if member.birth_date else "",
        "marketing_consent": member.marketing_consent,
    }
    return page(request, visitor, "profile.html", "profile", status_code, saved=saved, error=error, form=values)


@router.post("/profile")
def save_profile(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    language: Annotated[str, Form()] = "",
    birth_date: Annotated[str, Form()] = "",
    marketing_consent: Annotated[str, Form()] = "",
    csrf: CsrfField = "",
) -> Response:
    """Save the profile; consent counts only when the box was ticked (an absent field is a "no")."""
    member = visitor.signed_in()
    require_csrf(visitor, csrf)
    consent = marketing_consent == "yes"
    form = {"language": language, "birth_date": birth_date, "marketing_consent": consent}
    if language not in visitor.languages:
        return _profile_page(request, visitor, member, status_code=400, error="profile.language_invalid", form=form)
    try:
        born = _birth_date(birth_date.strip(), local_date(now, visitor.program.zone))
    except ValueError:
        return _profile_page(request, visitor, member, status_code=400, error="profile.birth_date_invalid", form=form)
    service.update_profile(session, member, now, language=language, birth_date=born, marketing_consent=consent)
    session.commit()
    remember_language(request, language, visitor.secure)
    return RedirectResponse(visitor.url("/profile?saved=1"), status_code=303)


@router.post("/profile/data")
def download_data(visitor: VisitorDep, session: SessionDep, now: NowDep, csrf: CsrfField = "") -> Response:
    """Everything stored about the signed-in member, as a JSON file: their own data only, as the export of the API
    gives it (``privacy.service.export``); the audit log records the download."""
    member = visitor.signed_in()
    require_csrf(visitor, csrf)
    document = privacy.export(session, visitor.version, member, Requester(Source.PORTAL), now)
    session.commit()
    disposition = f'attachment; filename="{visitor.program.slug}-my-data.json"'
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.post("/language")
def switch_language(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    language: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
    csrf: CsrfField = "",
) -> Response:
    """The footer's language switch: the browser keeps the choice, and a signed-in member's profile too (their
    e-mails follow it). Back to the page it was made on (only a page of this portal)."""
    require_csrf(visitor, csrf)
    if language in visitor.languages:
        remember_language(request, language, visitor.secure)
        if visitor.member is not None:
            service.set_language(session, visitor.member, language, now)
            session.commit()
    return RedirectResponse(_back_to(visitor, back), status_code=303)


def _back_to(visitor: Visitor, back: str) -> str:
    """``back`` when it is a page of this portal (a path here, never another site), else the portal's home."""
    home = visitor.url()
    here = back == home or back.startswith((home + "/", home + "?"))
    return back if here and "//" not in back and "\\" not in back else home


def _birth_date(text: str, today: date) -> date | None:
    """The birth date typed (``None`` when left empty); ``ValueError`` unless it is a real date in the past."""
    if not text:
        return None
    born = date.fromisoformat(text)
    if not date(1900, 1, 1) <= born < today:
        raise ValueError("a birth date lies in the past")
    return born
