"""Member mails for the rest of the application: one-click unsubscribe, a member's mails for the console, the
templates a marketer edits, and a preview of any mail in any language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.i18n.translator import Translator
from punchcard.kit.settings import Settings
from punchcard.mail import sender as smtp
from punchcard.mail.compose import Mail
from punchcard.mailing import content, repository, templates
from punchcard.mailing.domain import TRANSACTIONAL, MailKind
from punchcard.mailing.models import MailTemplate
from punchcard.mailing.models import MemberMail as MemberMail  # the rows are how mails cross the boundary
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.program.domain import Program


def unsubscribe(session: Session, token: str, now: datetime) -> Member | None:
    """Turn off the marketing consent of the member a mail's unsubscribe link names; ``None`` for an unknown link.
    Doing it twice changes nothing more."""
    mail = repository.by_unsubscribe_token(session, token)
    if mail is None:
        return None
    member = members.by_id(session, mail.program_id, mail.member_id)
    if member is not None:
        members.update(session, member, {"marketing_consent": False}, now, source="unsubscribe")
    return member


def subscriber(session: Session, token: str) -> Member | None:
    """The member an unsubscribe link names, without changing anything (the confirmation page)."""
    mail = repository.by_unsubscribe_token(session, token)
    return members.by_id(session, mail.program_id, mail.member_id) if mail is not None else None


def mails_of(session: Session, member_id: int) -> Sequence[MemberMail]:
    """The member's latest mails, newest first (the console's member page)."""
    return repository.of_member(session, member_id)


@dataclass(frozen=True)
class KindState:
    kind: MailKind
    enabled: bool
    marketing: bool
    customised: tuple[str, ...]
    """The languages whose words the program changed."""


def overview(session: Session, program_id: int) -> list[KindState]:
    """Every kind of member mail, whether the program sends it, and where its words are the program's own."""
    rows = repository.templates(session, program_id)
    off = {row.kind for row in rows if row.language == repository.ALL_LANGUAGES and not row.enabled}
    own: dict[str, list[str]] = {}
    for row in rows:
        if row.language != repository.ALL_LANGUAGES:
            own.setdefault(row.kind, []).append(row.language)
    return [
        KindState(kind, kind.value not in off, kind not in TRANSACTIONAL, tuple(sorted(own.get(kind.value, []))))
        for kind in MailKind
    ]


def words(session: Session, program_id: int, kind: MailKind, language: str) -> templates.Words:
    """The program's own words for the mail in ``language``, else ours."""
    own = repository.template(session, program_id, kind, language)
    return templates.Words(own.subject, own.body) if own is not None else templates.default(kind, language)


def save_check(kind: MailKind, by_language: dict[str, templates.Words]) -> list[dict[str, str]]:
    """What is wrong with the words, each problem's field named ``<language>.subject`` or ``<language>.body``."""
    return [
        {**problem, "field": f"{language}.{problem['field']}"}
        for language, given in by_language.items()
        for problem in templates.problems(kind, given)
    ]


def save(
    session: Session,
    program_id: int,
    kind: MailKind,
    by_language: dict[str, templates.Words],
    enabled: bool,
    now: datetime,
) -> list[dict[str, str]]:
    """Keep a marketer's words (``language.subject``/``language.body`` problems come back, nothing is saved then):
    words equal to ours are not stored, so later improvements of ours reach the program."""
    found = save_check(kind, by_language)
    if found:
        return found
    for language, given in by_language.items():
        row = repository.template(session, program_id, kind, language)
        if given == templates.default(kind, language):
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = MailTemplate(program_id=program_id, kind=kind.value, language=language)
            session.add(row)
        row.subject, row.body, row.enabled, row.updated_at = given.subject, given.body, True, now
    switch = repository.template(session, program_id, kind, repository.ALL_LANGUAGES)
    if switch is None:
        switch = MailTemplate(program_id=program_id, kind=kind.value, language=repository.ALL_LANGUAGES)
        session.add(switch)
    switch.enabled, switch.updated_at = enabled, now
    session.flush()
    return []


def frame(program: Program, ui: Translator, settings: Settings, unsubscribe: str | None) -> templates.Frame:
    """What surrounds a mail's words in ``ui``'s language: the program, its colour and logo, the portal's link, and
    for marketing mail (``unsubscribe``: the link's token) the unsubscribe footer."""
    base = settings.public_url.rstrip("/")
    return templates.Frame(
        program=program.name.in_language(ui.language),
        colour=program.email.colour,
        portal_url=f"{base}/portal/{program.slug}?lang={ui.language}",
        open_label=ui.t("mail.open"),
        footer=ui.t("mail.marketing_footer", program=program.name),
        unsubscribe_url=f"{base}/mail/unsubscribe/{unsubscribe}" if unsubscribe else None,
        unsubscribe_label=ui.t("mail.unsubscribe"),
        language=ui.language,
        logo_url=program.email.logo_url,
    )


def preview(
    program: Program, kind: MailKind, language: str, given: templates.Words, settings: Settings, today: datetime
) -> templates.Rendered:
    """The mail as a member reading ``language`` would get it, with a sample member's values."""
    ui = Translator(language)
    around = frame(program, ui, settings, "example" if kind not in TRANSACTIONAL else None)
    values = content.sample_values(kind, program, around.portal_url, ui, today)
    return templates.render(given, values, replace(around, scale=content.sample_scale(program, values, ui)))


def send_test(
    program: Program,
    kind: MailKind,
    language: str,
    given: templates.Words,
    settings: Settings,
    to: str,
    today: datetime,
) -> None:
    """The preview, sent to ``to`` (the staff member trying the words)."""
    shown = preview(program, kind, language, given, settings, today)
    smtp.send(settings, [Mail(to, f"[test] {shown.subject}", shown.text, shown.html, language)])
