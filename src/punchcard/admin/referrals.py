"""The referrals page — the review queue of referrals a fraud check held, the latest decisions on them, the program's
latest referrals with where each stands, and the funnel of a period with the revenue of referred members — and staff
deciding on a held referral.

A decision is ``referral.service.review``, exactly the API's (``POST /api/v1/referrals/{id}/review``): both members
and the referral are locked, and a referral that is no longer held is refused (``referral_not_held``), so of two
decisions at once the second changes nothing and pays nothing; approved, the referral pays as any other (the
referral's outbox consumer). The decision goes to the audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from punchcard.admin import forms, render
from punchcard.admin.frame import Frame
from punchcard.admin.guard import Staff
from punchcard.analytics import service as analytics
from punchcard.analytics.domain import REFERRED_REVENUE, OrderStats
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.program.domain import ProgramVersion
from punchcard.referral import service as referrals
from punchcard.referral.domain import REASON_MAX, REASON_MIN, Check, Status
from punchcard.referral.service import Referral
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Action

CHECKS = {
    Check.SELF_REFERRAL.value: "Self-referral",
    Check.VELOCITY.value: "Too many referrals in a week",
    Check.SIGNUPS_FROM_ONE_SOURCE.value: "Many sign-ups from one IP address or device",
    Check.EXISTING_CUSTOMER.value: "Already a customer",
    Check.REFERRERS_OWN_ORDER.value: "The referrer's own order",
}
"""Each fraud check in words; the reason a flag carries says what exactly matched."""

STATUSES = {
    Status.PENDING.value: "made",
    Status.HELD.value: "held for review",
    Status.QUALIFIED.value: "qualified",
    Status.PAID.value: "rewarded",
    Status.REVERSED.value: "reversed",
    Status.REJECTED.value: "rejected",
}
"""A referral's status as the page says it: ``pending`` is a referral made (the friend joined), not yet qualified."""

FUNNEL = (
    (
        "codes",
        "Referrals sent",
        "Referral codes members took in the period (a code is made the first time a member asks for their share link).",
    ),
    ("sign_ups", "Sign-ups", "Friends who joined with a code in the period."),
    (
        "flagged",
        "Flagged",
        "Of those sign-ups, the ones a fraud check flagged (at sign-up or at their qualifying "
        "purchase), whether held for review or rejected.",
    ),
    (
        "qualified",
        "Qualified",
        "Referrals whose qualifying event (the friend's first purchase of the minimum, or "
        "joining) happened in the period.",
    ),
    (
        "paid",
        "Paid",
        "Referrals paid in the period, dated by the friend's reward (the referrer's follows at once, "
        "within their caps).",
    ),
    (
        "reversed",
        "Reversed",
        "Paid referrals taken back in the period because the qualifying order was refunded in full.",
    ),
    ("rejected", "Rejected", "Sign-ups in the period that a fraud check or staff rejected (they pay nothing)."),
)

QUEUE = 200
"""Held referrals shown at once, the oldest first (``referral.service.held``)."""

NOTICES = {
    "approved": "The referral was approved. It pays as any other referral: at once if the friend has already "
    "qualified, otherwise when they do.",
    "rejected": "The referral was rejected. It pays nothing.",
}


@dataclass(frozen=True)
class Shown:
    """A referral with its two members."""

    referral: Referral
    referrer: Member
    referee: Member

    @property
    def status(self) -> str:
        return STATUSES.get(self.referral.status, self.referral.status)

    @property
    def flags(self) -> list[tuple[str, str]]:
        """Every check that matched, in words, with its reason."""
        return [
            (CHECKS.get(flag.get("check", ""), flag.get("check", "")), flag.get("reason", ""))
            for flag in self.referral.flags
        ]

    @property
    def decision(self) -> str:
        return "rejected" if self.referral.status == Status.REJECTED.value else "approved"


def shown(session: Session, found: Sequence[Referral]) -> list[Shown]:
    people = members.by_ids(session, sorted({m for r in found for m in (r.referrer_id, r.referee_id)}))
    return [Shown(r, people[r.referrer_id], people[r.referee_id]) for r in found]


@dataclass(frozen=True)
class Funnel:
    figures: dict[str, int]
    referred: OrderStats
    """The orders of referred members in the period: ``value_minor`` is their revenue."""


def funnel(session: Session, program_id: int, start: datetime, end: datetime) -> Funnel:
    return Funnel(
        referrals.counts(session, program_id, start, end), analytics.referred_orders(session, program_id, start, end)
    )


def reason_error(reason: str) -> str | None:
    if not REASON_MIN <= len(reason.strip()) <= REASON_MAX:
        return (
            f"say why, in {REASON_MIN} to {REASON_MAX} characters (it is kept with the referral and in the audit log)"
        )
    return None


def review(
    session: Session, staff: Staff, version: ProgramVersion, referral_id: int, approve: bool, reason: str, now: datetime
) -> Referral:
    """Approve or reject a held referral (``referral.service.review``) and write the audit log's entry."""
    referral, _ = referrals.review(
        session,
        version.program_id,
        referral_id,
        approve=approve,
        reason=reason,
        staff=staff.account.email,
        now=now,
    )
    people = members.by_ids(session, [referral.referrer_id, referral.referee_id])
    staff_service.record(
        session,
        Action.REFERRAL_APPROVED if approve else Action.REFERRAL_REJECTED,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        member_id=referral.referee_id,
        target=f"referral {referral.id}",
        reason=reason,
        details={
            "referrer": people[referral.referrer_id].external_id,
            "referee": people[referral.referee_id].external_id,
            "status_after": referral.status,
        },
    )
    return referral


def conflict(session: Session, version: ProgramVersion, referral_id: int) -> str:
    """What to tell staff whose decision came second: who decided first, and that nothing more happened."""
    found = referrals.find(session, version.program_id, referral_id)
    if found is None or found.reviewed_at is None:
        status = STATUSES.get(found.status, found.status) if found is not None else "gone"
        return f"Referral {referral_id} is no longer held for review (it is {status}); your decision changed nothing."
    decision = "rejected" if found.status == Status.REJECTED.value else "approved"
    when = render.moment(found.reviewed_at, version.program.zone)
    return (
        f"Referral {referral_id} was already {decision} by {found.reviewed_by} at {when}. Your decision was not "
        "applied: nothing was paid or changed a second time."
    )


def page(
    frame: Frame,
    first: str,
    last: str,
    now: datetime,
    status: int = 200,
    *,
    notice: str = "",
    problem: str = "",
    errors: dict[int, str] | None = None,
    typed: dict[int, str] | None = None,
) -> HTMLResponse:
    """The page; after a refused decision, ``errors`` and ``typed`` (by referral id) keep what was typed by its form."""
    assert frame.version is not None
    session, program_id, zone = frame.session, frame.version.program_id, frame.version.program.zone
    choice = forms.period(first, last, zone, now)
    period = choice.period
    return frame.page(
        "referrals.html",
        status,
        held=shown(session, referrals.held(session, program_id, QUEUE)),
        queue_limit=QUEUE,
        decided=shown(session, referrals.decided(session, program_id)),
        latest=shown(session, referrals.latest(session, program_id)),
        funnel=funnel(session, program_id, period.start, period.end),
        funnel_rows=FUNNEL,
        revenue_definition=REFERRED_REVENUE,
        period=period,
        period_error=choice.error,
        presets=forms.presets(zone, now),
        notice=NOTICES.get(notice, ""),
        problem=problem,
        errors=errors or {},
        typed=typed or {},
        rule=frame.version.program.referrals,
        reason_min=REASON_MIN,
        reason_max=REASON_MAX,
    )
