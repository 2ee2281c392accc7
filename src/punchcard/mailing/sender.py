"""Sending the queued member mails: consent and reason checked again, the quiet hours and the weekly cap kept,
rendered in the member's language, sent over SMTP, and the outcome recorded on the mail's row.

A batch is claimed with a lease and committed before any mail is sent, so no transaction waits on the mail server;
each mail's outcome is written in a transaction of its own. A sender that dies between sending a mail and recording
it leaves the mail to the next sender, which sends it again with the same ``Message-ID``: mail servers and clients
treat the two as one message. A failure to send is tried again later (1 minute, doubling), and after
``MAX_ATTEMPTS`` the mail is marked failed.

A mail of the push channel goes the same way up to the sending: the same checks, the same words (``compose``, as
a notification: ``compose_push``), then ``push``'s transport posts it to each of the member's devices. The
notification's tag names the mail, so one sent again replaces itself on a device that had it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from punchcard.i18n.translator import Translator
from punchcard.kit.background import Repeating
from punchcard.kit.clock import Clock
from punchcard.kit.settings import Settings
from punchcard.mail import sender as smtp
from punchcard.mail.compose import Mail
from punchcard.mailing import content, repository, service, templates
from punchcard.mailing.channels import Channel, push_body
from punchcard.mailing.domain import MailKind, SendingRules, Status, over_cap, quiet_until
from punchcard.mailing.models import MemberMail
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.program import service as programs
from punchcard.program.domain import Program, SurveyKind
from punchcard.push import service as push
from punchcard.push.domain import Notification, Verdict, host_of, outcome
from punchcard.wallet import sales as gift_card_sales

log = logging.getLogger(__name__)

BATCH = 50
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8


def rules_of(program: Program) -> SendingRules:
    email = program.email
    return SendingRules(email.weekly_cap, email.quiet_from, email.quiet_until)


def compose(
    session: Session, mail: MemberMail, member: Member, program: Program, settings: Settings, unsubscribe: str | None
) -> Mail:
    """The mail as the member will read it (also the console's preview and test mail)."""
    language = content.language_of(program, member)
    ui = Translator(language)
    around = service.frame(program, ui, settings, unsubscribe)
    unsubscribe_url = around.unsubscribe_url
    words = service.words(session, mail.program_id, MailKind(mail.kind), language)
    values = content.values(session, mail, member, program, around.portal_url, ui)
    if "survey_url" in values:
        around = replace(around, scale=content.scale(SurveyKind(mail.facts["kind"]), values["survey_url"], ui))
    rendered = templates.render(words, values, around)
    headers: tuple[tuple[str, str], ...] = ()
    if unsubscribe_url is not None:
        mailto = f"mailto:{smtp_address(settings)}?subject=unsubscribe%20{unsubscribe}"
        headers = (
            ("List-Unsubscribe", f"<{unsubscribe_url}>, <{mailto}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )
    message_id = f"<member-mail-{mail.id}.{program.slug}@{smtp.sender_domain(settings.mail_from)}>"
    return Mail(member.email or "", rendered.subject, rendered.text, rendered.html, language, message_id, headers)


def smtp_address(settings: Settings) -> str:
    sender = settings.mail_from
    return sender[sender.find("<") + 1 : sender.rfind(">")] if "<" in sender else sender.strip()


def compose_push(
    session: Session, mail: MemberMail, member: Member, program: Program, settings: Settings
) -> Notification:
    """The mail as a push notification, from the very mail ``compose`` makes: its subject is the title, its first
    paragraph after the greeting the body, and the portal (in the member's language) opens on a tap; a survey
    invitation opens its answer page."""
    written = compose(session, mail, member, program, settings, None)
    ui = Translator(written.language)
    portal_url = service.frame(program, ui, settings, None).portal_url
    greetings = {ui.t("mail.greeting", name=member.name or ""), ui.t("mail.greeting_anonymous")}
    body = push_body(written.text, {*greetings, f"{ui.t('mail.open')}: {portal_url}"})
    opens = portal_url
    if "invitation" in mail.facts:
        opens = content.survey_url(portal_url, content.survey_token(session, int(mail.facts["invitation"])))
    return Notification(written.subject, body, opens, f"mail-{mail.id}", written.language)


class MailSender:
    """Sends what is due: ``drain`` until nothing is (``punchcard jobs run``, tests), or ``start`` a thread that does
    so every ``every_seconds`` (``punchcard serve``)."""

    def __init__(
        self, sessions: Callable[[], Session], clock: Clock, settings: Settings, pusher: push.Pusher | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._settings = settings
        self._pusher = pusher or push.Pusher(
            f"mailto:{smtp_address(settings)}", allow_private=settings.push_allow_private
        )
        self._repeating = Repeating("punchcard-mail", self.drain)

    def drain(self) -> int:
        """Send (or hold, or drop) every mail due now; returns how many were sent."""
        sent = 0
        while ids := self._claim():
            sent += sum(self._one(mail_id) for mail_id in ids)
        return sent

    def _claim(self) -> list[int]:
        with self._sessions() as session:
            ids = repository.claim_due(session, self._clock.now(), LEASE, BATCH)
            session.commit()
        return ids

    def _one(self, mail_id: int) -> bool:
        now = self._clock.now()
        with self._sessions() as session:
            mail = session.get(MemberMail, mail_id)
            assert mail is not None
            member = members.by_id(session, mail.program_id, mail.member_id)
            program = programs.current(session, mail.program_id).program
            ready = self._ready(session, mail, member, program, now)
            if ready is None:
                session.commit()
                return False
            if mail.channel == Channel.PUSH:
                return self._push(session, mail, ready, program, now)
            unsubscribe = repository.unsubscribe_token(mail) if mail.marketing else None
            outgoing = compose(session, mail, ready, program, self._settings, unsubscribe)
            session.commit()  # the token is kept before the mail that carries it goes out
            try:
                smtp.send(self._settings, [outgoing])
            except smtp.MailNotSent as error:
                self._failed(session, mail, str(error), now)
                return False
            mail.status, mail.sent_at, mail.locked_until = Status.SENT.value, now, None
            mail.to_address, mail.subject, mail.language = outgoing.to, outgoing.subject, outgoing.language
            if mail.kind == MailKind.GIFT_CARD_SOLD:  # the code has reached the buyer: it is kept no longer
                gift_card_sales.delivered(session, mail.program_id, int(mail.facts["card_id"]))
            mail.attempts, mail.reason = mail.attempts + 1, ""
            session.commit()
            return True

    def _ready(
        self, session: Session, mail: MemberMail, member: Member | None, program: Program, now: datetime
    ) -> Member | None:
        """The member to send to, or ``None`` with the mail dropped or held (and why)."""
        dropped = _why_not(session, mail, member, program)
        if dropped is not None:
            mail.status, mail.reason, mail.locked_until = Status.DROPPED.value, dropped, None
            return None
        assert member is not None
        if mail.marketing:
            rules = rules_of(program)
            later = quiet_until(now, program.zone, rules)
            reason = "quiet hours"
            if later is None:
                later = over_cap(
                    repository.marketing_sent_since(session, member.id, now - timedelta(days=7), mail.channel),
                    now,
                    rules,
                )
                reason = "weekly limit of marketing mail reached"
            if later is not None:
                mail.send_after, mail.reason, mail.locked_until = later, f"held: {reason}", None
                return None
        return member

    def _push(self, session: Session, mail: MemberMail, member: Member, program: Program, now: datetime) -> bool:
        """Push the mail to each of the member's devices; sent when one took it, tried again like a mail when none
        did but one may later, dropped when none is left (404, 410 forget a device), failed when all refused it."""
        devices = push.devices(session, member.id)
        if not devices:
            mail.status, mail.locked_until = Status.DROPPED.value, None
            mail.reason = "no device of the member takes notifications any more"
            session.commit()
            return False
        notification = compose_push(session, mail, member, program, self._settings)
        key = push.key_pair(session, mail.program_id, now)
        session.commit()  # no transaction waits on the push services
        attempts = self._pusher.send(devices, key, notification, now)
        push.record(session, attempts, now)
        result = outcome(attempts)
        if result.verdict is Verdict.TRY_AGAIN:
            self._failed(session, mail, result.reason, now, result.retry_after)
            return False
        mail.locked_until, mail.reason, mail.attempts = None, result.reason, mail.attempts + 1
        if result.verdict is Verdict.SENT:
            mail.status, mail.sent_at, mail.subject = Status.SENT.value, now, notification.title[:300]
            mail.language = notification.language
            mail.to_address = ", ".join(sorted({host_of(device.endpoint) for device in devices}))[:320]
        else:
            mail.status = (Status.DROPPED if result.verdict is Verdict.NO_DEVICE else Status.FAILED).value
        session.commit()
        return result.verdict is Verdict.SENT

    @staticmethod
    def _failed(
        session: Session, mail: MemberMail, error: str, now: datetime, at_least: timedelta | None = None
    ) -> None:
        mail.attempts += 1
        mail.locked_until, mail.reason = None, error[:200]
        if mail.attempts >= MAX_ATTEMPTS:
            mail.status = Status.FAILED.value
        else:
            mail.send_after = now + max(timedelta(minutes=2 ** (mail.attempts - 1)), at_least or timedelta())
        log.warning("member mail %d not sent (attempt %d): %s", mail.id, mail.attempts, error)
        session.commit()

    def start(self, every_seconds: float) -> None:
        self._repeating.start(every_seconds)

    def stop(self) -> None:
        self._repeating.stop()


def _why_not(session: Session, mail: MemberMail, member: Member | None, program: Program) -> str | None:
    if mail.channel == Channel.PUSH:
        if member is None:
            return "the member is gone"
    elif member is None or not member.email:
        return "the member has no e-mail address"
    if mail.marketing and not member.marketing_consent:
        return "the member withdrew marketing consent"
    return content.still_true(session, mail, member, program)
