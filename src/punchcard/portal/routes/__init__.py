"""/portal/{slug}: the member portal's pages and forms. The request boundary: it signs in, commits, then sends mail.

Every route runs through ``PortalRoute`` (HTML failures, security headers, cookies). Every POST form carries a CSRF
token tied to the browser's session (before sign-in, to a random browser cookie). One module per page group
(``common`` holds what they share), joined here into one ``router``.
"""

from __future__ import annotations

from punchcard.portal.routes import (
    app,
    card,
    causes,
    challenges,
    coalition,
    coupons,
    fallback,
    home,
    membership,
    passes,
    profile,
    push,
    referrals,
    rewards,
    sign_in,
    surveys,
    wallet,
)
from punchcard.portal.routes.common import portal_router

GROUPS = (
    sign_in,
    home,
    rewards,
    coupons,
    wallet,
    referrals,
    challenges,
    membership,
    causes,
    coalition,
    card,
    passes,
    profile,
    push,
    surveys,
    app,
    fallback,
)
"""The page groups in the order their routes are matched: a path is answered by the first route that fits it, and
``fallback`` fits every path."""

router = portal_router(route for group in GROUPS for route in group.router.routes)
