"""Giving the reminders due at a moment, for one program (``punchcard jobs run``): each is a domain event of the
feature it is about (``points.expiring``, ``coupon.expiring``, ``member.birthday``) that e-mail and webhooks hear.

A reminder is recorded before it is announced, with ``INSERT ... ON CONFLICT DO NOTHING``: two runs at once, or a
second run, announce each thing once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.coupon import service as coupons
from punchcard.coupon.domain import CouponExpiring
from punchcard.kit.calendar import anniversaries_on, local_date
from punchcard.kit.db import InsertUnlessTaken
from punchcard.kit.events import DomainEvent
from punchcard.ledger import reports as ledger_reports
from punchcard.ledger.domain import PointsExpiring
from punchcard.member import service as members
from punchcard.member.domain import MemberBirthday
from punchcard.outbox import service as outbox
from punchcard.reminder.domain import Kind, Reminders, notice, notice_key
from punchcard.reminder.models import Reminder

_GIVE = InsertUnlessTaken(Reminder, Reminder.member_id, Reminder.kind, Reminder.key)
DAY = timedelta(days=1)


def _first_time(
    session: Session, program_id: int, member_id: int, kind: Kind, keys: tuple[str, ...], now: datetime
) -> bool:
    """Record the reminders ``keys``; whether the first of them is new (the others are what it stands for)."""
    fresh = [
        _GIVE(
            session, {"program_id": program_id, "member_id": member_id, "kind": kind.value, "key": key, "given_at": now}
        )
        for key in keys
    ]
    return fresh[0] is not None


def points_expiring(session: Session, program_id: int, settings: Reminders, at: datetime, now: datetime) -> int:
    if not settings.points_expiring_days:
        return 0
    found: list[DomainEvent] = []
    for member_id, expires_at, points in ledger_reports.expiring(
        session, program_id, at, at + settings.points_horizon * DAY
    ):
        due = notice((expires_at - at) / DAY, settings.points_expiring_days)
        if due is None:
            continue
        days, stands_for = due
        keys = tuple(notice_key(expires_at, each) for each in stands_for)
        if _first_time(session, program_id, member_id, Kind.POINTS_EXPIRING, keys, now):
            found.append(
                PointsExpiring(
                    program_id=program_id,
                    member_id=member_id,
                    occurred_at=at,
                    points=points,
                    expires_at=expires_at,
                    days=days,
                )
            )
    outbox.publish(session, found, now)
    return len(found)


def coupons_expiring(session: Session, program_id: int, settings: Reminders, at: datetime, now: datetime) -> int:
    if not settings.coupon_expiring_days:
        return 0
    found: list[DomainEvent] = []
    for coupon in coupons.expiring(session, program_id, at, at + settings.coupon_horizon * DAY):
        if notice((coupon.expires_at - at) / DAY, settings.coupon_expiring_days) is None:
            continue
        if _first_time(session, program_id, coupon.member_id, Kind.COUPON_EXPIRING, (coupon.code,), now):
            found.append(
                CouponExpiring(
                    program_id=program_id,
                    member_id=coupon.member_id,
                    occurred_at=at,
                    code=coupon.code,
                    reward=coupon.reward_code,
                    expires_at=coupon.expires_at,
                )
            )
    outbox.publish(session, found, now)
    return len(found)


def birthdays(session: Session, program_id: int, zone: ZoneInfo, at: datetime, now: datetime) -> int:
    today = local_date(at, zone)
    found: list[DomainEvent] = []
    for member_id, _ in members.born_on(session, program_id, anniversaries_on(today)):
        if _first_time(session, program_id, member_id, Kind.BIRTHDAY, (str(today.year),), now):
            found.append(MemberBirthday(program_id=program_id, member_id=member_id, occurred_at=at, birthday=today))
    outbox.publish(session, found, now)
    return len(found)


def give(session: Session, program_id: int, settings: Reminders, zone: ZoneInfo, at: datetime, now: datetime) -> int:
    """Every reminder of the program due at ``at``; returns how many were announced."""
    return (
        points_expiring(session, program_id, settings, at, now)
        + coupons_expiring(session, program_id, settings, at, now)
        + birthdays(session, program_id, zone, at, now)
    )
