"""``AdminRoute`` wraps every console endpoint: failures become HTML pages or redirects (the API's handlers would
answer in JSON), and every response carries the console's security headers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from punchcard.admin import render
from punchcard.admin.guard import PasswordChangeRequired, SignInRequired
from punchcard.kit.errors import PunchcardError

SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show members' data and one-time secrets (new API keys, passwords): no cache may keep them.
    "Cache-Control": "no-store",
}


def _problem(status: int, title: str, message: str) -> Response:
    return render.page("problem.html", status, title=title, message=message)


class AdminRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as missing:
                response = RedirectResponse("/admin/sign-in?" + urlencode({"next": missing.next_path}), 303)
            except PasswordChangeRequired:
                response = RedirectResponse("/admin/account", 303)
            except PunchcardError as error:
                titles = {403: "Not allowed", 404: "Not found"}
                response = _problem(error.status, titles.get(error.status, "Cannot do that"), error.message)
            except RequestValidationError as error:
                fields = ", ".join(".".join(str(part) for part in item["loc"]) for item in error.errors())
                response = _problem(400, "Invalid request", f"These parts of the request are invalid: {fields}.")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return guarded
