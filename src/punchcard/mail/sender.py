"""Sending mail over SMTP with the server, port, STARTTLS and login the settings name.

Callers send only after their request has committed (FastAPI background tasks run after the response), so a mail never
announces something the database then rolled back. A mail server that is down is logged, not raised: the member's
request already succeeded and they can ask for another link.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from punchcard.kit.settings import Settings
from punchcard.mail.compose import Mail

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 15


def to_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    message["Content-Language"] = mail.language  # after the body: setting content clears Content-* headers
    return message


def send(settings: Settings, mails: Sequence[Mail]) -> None:
    """Deliver ``mails`` in one SMTP session; failures are logged with the recipients, never raised."""
    if not mails:
        return
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            for mail in mails:
                smtp.send_message(to_message(mail, settings.mail_from))
    except (OSError, smtplib.SMTPException):
        log.exception(
            "could not send mail to %s via %s:%s",
            ", ".join(mail.to for mail in mails),
            settings.smtp_host,
            settings.smtp_port,
        )
