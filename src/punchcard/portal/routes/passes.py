"""/portal/{slug}/card.pkpass and /portal/{slug}/card/google-wallet: the signed-in member's own card for their
phone's wallet. Only ever the member's own: neither path names a member."""

from __future__ import annotations

from fastapi.responses import RedirectResponse, Response

from punchcard.kit.http import NowDep, SessionDep
from punchcard.passes import service as passes
from punchcard.passes.http import pass_response
from punchcard.portal.rendering import PageNotFound
from punchcard.portal.routes.common import SettingsDep, VisitorDep, portal_router

router = portal_router()


@router.get("/card.pkpass")
def apple_pass(visitor: VisitorDep, session: SessionDep, settings: SettingsDep, now: NowDep) -> Response:
    """A new copy of the member's Apple Wallet pass (each copy has a token of its own)."""
    member = visitor.signed_in()
    found = passes.download(session, visitor.version, member, settings.public_url, now)
    if found is None:
        raise PageNotFound
    session.commit()
    return pass_response(found)


@router.get("/card/google-wallet")
def google_pass(visitor: VisitorDep, session: SessionDep, settings: SettingsDep, now: NowDep) -> Response:
    """Off to Google Wallet with the member's card in a signed link."""
    member = visitor.signed_in()
    link = passes.google_link(session, visitor.version, member, settings.public_url, now)
    if link is None:
        raise PageNotFound
    session.commit()
    return RedirectResponse(link, status_code=303)
