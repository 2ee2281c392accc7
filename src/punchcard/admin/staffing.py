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


def staff_page(
    frame: Frame,
    now: datetime,
    status: int = 200,
    *,
    secret: tuple[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """Everyone's accounts; ``secret`` is a new one-time password (e-mail, password), shown this once."""
    return frame.page(
        "staff.html",
        status,
        accounts=staff_service.everyone(frame.session),
        roles=list(Role),
        role_summaries=ROLE_SUMMARIES,
        secret=secret,
        errors=errors or {},
        form=form or {},
        now=now,
    )
