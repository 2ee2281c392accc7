"""What each portal page shows, gathered from the features that own it: balances and expiries from the ledger, the
tier card from tiers, each reward's standing from the catalogue rules, coupons with their status, and the history.

Views read and decide nothing new: every number is the one the API gives for the same member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.coupon import service as coupons
from punchcard.coupon.domain import Benefit, BenefitKind
from punchcard.coupon.service import Coupon
from punchcard.i18n.text import Text
from punchcard.i18n.translator import Translator
from punchcard.kit.calendar import local_date
from punchcard.kit.money import from_minor
from punchcard.ledger import service as ledger
from punchcard.member.service import Member
from punchcard.offer.domain import Locked, of_reward
from punchcard.portal.domain import expiring_soon, last_usable_day
from punchcard.portal.errors import CouponNotYours
from punchcard.portal.history import Movement, group_key, movements
from punchcard.program.domain import Program, ProgramVersion
from punchcard.reward import service as rewards
from punchcard.reward.domain import Lock, Obstacle, Reward
from punchcard.tier import service as tiers
from punchcard.tier.domain import Metric, WindowKind

HISTORY_PAGE = 100
"""Ledger entries read per history page (tier credits among them, which are not shown)."""


@dataclass(frozen=True)
class Points:
    available: int
    pending: int
    expiring: list[tuple[date, int]]
    """(last usable day, points) for the points that expire in the next 30 days."""


def points(session: Session, version: ProgramVersion, member: Member, now: datetime) -> Points:
    found = ledger.balances(session, member.id)
    soon = expiring_soon(ledger.expiring(session, member.id, now, limit=31), now)
    zone = version.program.zone
    return Points(found.available, found.pending, [(last_usable_day(moment, zone), amount) for moment, amount in soon])


@dataclass(frozen=True)
class TierCard:
    name: Text
    threshold: int
    multiplier: Decimal
    metric: Metric
    window: WindowKind
    window_months: int
    value: int
    next_name: Text | None
    next_threshold: int | None
    needed_for_next: int | None
    needed_to_keep: int
    grace_until: date | None
    perks: tuple[Text, ...] = ()
    """The names of the tier's perks that members read."""

    def amount(self, value: int, currency: str) -> Decimal:
        """A tier value in money (the ``amount_spent`` metric counts minor units)."""
        return from_minor(value, currency)


def tier_card(session: Session, version: ProgramVersion, member: Member, now: datetime) -> TierCard | None:
    policy, zone = version.program.tiers, version.program.zone
    if policy is None:
        return None
    state = tiers.status(session, member, policy, zone, now)
    return TierCard(
        name=state.tier.name,
        threshold=state.tier.threshold,
        multiplier=state.tier.multiplier,
        metric=policy.metric,
        window=policy.window.kind,
        window_months=policy.window.months,
        value=state.value,
        next_name=state.next_tier.name if state.next_tier else None,
        next_threshold=state.next_tier.threshold if state.next_tier else None,
        needed_for_next=state.needed_for_next,
        needed_to_keep=state.needed_to_keep,
        grace_until=last_usable_day(state.grace_until, zone) if state.grace_until else None,
        perks=tuple(perk.name for perk in state.tier.perks if perk.name.default),
    )


@dataclass(frozen=True)
class Standing:
    """A reward as this member sees it now: redeemable, or what stands in the way."""

    reward: Reward
    obstacle: Obstacle | None
    short_by: int
    min_tier_name: Text | None
    lock: Lock | None = None
    """An offer holding the reward back (``offer.http.locks``): ``tier_required``, ``plan_required`` or
    ``not_started``."""
    offer_tiers: tuple[Text, ...] = ()
    """The tiers the reward's offer is for (``tier_required``) or opens early to (``not_started``)."""
    offer_plans: tuple[Text, ...] = ()
    """The paid plans the reward's offer is for (``plan_required``)."""
    opens_at: datetime | None = None
    """When it opens for this member, in the program's time zone."""

    @property
    def redeemable(self) -> bool:
        return self.obstacle is None


HIDDEN = (Locked.SEGMENT_REQUIRED.value, Locked.ENDED.value)
"""Offers a member is not shown at all: a segment is the marketer's, and an ended offer is nothing to wait for."""


def standings(
    session: Session, version: ProgramVersion, member: Member, now: datetime, locks: Mapping[str, Lock]
) -> list[Standing]:
    """The catalogue as ``member`` sees it at ``now``; ``locks``: what offers hold back from them."""
    program = version.program
    available = ledger.balances(session, member.id).available
    found = []
    for reward in program.offered:
        lock = locks.get(reward.code)
        if lock is not None and lock.reason in HIDDEN:
            continue
        obstacle = rewards.obstacle_for(session, program.tiers, member, reward, now, available, lock)
        min_tier = program.tiers.by_code(reward.min_tier).name if program.tiers and reward.min_tier else None
        item = Standing(reward, obstacle, max(reward.points_cost - available, 0), min_tier)
        found.append(_with_offer(program, item, lock) if lock is not None else item)
    return found


def _with_offer(program: Program, item: Standing, lock: Lock) -> Standing:
    offer = of_reward(program.offers, item.reward.code)
    assert offer is not None
    early = offer.early_access
    codes = offer.audience.tiers if lock.reason == Locked.TIER_REQUIRED.value else early.tiers if early else ()
    names = tuple(tier.name for tier in program.tiers.tiers if tier.code in codes) if program.tiers else ()
    opens_at = lock.opens_at.astimezone(program.zone) if lock.opens_at else None
    plans = tuple(plan.name for plan in program.plans if plan.code in offer.audience.plans)
    return replace(item, lock=lock, offer_tiers=names, offer_plans=plans, opens_at=opens_at)


def standing(
    session: Session, version: ProgramVersion, member: Member, code: str, now: datetime, locks: Mapping[str, Lock]
) -> Standing | None:
    found = standings(session, version, member, now, locks)
    return next((item for item in found if item.reward.code == code), None)


def history(
    session: Session, version: ProgramVersion, member: Member, before: int | None, language: str
) -> tuple[list[Movement], int | None]:
    """A page of the member's history, newest first, and the cursor of the next page (``None`` at the end).

    A page never splits a movement: when more entries follow, the page's last movement is left to the next page.
    """
    entries = list(ledger.history(session, member.id, before, HISTORY_PAGE + 1))
    cursor = None
    if len(entries) > HISTORY_PAGE:
        last = entries[HISTORY_PAGE - 1]
        kept = [entry for entry in entries[:HISTORY_PAGE] if group_key(entry) != group_key(last)]
        entries = kept or entries[:HISTORY_PAGE]
        cursor = entries[-1].id
    rule_names = {rule.code: rule.name.in_language(language) for rule in version.program.all_rules}
    redemption_ids = [
        int(entry.operation.split(":", 1)[1])
        for entry in entries
        if entry.operation and entry.operation.startswith("redemption:") and entry.operation[11:].isdigit()
    ]
    codes = rewards.reward_codes(session, redemption_ids)
    operation_names = {
        f"redemption:{redemption_id}": _reward_name(version, code).in_language(language)
        for redemption_id, code in codes.items()
    } | {f"donation:{cause.code}": cause.name.in_language(language) for cause in version.program.causes}
    return movements(entries, rule_names, operation_names), cursor


def _reward_name(version: ProgramVersion, code: str) -> Text:
    """The reward's name, or its code when a later program version dropped it."""
    reward = version.program.reward(code)
    return reward.name if reward is not None else Text(code)


@dataclass(frozen=True)
class CouponCard:
    code: str
    reward_name: Text
    benefit: Benefit
    status: str
    """``active``, ``redeemed`` or ``expired`` (``coupon.service.status``)."""
    issued_on: date
    valid_until: date
    used_on: date | None


def _card(version: ProgramVersion, coupon: Coupon, used_at: datetime | None, status: str) -> CouponCard:
    zone = version.program.zone
    return CouponCard(
        code=coupon.code,
        reward_name=_reward_name(version, coupon.reward_code),
        benefit=coupons.benefit_from_json(coupon.benefit),
        status=status,
        issued_on=local_date(coupon.issued_at, zone),
        valid_until=last_usable_day(coupon.expires_at, zone),
        used_on=local_date(used_at, zone) if used_at else None,
    )


def coupon_cards(session: Session, version: ProgramVersion, member: Member, now: datetime) -> list[CouponCard]:
    """The member's coupons, newest first."""
    return [
        _card(version, coupon, use.redeemed_at if use else None, coupons.status(coupon, use, now))
        for coupon, use in coupons.of_member(session, member.id)
    ]


def coupon_card(session: Session, version: ProgramVersion, member: Member, code: str, now: datetime) -> CouponCard:
    """One of the member's coupons; another member's code is as unknown as a code that does not exist."""
    found = next((card for card in coupon_cards(session, version, member, now) if card.code == code), None)
    if found is None:
        raise CouponNotYours(f"no coupon {code!r} for this member")
    return found


def describe_benefit(ui: Translator, benefit: Benefit, currency: str) -> list[str]:
    """What a reward's coupon gives, in the member's words, with its minimum order if it has one."""
    if benefit.kind is BenefitKind.AMOUNT_OFF:
        lines = [ui.t("benefit.amount_off", amount=ui.money(benefit.amount or Decimal(0), currency))]
    elif benefit.kind is BenefitKind.PERCENT_OFF:
        lines = [ui.t("benefit.percent_off", percent=ui.percent(benefit.percent or Decimal(0)))]
    elif benefit.kind is BenefitKind.FREE_SHIPPING:
        lines = [ui.t("benefit.free_shipping")]
    elif benefit.product is not None:
        lines = [ui.t("benefit.free_product", product=benefit.product)]
    else:  # a free product named by its SKU alone: the reward's own name says what it is
        lines = []
    if benefit.min_order_total > 0:
        lines.append(ui.t("benefit.min_order", amount=ui.money(benefit.min_order_total, currency)))
    return lines
