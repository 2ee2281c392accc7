"""The frame around every signed-in page — navigation, program switcher, who is signed in and what their role lets
them do — and the redirect every successful form answers with (post/redirect/get)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from punchcard.admin import render
from punchcard.admin.guard import Staff
from punchcard.coalition import service as coalitions
from punchcard.coalition.domain import Coalition
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.staff.domain import Permission


@dataclass(frozen=True)
class Frame:
    session: Session
    staff: Staff
    version: ProgramVersion | None = None
    section: str = ""
    """The navigation item the page belongs to."""

    @property
    def base(self) -> str:
        """The URL prefix of the program's pages."""
        assert self.version is not None
        return f"/admin/p/{self.version.program.slug}"

    @cached_property
    def coalition(self) -> Coalition | None:
        """The coalition the program is in: the navigation offers its page only then (a file that names a coalition
        whose owner does not admit the program is not in one), and the page reads it once per request."""
        return None if self.version is None else coalitions.of_program(self.session, self.version)

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return render.page(
            template,
            status,
            staff=self.staff,
            Permission=Permission,
            programs=programs.programs(self.session),
            program=self.version.program if self.version else None,
            version=self.version,
            section=self.section,
            in_coalition=self.coalition is not None,
            **context,
        )


def redirect(path: str, **query: str) -> RedirectResponse:
    return RedirectResponse(path + (f"?{urlencode(query)}" if query else ""), status_code=303)
