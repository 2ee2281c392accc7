"""The portal's catch-all route: it matches every address under the portal, so it must be matched last."""

from __future__ import annotations

from fastapi.responses import RedirectResponse, Response

from punchcard.portal.rendering import PageNotFound
from punchcard.portal.routes.common import VisitorDep, portal_router

router = portal_router()


@router.get("/{rest:path}")
def unknown_page(visitor: VisitorDep, rest: str) -> Response:
    """Any other address under the portal: its own 404 page (the API would answer in JSON), or home for ``/``."""
    if rest == "":
        return RedirectResponse(visitor.url(), status_code=308)
    raise PageNotFound
