"""Sending mail over SMTP with the server, port, STARTTLS and login the settings name.

Mail is sent by consumers of the outbox (``punchcard.outbox``), after the change it announces has committed, so a mail
never announces something the database then rolled back. A mail server that is down raises ``MailNotSent``: the
dispatcher records the failure and tries again later, so the mail is delayed, not lost.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from punchcard.kit.settings import Settings
from punchcard.mail.compose import Mail

TIMEOUT_SECONDS = 15


LONG_LINES = policy.default.clone(max_line_length=998)
"""Headers unfolded up to RFC 5322's limit: a folded ``List-Unsubscribe`` gets its URLs encoded, which mail clients
then cannot use."""


def to_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage(policy=LONG_LINES)
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = mail.message_id or make_msgid(domain=sender_domain(sender))
    message["Auto-Submitted"] = "auto-generated"
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    message["Content-Language"] = mail.language  # after the body: setting content clears Content-* headers
    return message


def sender_domain(sender: str) -> str:
    """The domain of the From address (``Punchcard <no-reply@shop.example>``: ``shop.example``)."""
    return sender.rsplit("@", 1)[-1].strip("> ") or "localhost"


class MailNotSent(Exception):
    """The mail server could not be reached or refused the mail."""


def send(settings: Settings, mails: Sequence[Mail]) -> None:
    """Deliver ``mails`` in one SMTP session; ``MailNotSent`` (naming the recipients) when that fails."""
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
    except (OSError, smtplib.SMTPException) as error:
        recipients = ", ".join(mail.to for mail in mails)
        raise MailNotSent(
            f"could not send mail to {recipients} via {settings.smtp_host}:{settings.smtp_port}"
        ) from error
