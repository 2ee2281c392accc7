"""The referral mechanic: a friend joining with a member's code, their qualifying purchase, and a full refund of it.

- **Enrolment** with ``referred_by`` (an attribute of the ``member_enrolled`` event): the code's owner is found, the
  fraud checks run (``referral.domain.screen_joining``), and the referral is recorded ``pending``, ``held`` or
  ``rejected``; a program whose referrals qualify on enrolment qualifies it now.
- **Purchase** by a friend whose referral is open: the first one reaching the minimum total qualifies it (after
  the purchase checks, ``screen_purchase``). Paid at once, the friend's reward is credited in this event (its points
  are in the answer); the referrer's is paid by ``mechanics.referral_payouts`` just after the commit, since locking
  another member here would break the event path's lock order. The purchase's signals (a card, an address) are
  remembered for later checks.
- **Refund** that completes the refund of a qualifying order: the friend's reward is taken back in this event, the
  referrer's just after (``referral.reversed``).

Cost on the event path, for programs with referrals only: one indexed read of the member's referral on purchases
within the time a friend has to qualify (``qualify_within_days`` of joining); nothing for other purchases unless they
carry signals, which are written once per member and value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from punchcard.kit.events import DomainEvent
from punchcard.kit.money import to_minor
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Award, EntryKind, PointsEarned, PointsReversed, PointsRevoked
from punchcard.mechanics.base import Turn, live_account
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.program.domain import ProgramVersion
from punchcard.referral import service as referrals
from punchcard.referral.checks import (
    Flag,
    Joining,
    screen_joining,
    screen_purchase,
    signals_of,
    verdict,
)
from punchcard.referral.domain import (
    Purchase,
    Qualifier,
    Referrals,
    Role,
    Status,
    payable_at,
    qualifies,
)
from punchcard.referral.errors import ReferralsNotOffered
from punchcard.referral.service import Referral
from punchcard.reward import service as rewards
from punchcard.rules.domain import MEMBER_ENROLLED, PURCHASE, REFUND, EventFacts

REFERRED_BY = "referred_by"
"""The enrolment attribute that carries the code (``POST /api/v1/members {"referred_by": ...}``)."""
ORDERS_BEFORE = "orders_count"
"""The enrolment attribute with the shop's count of the person's earlier orders (Shopify's ``orders_count``)."""


@dataclass(frozen=True)
class Joined:
    referrer: Member
    referee: Member
    code: str
    joining: Joining
    signals: dict[str, str]


@dataclass(frozen=True)
class Bought:
    signals: dict[str, str]
    referral: Referral | None = None
    referrer_signals: frozenset[tuple[str, str]] = frozenset()
    vest_at: datetime | None = None


@dataclass(frozen=True)
class Refunded:
    referral: Referral


@dataclass(frozen=True)
class Decision:
    """What the mechanic does for one event (``None`` parts: nothing of that kind)."""

    join: Joined | None = None
    referral: Referral | None = None
    status: Status | None = None
    """A new referral's status (``join``), or what the purchase checks make of a qualifying referral."""
    flags: tuple[Flag, ...] = ()
    qualified_at: datetime | None = None
    """Set when this event qualifies the referral."""
    payable_at: datetime | None = None
    pay_referee: bool = False
    reverse: bool = False
    remember: dict[str, str] = field(default_factory=dict)


class ReferralMechanic:
    """Referrals as a mechanic (see the module docstring)."""

    name = "referrals"

    def section(self, version: ProgramVersion, event_type: str) -> Referrals | None:
        rule = version.program.referrals
        return rule if rule is not None and event_type in (MEMBER_ENROLLED, PURCHASE, REFUND) else None

    def load(self, turn: Turn, rule: Referrals) -> Joined | Bought | Refunded | None:
        facts = turn.facts
        if facts.type == MEMBER_ENROLLED:
            return _joining(turn, rule)
        if facts.type == REFUND:
            return _refunded(turn)
        return _bought(turn, rule)

    def decide(self, facts: EventFacts, state: Joined | Bought | Refunded | None, rule: Referrals) -> Decision:
        if isinstance(state, Joined):
            flags = screen_joining(rule.checks, state.joining)
            status = verdict(rule.checks, flags) or Status.PENDING
            on_joining = rule.qualifier is Qualifier.ENROLMENT and status is not Status.REJECTED
            return Decision(
                join=state,
                status=status,
                flags=tuple(flags),
                qualified_at=facts.occurred_at if on_joining else None,
                payable_at=facts.occurred_at if on_joining else None,
                pay_referee=on_joining and status is Status.PENDING,
            )
        if isinstance(state, Refunded):
            return Decision(referral=state.referral, reverse=rule.reverse_on_refund)
        if state is None:
            return Decision()
        referral = state.referral
        purchase = Purchase(facts.occurred_at, facts.order_total, state.signals)
        if referral is None or not rule.enabled or not qualifies(rule, referral.created_at, purchase):
            return Decision(remember=state.signals)
        flags = screen_purchase(rule.checks, referral.created_at, purchase, state.referrer_signals)
        status = verdict(rule.checks, flags) or Status.QUALIFIED
        due = payable_at(rule, facts.occurred_at, state.vest_at)
        held = status is not Status.QUALIFIED or referral.status == Status.HELD.value
        return Decision(
            referral=referral,
            status=status,
            flags=tuple(flags),
            qualified_at=facts.occurred_at,
            payable_at=due,
            pay_referee=not held and due <= facts.occurred_at,
            remember=state.signals,
        )

    def apply(self, turn: Turn, decision: Decision) -> Sequence[DomainEvent]:
        session, program_id = turn.session, turn.program_id
        if decision.remember:
            referrals.record_signals(session, program_id, turn.member.id, decision.remember, turn.now)
        found: list[DomainEvent] = []
        referral = decision.referral
        if decision.join is not None:
            joined, status = decision.join, decision.status
            assert status is not None
            referral, made = referrals.join(
                session,
                program_id,
                joined.referrer,
                joined.referee,
                code=joined.code,
                status=status,
                flags=decision.flags,
                signals=joined.signals,
                now=turn.facts.occurred_at,
            )
            found.append(made)
        if referral is None:
            return found
        if decision.reverse:
            return found + _reverse(turn, referral)
        if decision.qualified_at is not None and decision.payable_at is not None:
            order_id = turn.account.posting.order_id
            currency = turn.version.program.currency
            purchase = decision.join is None  # a sign-up's flags and status were recorded by ``join``
            found.append(
                referrals.qualify(
                    referral,
                    status=decision.status if purchase and decision.status else Status.QUALIFIED,
                    flags=decision.flags if purchase else (),
                    order_id=order_id,
                    order_total_minor=to_minor(turn.facts.order_total, currency) if order_id else None,
                    payable_at=decision.payable_at,
                    now=decision.qualified_at,
                )
            )
        if decision.pay_referee:
            found += _pay_referee(turn, referral)
        return found


def _joining(turn: Turn, rule: Referrals) -> Joined | Bought | None:
    """A sign-up: with a code, the referral to record; without, the new member's signals to remember (they may
    refer friends later, and a friend's own second account must be recognised)."""
    session, program_id = turn.session, turn.program_id
    referee = members.by_id(session, program_id, turn.member.id)
    assert referee is not None
    signals = signals_of(referee.email, turn.facts.attributes)
    code = turn.facts.attributes.get(REFERRED_BY)
    if not code:
        return Bought(signals) if signals else None
    if not rule.enabled:
        raise ReferralsNotOffered("this program does not take new referrals", [{"field": REFERRED_BY}])
    referrer = referrals.referrer_of(session, program_id, str(code))
    joining = referrals.joining(session, program_id, referrer, referee, signals, turn.facts.occurred_at)
    orders_before = turn.facts.attributes.get(ORDERS_BEFORE)
    if isinstance(orders_before, int) and orders_before > 0:
        joining = Joining(**{**vars(joining), "orders_before": orders_before})
    return Joined(referrer, referee, str(code).strip().upper(), joining, signals)


def _bought(turn: Turn, rule: Referrals) -> Bought | None:
    signals = signals_of(None, turn.facts.attributes)
    days = turn.member.attributes(turn.facts.occurred_at, with_orders=False)["days_since_enrolment"]
    within = rule.qualify_within_days is None or (isinstance(days, int) and days <= rule.qualify_within_days)
    referral = referrals.open_referral(turn.session, turn.member.id) if within and rule.enabled else None
    if referral is None:
        return Bought(signals) if signals else None
    vest_at = next((e.pending_until for e in turn.events if isinstance(e, PointsEarned) and e.cause == PURCHASE), None)
    referrer = frozenset(referrals.signals_of_member(turn.session, referral.referrer_id))
    return Bought(signals, referral, referrer, vest_at)


def _refunded(turn: Turn) -> Refunded | None:
    reversed_ = next((e for e in turn.events if isinstance(e, PointsReversed)), None)
    if reversed_ is None or reversed_.refunded_fraction != "1":
        return None
    referral = referrals.of_order(turn.session, turn.member.id, reversed_.order_id)
    if referral is None or referral.status not in (Status.QUALIFIED.value, Status.PAID.value):
        return None
    return Refunded(referral)


def _pay_referee(turn: Turn, referral: Referral) -> list[DomainEvent]:
    """The friend's reward, in their own event: a lot through the event's account (so the answer's balance has it)
    and the reward's coupon."""
    program, posting = turn.version.program, turn.account.posting
    assert program.referrals is not None
    gift = program.referrals.gift(Role.REFEREE)
    found: list[DomainEvent] = []
    lot_id = None
    if gift.points > 0:
        description = "Referral: joined with a friend's code"
        parts = [ledger.Credit(gift.points, description, referrals.REWARD_RULE)]
        lot_id = turn.account.credit(
            parts, kind=EntryKind.EARN, policy=program.points, zone=program.zone, allow_pending=False
        )
        assert lot_id is not None
        award = Award(gift.points, referrals.REWARD_RULE, "Referral (referee)", "")
        found.append(
            PointsEarned(
                program_id=turn.program_id,
                member_id=turn.member.id,
                occurred_at=posting.occurred_at,
                points=gift.points,
                awards=(award,),
                lot_id=lot_id,
                pending_until=None,
                cause="referral",
                event=turn.event,
                order_id=posting.order_id,
            )
        )
    coupon = None
    if gift.reward is not None:
        reward = program.reward(gift.reward)
        assert reward is not None  # the program file checks that the reward exists
        coupon = rewards.gift(
            turn.session,
            turn.program_id,
            turn.member.id,
            reward,
            zone=program.zone,
            cause="referral",
            operation=f"referral:{referral.id}:{Role.REFEREE.value}",
            now=turn.now,
        ).coupon_code
    found.append(referrals.referee_paid(referral, gift.points, lot_id, coupon, turn.now))
    return found


def _reverse(turn: Turn, referral: Referral) -> list[DomainEvent]:
    """A full refund of the qualifying order: the friend's reward is taken back now, as the return policy allows;
    the referrer's by the payouts consumer when it hears ``referral.reversed``."""
    program = turn.version.program
    found: list[DomainEvent] = []
    reversed_ = referrals.reversed_by_refund(referral, turn.now)
    if reversed_ is None:
        return found
    if referral.referee_points > 0:
        text = f"Refund of order {referral.order_id}: referral reward taken back"
        taken = live_account(turn).reverse(
            lot_id=referral.referee_lot_id,
            due=referral.referee_points,
            policy=program.points.return_policy,
            description=text,
        )
        found.append(
            PointsRevoked(
                program_id=turn.program_id,
                member_id=turn.member.id,
                occurred_at=turn.facts.occurred_at,
                points=taken,
                cause="referral",
                granted=f"referral:{referral.id}:{Role.REFEREE.value}",
                not_taken_back=referral.referee_points - taken,
            )
        )
    operation = f"referral:{referral.id}:{Role.REFEREE.value}"
    rewards.take_back_gift(turn.session, turn.program_id, turn.member.id, operation=operation, now=turn.now)
    found.append(reversed_)
    return found
