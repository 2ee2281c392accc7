"""The portal's outbox consumer: e-mail a requested one-time sign-in link.

The link's token is made here, when the mail goes out, and is valid from then on: the outbox never holds a usable
secret, and a mail delayed by a mail server that was down still gives the member the full 15 minutes. If sending
fails the consumer raises, its savepoint undoes the new token, and the dispatcher tries again later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.kit.settings import Settings
from punchcard.mail import sender
from punchcard.outbox.domain import Message
from punchcard.portal import service
from punchcard.portal.domain import SignInLinkRequested
from punchcard.program import service as programs


class SignInMail:
    """Sends ``member.sign_in_link_requested`` as a mail with a fresh one-time link."""

    name = "portal.sign_in_mail"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def wants(self, event_type: str) -> bool:
        return event_type == SignInLinkRequested.type

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        for message in messages:
            self._send(session, message, now)

    def _send(self, session: Session, message: Message, now: datetime) -> None:
        armed = service.arm_link(session, message.program_id, int(message.payload["request_id"]), now)
        if armed is None:
            return  # the request is gone: nothing to send
        member, token = armed
        program = programs.current(session, message.program_id).program
        mail = service.sign_in_mail(program, member, token, self._settings.public_url, message.payload["language"])
        sender.send(self._settings, [mail])
