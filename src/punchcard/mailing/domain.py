"""Pure rules of member e-mails: which event is which mail, which mails need marketing consent, what each template
may say, when a mail may go out (quiet hours, the weekly cap), and how the points-earned digest gathers.

Nothing here reads a clock, a setting or the database: the caller passes ``now``, the program's zone and its rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class MailKind(StrEnum):
    WELCOME = "welcome"
    POINTS_EARNED = "points_earned"
    POINTS_EXPIRING = "points_expiring"
    TIER_UP = "tier_up"
    TIER_AT_RISK = "tier_at_risk"
    TIER_DOWN = "tier_down"
    REWARD_AFFORDABLE = "reward_affordable"
    COUPON_EXPIRING = "coupon_expiring"
    BIRTHDAY = "birthday"
    COUPON_ISSUED = "coupon_issued"
    SURVEY_INVITATION = "survey_invitation"
    MEMBERSHIP_STARTED = "membership_started"
    MEMBERSHIP_PAYMENT_FAILED = "membership_payment_failed"
    MEMBERSHIP_ENDED = "membership_ended"
    GIFT_CARD_SOLD = "gift_card_sold"
    DONATION_RECEIPT = "donation_receipt"


FOR_EVENT = {
    "member.enrolled": MailKind.WELCOME,
    "points.earned": MailKind.POINTS_EARNED,
    "points.expiring": MailKind.POINTS_EXPIRING,
    "tier.upgraded": MailKind.TIER_UP,
    "tier.at_risk": MailKind.TIER_AT_RISK,
    "tier.downgraded": MailKind.TIER_DOWN,
    "reward.affordable": MailKind.REWARD_AFFORDABLE,
    "coupon.expiring": MailKind.COUPON_EXPIRING,
    "member.birthday": MailKind.BIRTHDAY,
    "reward.redeemed": MailKind.COUPON_ISSUED,
    "survey.invited": MailKind.SURVEY_INVITATION,
    "membership.started": MailKind.MEMBERSHIP_STARTED,
    "membership.payment_failed": MailKind.MEMBERSHIP_PAYMENT_FAILED,
    "membership.ended": MailKind.MEMBERSHIP_ENDED,
    "gift_card.issued": MailKind.GIFT_CARD_SOLD,
    "cause.donated": MailKind.DONATION_RECEIPT,
}
"""The domain event each mail answers."""

MEMBERSHIP = frozenset({MailKind.MEMBERSHIP_STARTED, MailKind.MEMBERSHIP_PAYMENT_FAILED, MailKind.MEMBERSHIP_ENDED})
"""The mails about the member's paid membership."""

TRANSACTIONAL = frozenset({MailKind.COUPON_ISSUED, *MEMBERSHIP, MailKind.GIFT_CARD_SOLD, MailKind.DONATION_RECEIPT})
"""Mails about something the member did and needs to know: their coupon, the paid membership they took (its
start, a payment that failed, its end), which is a service they pay for, told as any subscription's seller tells
it, the code of a gift card they bought, and the receipt of a donation they made. They are sent to every member
with an address, at any hour, outside the weekly cap and without an unsubscribe link. Every other mail is
marketing, sent only with the member's marketing consent, counted by the cap, kept out of the quiet hours, and
carries a one-click unsubscribe."""

COMMON = ("greeting", "name", "program", "portal_url", "balance")
PLACEHOLDERS: dict[MailKind, tuple[str, ...]] = {
    MailKind.WELCOME: COMMON,
    MailKind.POINTS_EARNED: (*COMMON, "points"),
    MailKind.POINTS_EXPIRING: (*COMMON, "points", "date"),
    MailKind.TIER_UP: (*COMMON, "tier"),
    MailKind.TIER_AT_RISK: (*COMMON, "tier", "needed", "date"),
    MailKind.TIER_DOWN: (*COMMON, "tier"),
    MailKind.REWARD_AFFORDABLE: (*COMMON, "reward", "cost"),
    MailKind.COUPON_EXPIRING: (*COMMON, "reward", "code", "date"),
    MailKind.BIRTHDAY: COMMON,
    MailKind.COUPON_ISSUED: (*COMMON, "reward", "code", "date"),
    MailKind.SURVEY_INVITATION: (*COMMON, "question", "survey_url"),
    MailKind.MEMBERSHIP_STARTED: (*COMMON, "plan", "date", "price", "trial"),
    MailKind.MEMBERSHIP_PAYMENT_FAILED: (*COMMON, "plan", "date"),
    MailKind.MEMBERSHIP_ENDED: (*COMMON, "plan", "date", "lapsed"),
    MailKind.GIFT_CARD_SOLD: (*COMMON, "amount", "code", "date"),
    MailKind.DONATION_RECEIPT: (*COMMON, "cause", "points", "amount", "matched"),
}
"""What each mail's subject and body may name (``{{ points }}``); every value is already written in the member's
language (``40 points``, ``40 punkti``, ``4,99 € kuus``), so a template never formats or counts. Two are switches
for choosing words, not words: ``trial`` (the membership began in the plan's free trial) and ``lapsed`` (it ended
because no payment came, not as the member asked) are ``yes`` or empty, for ``{% if trial %}…{% else %}…{% endif %}``.
"""

EMAIL_ONLY = frozenset({MailKind.GIFT_CARD_SOLD})
"""Mails that carry a secret (a gift card's code), which a notification would show on a locked phone's screen."""

FLAG = "yes"
"""The value of a switch that is on (``trial``, ``lapsed``); one that is off is empty."""

STALE_AFTER = timedelta(days=2)
"""A mail about something older than this is not sent (an import's history, an outbox that was down for days)."""


class Status(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


@dataclass(frozen=True)
class SendingRules:
    """A program's limits on marketing mail (the program file's ``email``)."""

    weekly_cap: int = 3
    quiet_from: time = time(21, 0)
    quiet_until: time = time(8, 0)


def quiet_until(moment: datetime, zone: ZoneInfo, rules: SendingRules) -> datetime | None:
    """When the quiet hours around ``moment`` end (in the program's zone), or ``None`` outside them."""
    local = moment.astimezone(zone)
    clock = local.timetz().replace(tzinfo=None)
    start, end = rules.quiet_from, rules.quiet_until
    if start == end:
        return None
    inside = (clock >= start or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)


def over_cap(sent_in_week: list[datetime], now: datetime, rules: SendingRules) -> datetime | None:
    """When the next marketing mail may go, if the member has had ``weekly_cap`` of them in the 7 days before
    ``now`` (the moments they were sent); ``None`` when one may go now."""
    recent = sorted(moment for moment in sent_in_week if moment > now - timedelta(days=7))
    if len(recent) < rules.weekly_cap:
        return None
    return recent[len(recent) - rules.weekly_cap] + timedelta(days=7)


def digest_due(last_sent: datetime | None, now: datetime) -> datetime:
    """The points-earned digest goes at most once a day: at once, or a day after the last one."""
    return now if last_sent is None or now - last_sent >= timedelta(days=1) else last_sent + timedelta(days=1)
