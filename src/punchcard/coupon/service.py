"""Issuing, validating, redeeming and releasing coupons."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.coupon.domain import (
    Benefit,
    BenefitKind,
    CouponRedeemed,
    CouponReleased,
    CouponRevoked,
    Order,
    Verdict,
    check,
)
from punchcard.coupon.errors import (
    CouponAlreadyRedeemed,
    CouponExpired,
    CouponNotFound,
    CouponNotRedeemed,
)
from punchcard.coupon.errors import CouponRevoked as Revoked
from punchcard.coupon.models import Coupon as Coupon  # the rows are how coupons cross the feature's boundary
from punchcard.coupon.models import CouponUse as CouponUse
from punchcard.i18n.text import Text
from punchcard.kit.events import DomainEvent
from punchcard.outbox import service as outbox
from punchcard.rules.domain import LineFilter

# No 0/O or 1/I/L: codes are read aloud at tills and typed from screenshots.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{body[:5]}-{body[5:]}"


def benefit_to_json(benefit: Benefit) -> dict[str, Any]:
    """The benefit as a coupon keeps it, the free product's name in every language it was written in."""
    product = benefit.product
    return _benefit_json(benefit, {"default": product.default, **dict(product.translations)} if product else None)


def benefit_shown(benefit: Benefit, language: str) -> dict[str, Any]:
    """The benefit as the API shows it: the free product's name (``null`` without one) in ``language``."""
    return _benefit_json(benefit, benefit.product.in_language(language) if benefit.product else None)


def _benefit_json(benefit: Benefit, product: object) -> dict[str, Any]:
    return {
        "kind": benefit.kind.value,
        "amount": str(benefit.amount) if benefit.amount is not None else None,
        "percent": str(benefit.percent) if benefit.percent is not None else None,
        "sku": benefit.sku,
        "product": product,
        "min_order_total": str(benefit.min_order_total),
        "lines": {
            name: sorted(getattr(benefit.lines, name))
            for name in ("categories", "skus", "exclude_categories", "exclude_skus")
        },
    }


def benefit_from_json(data: dict[str, Any]) -> Benefit:
    lines = data["lines"]
    return Benefit(
        kind=BenefitKind(data["kind"]),
        amount=Decimal(data["amount"]) if data["amount"] is not None else None,
        percent=Decimal(data["percent"]) if data["percent"] is not None else None,
        sku=data["sku"],
        product=_product(data.get("product")),  # coupons issued before products had names have none
        min_order_total=Decimal(data["min_order_total"]),
        lines=LineFilter(
            *(frozenset(lines[name]) for name in ("categories", "skus", "exclude_categories", "exclude_skus"))
        ),
    )


def _product(stored: dict[str, str] | None) -> Text | None:
    if not stored:
        return None
    translations = tuple(sorted((language, text) for language, text in stored.items() if language != "default"))
    return Text(stored["default"], translations)


def issue(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    reward_code: str,
    redemption_id: int,
    benefit: Benefit,
    issued_at: datetime,
    expires_at: datetime,
) -> Coupon:
    coupon = Coupon(
        program_id=program_id,
        member_id=member_id,
        code=new_code(),
        reward_code=reward_code,
        redemption_id=redemption_id,
        benefit=benefit_to_json(benefit),
        issued_at=issued_at,
        expires_at=expires_at,
    )
    session.add(coupon)
    session.flush()
    return coupon


def get(session: Session, program_id: int, code: str, *, lock: bool = False) -> Coupon:
    query = select(Coupon).where(Coupon.program_id == program_id, Coupon.code == code.strip().upper())
    coupon = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if coupon is None:
        raise CouponNotFound(f"no coupon with code {code!r}", [{"code": code}])
    return coupon


def active_use(session: Session, coupon_id: int) -> CouponUse | None:
    return session.execute(
        select(CouponUse).where(CouponUse.coupon_id == coupon_id, CouponUse.released_at.is_(None))
    ).scalar_one_or_none()


def validate(
    session: Session, coupon: Coupon, order: Order, *, currency: str, order_id: str | None, now: datetime
) -> Verdict:
    """Would the coupon apply to this order now? An order already holding the coupon may validate it again."""
    use = active_use(session, coupon.id)
    return check(
        benefit_from_json(coupon.benefit),
        order,
        currency=currency,
        expires_at=coupon.expires_at,
        is_used_by_other_order=use is not None and use.order_id != order_id,
        now=now,
        is_revoked=coupon.revoked_at is not None,
    )


def redeem(session: Session, coupon: Coupon, order_id: str, now: datetime) -> tuple[CouponUse, bool]:
    """Mark the coupon used by ``order_id``; returns the use and whether it is new.

    A retry for the same order returns the existing use; another order gets ``coupon_already_redeemed``. The partial
    unique index on unreleased uses is the backstop when two checkouts race.
    """
    use = active_use(session, coupon.id)
    if use is not None:
        if use.order_id == order_id:
            return use, False
        raise CouponAlreadyRedeemed(f"coupon {coupon.code} is already used by another order", [{"code": coupon.code}])
    if coupon.revoked_at is not None:
        raise Revoked(
            f"coupon {coupon.code} was taken back at {coupon.revoked_at.isoformat()}", [{"code": coupon.code}]
        )
    if now >= coupon.expires_at:
        raise CouponExpired(f"coupon {coupon.code} expired at {coupon.expires_at.isoformat()}")
    use = CouponUse(program_id=coupon.program_id, coupon_id=coupon.id, order_id=order_id, redeemed_at=now)
    try:
        with session.begin_nested():
            session.add(use)
    except IntegrityError as error:
        raise CouponAlreadyRedeemed(
            f"coupon {coupon.code} is already used by another order", [{"code": coupon.code}]
        ) from error
    outbox.publish(session, [_event(CouponRedeemed, coupon, order_id, now)], now)
    return use, True


def _event(kind: type[CouponRedeemed | CouponReleased], coupon: Coupon, order_id: str, now: datetime) -> DomainEvent:
    return kind(
        program_id=coupon.program_id,
        member_id=coupon.member_id,
        occurred_at=now,
        code=coupon.code,
        reward=coupon.reward_code,
        order_id=order_id,
    )


def release(session: Session, coupon: Coupon, order_id: str, now: datetime) -> CouponUse:
    """Give the coupon back after ``order_id`` was cancelled; releasing twice is fine, another order's use is not."""
    use = active_use(session, coupon.id)
    if use is None:
        released = session.execute(
            select(CouponUse)
            .where(CouponUse.coupon_id == coupon.id, CouponUse.order_id == order_id)
            .order_by(CouponUse.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if released is None:
            raise CouponNotRedeemed(f"coupon {coupon.code} is not redeemed by order {order_id!r}")
        return released
    if use.order_id != order_id:
        raise CouponAlreadyRedeemed(
            f"coupon {coupon.code} is used by another order, not {order_id!r}", [{"code": coupon.code}]
        )
    use.released_at = now
    session.flush()
    outbox.publish(session, [_event(CouponReleased, coupon, order_id, now)], now)
    return use


def status(coupon: Coupon, use: CouponUse | None, now: datetime) -> str:
    if use is not None:
        return "redeemed"
    if coupon.revoked_at is not None:
        return "revoked"
    return "expired" if now >= coupon.expires_at else "active"


def of_redemption(session: Session, redemption_id: int) -> Coupon:
    """The coupon a redemption (or a gift) issued: exactly one."""
    return session.execute(select(Coupon).where(Coupon.redemption_id == redemption_id)).scalar_one()


def revoke(session: Session, coupon: Coupon, now: datetime) -> bool:
    """Take back ``coupon`` if no order holds it; ``True`` when it was revoked now. The coupon's row is locked first,
    as a redemption locks it, so a checkout using it and its revocation cannot both succeed."""
    session.execute(select(Coupon.id).where(Coupon.id == coupon.id).with_for_update())
    session.refresh(coupon)
    if coupon.revoked_at is not None or active_use(session, coupon.id) is not None:
        return False
    coupon.revoked_at = now
    session.flush()
    outbox.publish(
        session,
        [
            CouponRevoked(
                program_id=coupon.program_id,
                member_id=coupon.member_id,
                occurred_at=now,
                code=coupon.code,
                reward=coupon.reward_code,
            )
        ],
        now,
    )
    return True


def of_member(session: Session, member_id: int) -> list[tuple[Coupon, CouponUse | None]]:
    """The member's coupons, newest first, each with its current (unreleased) use."""
    rows = session.execute(
        select(Coupon, CouponUse)
        .outerjoin(CouponUse, (CouponUse.coupon_id == Coupon.id) & CouponUse.released_at.is_(None))
        .where(Coupon.member_id == member_id)
        .order_by(Coupon.id.desc())
    ).all()
    return [(row[0], row[1]) for row in rows]


def expiring(session: Session, program_id: int, after: datetime, until: datetime) -> list[Coupon]:
    """The program's coupons that expire in ``(after, until]`` and are not in use (used ones need no reminder)."""
    in_use = select(CouponUse.id).where(CouponUse.coupon_id == Coupon.id, CouponUse.released_at.is_(None)).exists()
    query = select(Coupon).where(
        Coupon.program_id == program_id,
        Coupon.expires_at > after,
        Coupon.expires_at <= until,
        Coupon.revoked_at.is_(None),
        ~in_use,
    )
    return list(session.execute(query.order_by(Coupon.member_id, Coupon.id)).scalars())
