"""Inviting friends: the member's referral page (code, link to share, QR code, the friends they brought) and the
public invitation page a shared link opens, where a friend joins.

Only for a program with ``referrals``; for any other both are the portal's 404. Joining is the API's enrolment with
``referred_by`` (``portal.service.join``), so the fraud checks and ``referral.made`` happen as they do there; it
answers the same whether or not the address already belonged to a member, and e-mails a sign-in link either way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from punchcard.i18n.translator import Translator
from punchcard.kit.calendar import local_date
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member.domain import shown_name
from punchcard.portal import engagement, qr, service
from punchcard.portal.domain import csrf_valid
from punchcard.portal.rendering import PageNotFound, pending
from punchcard.portal.routes.common import (
    CsrfField,
    SettingsDep,
    Visitor,
    VisitorDep,
    page,
    portal_router,
    remember_language,
)
from punchcard.referral import service as referrals
from punchcard.referral.domain import Referrals
from punchcard.referral.errors import ReferralCodeNotFound, ReferralsNotOffered

router = portal_router()

NAME_LENGTH = 200
"""As the API's ``name``."""


def _rule(visitor: Visitor) -> Referrals:
    rule = visitor.program.referrals
    if rule is None:
        raise PageNotFound
    return rule


@router.get("/referral")
def referral(
    request: Request, visitor: VisitorDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    """The member's code and link (the code is made on first visit), what inviting gives, and their friends."""
    member = visitor.signed_in()
    rule = _rule(visitor)
    program = visitor.program
    found = referrals.sharing(session, visitor.version.program_id, program.slug, rule, member, settings.public_url, now)
    session.commit()  # keeps a code made on this first visit
    ui = visitor.ui
    return page(
        request,
        visitor,
        "referral.html",
        "referral",
        sharing=found,
        rule=rule,
        terms=engagement.referral_terms(ui, program, rule),
        friends=[(friend, local_date(friend.joined_at, program.zone)) for friend in found.friends],
        statuses=engagement.FRIEND_STATUS,
        qr=qr.svg(found.url, ui.t("referral.qr")),
    )


def _referrer_name(visitor: Visitor, session: SessionDep, rule: Referrals, code: str) -> str | None:
    """The first name and initial of the code's owner (``None`` without a name); ``referral_code_not_found`` for a
    code that is no active member's, ``referrals_not_offered`` while the program takes no new referrals."""
    if not rule.enabled:
        raise ReferralsNotOffered("this program does not take new referrals")
    referrer = referrals.referrer_of(session, visitor.version.program_id, code)
    return shown_name(referrer.name)


def _invalid(request: Request, visitor: Visitor) -> Response:
    return page(request, visitor, "join_invalid.html", "join", 404)


def _join_page(
    request: Request,
    visitor: Visitor,
    rule: Referrals,
    code: str,
    referrer: str | None,
    *,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    values = form or {"email": "", "name": "", "language": visitor.ui.language, "marketing_consent": False}
    return page(
        request,
        visitor,
        "join.html",
        "join",
        status_code,
        code=code,
        referrer=referrer,
        offer=engagement.invitation_offer(visitor.ui, visitor.program, rule),
        error=error,
        form=values,
    )


@router.get("/join")
def invitation(request: Request, visitor: VisitorDep, session: SessionDep, ref: str = "") -> Response:
    """The page a shared link opens: who invites, what the friend gets, and the form to join."""
    rule = _rule(visitor)
    if visitor.member is not None:
        return RedirectResponse(visitor.url(), status_code=303)  # a member already: nothing to join
    try:
        referrer = _referrer_name(visitor, session, rule, ref)
    except (ReferralCodeNotFound, ReferralsNotOffered):
        return _invalid(request, visitor)
    return _join_page(request, visitor, rule, ref, referrer)


@router.post("/join")
def join(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    ref: Annotated[str, Form(max_length=64)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=NAME_LENGTH)] = "",
    language: Annotated[str, Form(max_length=16)] = "",
    marketing_consent: Annotated[str, Form(max_length=8)] = "",
    csrf: CsrfField = "",
) -> Response:
    """Enrol the friend with ``referred_by`` and e-mail a sign-in link; an address that is a member's already gets
    only the link, with the same answer."""
    rule = _rule(visitor)
    if visitor.member is not None:
        return RedirectResponse(visitor.url(), status_code=303)
    try:
        referrer = _referrer_name(visitor, session, rule, ref)
    except (ReferralCodeNotFound, ReferralsNotOffered):
        return _invalid(request, visitor)
    consent = marketing_consent == "yes"
    form = {"email": email, "name": name, "language": language, "marketing_consent": consent}

    def refused(error: str) -> Response:
        return _join_page(request, visitor, rule, ref, referrer, status_code=400, error=error, form=form)

    if not csrf_valid(visitor.session_token or visitor.browser_secret, csrf):
        return refused("sign_in.form_expired")
    try:
        address = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        return refused("sign_in.email_invalid")
    if not name.strip():
        return refused("join.name_invalid")
    if language not in visitor.languages:
        return refused("profile.language_invalid")
    client = request.client.host if request.client is not None else None
    sign_up = service.SignUp(address, name.strip(), language, consent, ref, client)
    try:
        service.join(session, visitor.version, sign_up, now)
    except (ReferralCodeNotFound, ReferralsNotOffered):  # the code's owner left, or referrals stopped, just now
        session.rollback()
        return _invalid(request, visitor)
    session.commit()  # the sign-in mail goes out from the outbox (``portal.consumers``)
    remember_language(request, language, visitor.secure)
    chosen = replace(visitor, ui=Translator(language))  # the answer in the language just chosen, as the mail is
    pending(request).translator = chosen.ui
    return page(request, chosen, "join_sent.html", "join", email=address)
