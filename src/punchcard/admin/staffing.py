"""The pages about staff accounts: one's own account (password) and, for owners, everyone's."""

from __future__ import annotations

from datetime import datetime

from fastapi.responses import HTMLResponse

from punchcard.admin.frame import Frame
from punchcard.staff import service as staff_service
from punchcard.staff.domain import ROLE_SUMMARIES, Role


def account_page(
    frame: Frame, status: int = 200, *, errors: dict[str, str] | None = None, notice: str = ""
) -> HTMLResponse:
    return frame.page("account.html", status, errors=errors or {}, notice=notice, role_summaries=ROLE_SUMMARIES)


STAFF_PAGE = 50
"""Accounts per page: each row carries its forms, and an installation with many staff still gets a light page."""


def staff_page(
    frame: Frame,
    now: datetime,
    status: int = 200,
    *,
    secret: tuple[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    after: str = "",
) -> HTMLResponse:
    """A page of everyone's accounts, by e-mail after ``after``; ``secret`` is a new one-time password (e-mail,
    password), shown this once."""
    found = staff_service.accounts_after(frame.session, after, STAFF_PAGE + 1)
    return frame.page(
        "staff.html",
        status,
        accounts=found[:STAFF_PAGE],
        next_after=found[STAFF_PAGE - 1].email if len(found) > STAFF_PAGE else None,
        roles=list(Role),
        role_summaries=ROLE_SUMMARIES,
        secret=secret,
        errors=errors or {},
        form=form or {},
        now=now,
    )
