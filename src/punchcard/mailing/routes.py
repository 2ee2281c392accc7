"""/mail/unsubscribe/{token}: one-click unsubscribe (RFC 8058) from a member mail, without a session.

A mail client ``POST``s ``List-Unsubscribe=One-Click`` to the link in the mail's ``List-Unsubscribe`` header; that
turns the member's marketing consent off at once. A ``GET`` (someone clicking the link) only shows the question and
a button, in the member's language: link scanners and previews fetch links, and must not unsubscribe anyone.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from punchcard.i18n.catalogue import DEFAULT
from punchcard.i18n.translator import Translator
from punchcard.kit.http import NowDep, SessionDep
from punchcard.mailing import content, service
from punchcard.member.service import Member
from punchcard.program import service as programs

router = APIRouter(prefix="/mail", include_in_schema=False)
PAGES = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent), autoescape=select_autoescape(["html"]))


def _page(session: SessionDep, member: Member | None, state: str, status: int = 200) -> HTMLResponse:
    if member is None:
        ui = Translator(DEFAULT)
        html = PAGES.get_template("unsubscribe.html").render(
            ui=ui, title=ui.t("unsubscribe.button"), state="invalid", colour="#6b3e26", email="", program=""
        )
        return HTMLResponse(html, status_code=404)
    program = programs.current(session, member.program_id).program
    ui = Translator(content.language_of(program, member))
    name = program.name.in_language(ui.language)
    html = PAGES.get_template("unsubscribe.html").render(
        ui=ui,
        title=ui.t("unsubscribe.title", program=name),
        state=state,
        colour=program.email.colour,
        email=member.email or "",
        program=name,
    )
    return HTMLResponse(
        html, status_code=status, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


@router.get("/unsubscribe/{token}")
def unsubscribe_page(token: str, session: SessionDep) -> HTMLResponse:
    return _page(session, service.subscriber(session, token), "ask")


@router.post("/unsubscribe/{token}")
def unsubscribe(token: str, session: SessionDep, now: NowDep) -> HTMLResponse:
    """One click: no session and no CSRF token, since the link's secret is the authority (RFC 8058)."""
    member = service.unsubscribe(session, token, now)
    session.commit()
    return _page(session, member, "done")
