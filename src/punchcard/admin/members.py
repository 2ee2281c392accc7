"""The members' pages — search, and a member with their ledger, store credit, coupons, events and staff actions — and
what staff do to members: adjust points with a reason, block and unblock, send a portal sign-in link (granting store
credit is ``admin.wallet.grant``); each is written to the audit log in the same transaction.

Adjustments are ``ledger.adjustments.adjust``, exactly the API's: member row lock, settle what is due, then adjust.
The form carries a one-time key, so a double click or a resent form adjusts once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from punchcard.admin import forms, queries
from punchcard.admin import wallet as console_wallet
from punchcard.admin.frame import Frame
from punchcard.admin.guard import Staff
from punchcard.coupon import service as coupons
from punchcard.coupon.service import Coupon
from punchcard.event import history as event_history
from punchcard.event.history import Event
from punchcard.kit.errors import ValidationFailed
from punchcard.ledger import adjustments
from punchcard.ledger import service as ledger_queries
from punchcard.ledger.service import LedgerEntry
from punchcard.mailing import service as mailing
from punchcard.mailing.service import MemberMail
from punchcard.member import service as member_service
from punchcard.member.schemas import AdjustmentIn
from punchcard.member.service import ConsentChange, Member
from punchcard.program.domain import ProgramVersion
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Action
from punchcard.staff.service import AuditEntry, AuditFilter


class SignInLinks(Protocol):
    """The portal's use case that asks for a member's one-time sign-in link (``portal.service.request_link``): the
    member if a link will go out, ``None`` if not (blocked, or sent several just now). The console and the portal are
    independent features, so the console does not import it: the application hands it over (``api.app`` puts it in
    the app's state, ``admin.routes.common.SignInLinksDep`` takes it from there)."""

    def __call__(
        self, session: Session, program_id: int, email: str, now: datetime, *, language: str, source: str
    ) -> Member | None: ...


LEDGER_PAGE = 50
NO_LINK = "no link was sent: the member is blocked, or was sent several links in the last 15 minutes"
_FORM_KEY = re.compile(r"^[0-9a-f]{32}$")


def adjust(
    session: Session,
    staff: Staff,
    version: ProgramVersion,
    member: Member,
    adjustment: AdjustmentIn,
    form_key: str,
    now: datetime,
) -> bool:
    """Adjust the member's points; ``False`` when this form was already applied (nothing more happens)."""
    if not _FORM_KEY.match(form_key):
        raise ValidationFailed("the form has no valid one-time key; reload the page and try again")
    program = version.program
    ledger = adjustments.Ledger(version.program_id, version.version, program.points, program.zone)
    adjusted = adjustments.adjust(
        session,
        ledger,
        member.id,
        adjustment.points,
        adjustment.reason,
        operation=f"console-adjustment:{form_key}",
        source="console",
        now=now,
    )
    if adjusted.replayed:
        return False
    staff_service.record(
        session,
        Action.POINTS_ADJUSTED,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        member_id=member.id,
        target=f"member {member.external_id}",
        reason=adjustment.reason,
        details={"points": adjustment.points, "available_after": adjusted.balance.available},
    )
    return True


def set_blocked(
    session: Session, staff: Staff, version: ProgramVersion, member: Member, blocked: bool, reason: str, now: datetime
) -> None:
    """Block (the member's events are then refused) or unblock; a change to the current status does nothing."""
    status = member_service.BLOCKED if blocked else member_service.ACTIVE
    member_service.lock(session, member)
    if member.status == status:
        return
    member_service.update(session, member, {"status": status}, now)
    staff_service.record(
        session,
        Action.MEMBER_BLOCKED if blocked else Action.MEMBER_UNBLOCKED,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        member_id=member.id,
        target=f"member {member.external_id}",
        reason=reason,
    )


def link_sent(session: Session, staff: Staff, version: ProgramVersion, member: Member, now: datetime) -> None:
    staff_service.record(
        session,
        Action.SIGN_IN_LINK_SENT,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        member_id=member.id,
        target=f"member {member.external_id}",
        details={"to": member.email},
    )


@dataclass(frozen=True)
class LedgerLine:
    """One thing that happened to one of the member's accounts: the entries it wrote, one per lot it touched (a
    redemption spends from several lots), shown as one line that opens to show them."""

    entries: tuple[LedgerEntry, ...]

    @property
    def first(self) -> LedgerEntry:
        return self.entries[0]

    @property
    def amount(self) -> int:
        return sum(entry.amount for entry in self.entries)


def _same_line(entry: LedgerEntry) -> tuple[object, ...]:
    return (
        entry.account,
        entry.kind,
        entry.event_id,
        entry.operation,
        entry.occurred_at,
        entry.order_id,
        entry.rule_code,
        entry.description,
    )


def ledger_lines(entries: Sequence[LedgerEntry]) -> list[LedgerLine]:
    """``entries`` (newest first) as lines: the entries of one operation on one account, for one reason, together."""
    groups: dict[tuple[object, ...], list[LedgerEntry]] = {}
    for entry in entries:
        groups.setdefault(_same_line(entry), []).append(entry)
    return [LedgerLine(tuple(group)) for group in groups.values()]


@dataclass(frozen=True)
class Activity:
    """The member page's lists besides the member view."""

    ledger: list[LedgerLine]
    next_before: int | None
    coupons: list[tuple[Coupon, str]]
    events: Sequence[Event]
    staff_actions: Sequence[AuditEntry]
    staff_emails: dict[int, str]
    mails: Sequence[MemberMail]
    consent: Sequence[ConsentChange]


def activity(session: Session, member: Member, before: int | None, now: datetime) -> Activity:
    entries = list(ledger_queries.history(session, member.id, before, LEDGER_PAGE + 1))
    page, next_before = entries, None
    if len(entries) > LEDGER_PAGE:  # a line is never split across pages: the last one waits for the next page
        cut = _same_line(entries[LEDGER_PAGE - 1])
        page = [entry for entry in entries[:LEDGER_PAGE] if _same_line(entry) != cut] or entries[:LEDGER_PAGE]
        next_before = page[-1].id
    return Activity(
        ledger=ledger_lines(page),
        next_before=next_before,
        coupons=[(coupon, coupons.status(coupon, use, now)) for coupon, use in coupons.of_member(session, member.id)],
        events=event_history.recent_events(session, member.id),
        staff_actions=staff_service.audit_page(
            session,
            AuditFilter(program_id=member.program_id, member_id=member.id, staff_only=True),
            before_id=None,
            limit=10,
        ),
        staff_emails={account.id: account.email for account in staff_service.everyone(session)},
        mails=mailing.mails_of(session, member.id),
        consent=member_service.consent_history(session, member.id),
    )


NOTICES = {
    "adjusted": "The points were adjusted.",
    "link_sent": "A sign-in link for the member portal is on its way to the member's e-mail address.",
    "blocked": "The member is blocked: their events are refused until they are unblocked.",
    "unblocked": "The member is unblocked.",
    "credit_granted": "The store credit was granted.",
}


def search_page(frame: Frame, text: str) -> HTMLResponse:
    assert frame.version is not None
    found = queries.search_members(frame.session, frame.version.program_id, text)
    return frame.page("members.html", q=text, found=found, limit=queries.SEARCH_LIMIT)


def page(
    frame: Frame,
    member: Member,
    view: dict[str, Any],
    now: datetime,
    status: int = 200,
    *,
    before: int | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    """The member page; ``view`` is the API's member view (balance, tier and progress, expiring points)."""
    assert frame.version is not None
    return frame.page(
        "member.html",
        status,
        member=member,
        view=view,
        activity=activity(frame.session, member, before, now),
        credit=console_wallet.member_credit(frame.session, frame.version, member),
        errors=errors or {},
        form=form or {},
        form_key=forms.form_key(),
        credit_key=forms.form_key(),
        credit_moves=console_wallet.CREDIT_MOVES,
        notice=NOTICES.get(notice, ""),
        Action=Action,
    )
