"""What the coupon feature keeps about a member: their coupons, each with its uses (the orders it was redeemed for).
Nothing in them is personal once the member's row is anonymised: codes, rewards, order ids and times."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.coupon.models import Coupon, CouponUse
from punchcard.kit.personal import Part, Rows, Subject, as_rows


def _export(session: Session, subject: Subject) -> Rows:
    coupons = select(Coupon).where(Coupon.member_id == subject.member_id).order_by(Coupon.id)
    uses = (
        select(CouponUse)
        .join(Coupon, Coupon.id == CouponUse.coupon_id)
        .where(Coupon.member_id == subject.member_id)
        .order_by(CouponUse.id)
    )
    return {
        "coupons": as_rows(session.execute(coupons).scalars()),
        "coupon_uses": as_rows(session.execute(uses).scalars()),
    }


PART = Part("coupons", ("coupons", "coupon_uses"), _export)
