"""The demo's mail catcher: an SMTP server on 127.0.0.1 that keeps every message in memory, and a page listing them.

``punchcard demo`` starts it and points the app's SMTP settings at it, so a newcomer asks for a sign-in link and opens
it from ``/demo/mail`` in one click, without a real mail server. The page is mounted only when the
``demo_mail_catcher`` setting is on: it shows every member's sign-in links to anyone who can reach it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from punchcard.kit.clock import utc_now
from punchcard.mail.compose import TEMPLATES

KEPT = 200
"""The newest messages kept; the demo runs for hours at most, but memory should not grow without bound."""

_LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class CaughtMail:
    received_at: datetime
    to: str
    subject: str
    text: str

    @property
    def links(self) -> list[str]:
        return _LINK.findall(self.text)


class Catcher:
    """An aiosmtpd handler that accepts every message and keeps the newest ``KEPT``."""

    def __init__(self) -> None:
        self._mails: list[CaughtMail] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self._lock:
            self._mails.append(CaughtMail(utc_now(), str(parsed["To"]), str(parsed["Subject"]), text))
            del self._mails[:-KEPT]
        return "250 Message accepted for delivery"

    def newest_first(self) -> list[CaughtMail]:
        with self._lock:
            return list(reversed(self._mails))


CATCHER = Catcher()
"""The one catcher of the process: the SMTP server fills it, the page reads it (both run in ``punchcard demo``)."""


def start(port: int, host: str = "127.0.0.1") -> Controller:
    controller = Controller(CATCHER, hostname=host, port=port)
    controller.start()
    return controller


router = APIRouter(tags=["demo"], include_in_schema=False)


@router.get("/demo/mail", response_class=HTMLResponse)
def caught_mail() -> HTMLResponse:
    """Every caught message, newest first, with its links as buttons."""
    page = TEMPLATES.get_template("catcher.html").render(mails=CATCHER.newest_first())
    return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
