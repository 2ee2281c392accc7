"""/admin: the console's routes. The request boundary: it checks who is signed in and what their role allows (on every
route, server-side), checks each form's CSRF token, calls the use cases, commits, and answers with a page.

Program pages live under ``/admin/p/{slug}``; staff accounts and sign-in are installation-wide. Every route runs
through ``AdminRoute`` (HTML failures, security headers). A successful form redirects (post/redirect/get), except the
two that show a secret once: a new API key and a new one-time password. The pages themselves are built by the modules
named after them (``members``, ``programs``, ``dashboard``...); this package only wires requests to them, one module
per page group (``common`` holds what they share), joined here into one ``router``.
"""

from __future__ import annotations

from punchcard.admin.routes import (
    audit,
    causes,
    coalition,
    dashboard,
    editor,
    emails,
    engagement,
    keys,
    members,
    memberships,
    program,
    referrals,
    sign_in,
    staff,
    start,
    static,
    wallet,
)
from punchcard.admin.routes.common import console_router

GROUPS = (
    static,
    start,
    sign_in,
    dashboard,
    members,
    referrals,
    engagement,
    memberships,
    wallet,
    causes,
    coalition,
    audit,
    program,
    editor,
    emails,
    keys,
    staff,
)
"""The page groups in the order their routes are matched: a path is answered by the first route that fits it."""

router = console_router(route for group in GROUPS for route in group.router.routes)
