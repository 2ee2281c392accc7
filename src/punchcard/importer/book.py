"""The ledger of a batch of members, kept in memory while their orders are applied in chronological order.

An executor of the event path (``event.service.record`` for purchases, ``event.service.enrol`` for members the import
creates) on in-memory state, with the database reads done once per batch and the writes collected into rows. Every
decision is the API's own pure function, and every row the API's own builder:

1. settle what is due at the order's time with the one settlement rule (``ledger.domain.settle``), written as
   ``ledger.posting.settlement_legs``;
2. the earning mechanic's decision: the rules with the member's facts as of that time (``rules.domain.evaluate``);
3. credit one lot (pending inside the return window), repay debt from it, add the tier credit, record the order; every
   group of legs a balanced transfer (``ledger.posting.transfer``);
4. the tier mechanic's decision (``tier.domain.after_earning``): upgrade at once;
5. the domain events (``PointsEarned``, ``TierUpgraded``, ``PointsExpired``, ``MemberEnrolled``) as outbox rows, and
   the response the API would have returned, derived from them.

What is still its own is the state: the member's facts and lots in memory instead of queries (``_facts``,
``MemberBook``). ``tests/importer`` checks that importing gives exactly what posting the same orders through the API
gives.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from punchcard.event.service import order_lines
from punchcard.importer.source import Order
from punchcard.kit.calendar import period_start
from punchcard.kit.events import DomainEvent, effects_of
from punchcard.kit.money import to_minor
from punchcard.ledger.domain import Account, EntryKind, settle
from punchcard.ledger.domain import OpenLot as DomainLot
from punchcard.ledger.posting import Posting, expired_events, settlement_legs, transfer
from punchcard.mechanics.earning import points_earned
from punchcard.member.domain import MemberEnrolled
from punchcard.member.service import attributes
from punchcard.outbox import service as outbox
from punchcard.program.domain import ProgramVersion
from punchcard.rules.domain import MEMBER_ENROLLED, PURCHASE, Context, Evaluation, EventFacts, MemberFacts, evaluate
from punchcard.tier.domain import Tier, TierChanged, after_earning, credits_for, tier_changed


@dataclass
class OpenLot:
    """A lot that can still change: points left, or still pending."""

    id: int
    remaining: int
    expires_at: datetime | None
    is_pending: bool
    available_at: datetime | None
    is_new: bool = False
    is_changed: bool = False


@dataclass
class Profile:
    """The member fields rules may look at (``member.service.attributes`` reads these names)."""

    language: str | None = None
    marketing_consent: bool = False
    enrolled_at: datetime | None = None
    birth_date: date | None = None
    email: str | None = None


@dataclass
class MemberBook:
    """One member's state as the event path would read it from the database, kept current as orders apply."""

    id: int
    external_id: str
    profile: Profile
    tier_code: str | None
    tier_since: datetime | None
    tier_grace_until: datetime | None
    is_new: bool
    lots: list[OpenLot] = field(default_factory=list)
    debt_line: int = 0
    """Sum of the lot-less ``points`` entries: negative while the member owes points."""
    tier_credits: list[tuple[datetime, int]] = field(default_factory=list)
    firings: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    """Per limited rule: (when, lot id) of each earn entry, as ``ledger.repository.firing_count`` counts them."""
    order_count: int = 0
    is_changed: bool = False
    _credits_from: int = 0
    """``tier_credits[:_credits_from]`` have left the window (orders come oldest first, so they never come back)."""
    _credits_sum: int | None = None
    """The sum of ``tier_credits[_credits_from:]``; ``None`` until the list (as loaded) has been sorted."""

    # --- tier credits in the window (``ledger.repository`` sums them for the tier mechanic) ----------------------

    def _sorted_credits(self) -> int:
        if self._credits_sum is None:
            self.tier_credits.sort()
            self._credits_from, self._credits_sum = 0, sum(amount for _, amount in self.tier_credits)
        return self._credits_sum

    def add_tier_credit(self, at: datetime, amount: int) -> None:
        self._credits_sum = self._sorted_credits() + amount
        bisect.insort(self.tier_credits, (at, amount), lo=self._credits_from)

    def window_value(self, since: datetime | None, at: datetime) -> int:
        """The credits from ``since`` (``None``: all) up to ``at``; what is before ``since`` is dropped for good."""
        total, credits = self._sorted_credits(), self.tier_credits
        start = self._credits_from
        if since is not None:
            while start < len(credits) and credits[start][0] < since:
                total -= credits[start][1]
                start += 1
            self._credits_from, self._credits_sum = start, total
        if not credits or credits[-1][0] <= at:
            return total
        return sum(amount for moment, amount in credits[start:] if moment <= at)  # credits after ``at`` (live ones)

    # --- the balances ``ledger.repository.balances`` would sum from the entries ------------------------------------

    @property
    def available(self) -> int:
        return sum(lot.remaining for lot in self.lots if not lot.is_pending) + self.debt_line

    @property
    def pending(self) -> int:
        return sum(lot.remaining for lot in self.lots if lot.is_pending)


@dataclass
class Rows:
    """Everything a batch writes, in the order it must be written (foreign keys point backwards)."""

    members: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    lots: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    tier_changes: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    lot_updates: list[dict[str, Any]] = field(default_factory=list)
    member_updates: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Ids:
    """Ids reserved in the database for the rows a batch inserts (members, events and lots are referred to)."""

    members: Iterator[int]
    events: Iterator[int]
    lots: Iterator[int]


class Book:
    """Applies orders for the members of one batch and collects the rows to write."""

    def __init__(self, version: ProgramVersion, members: dict[str, MemberBook], ids: Ids, now: datetime) -> None:
        self.version, self.program = version, version.program
        self.members, self.ids, self.now = members, ids, now
        self.rows = Rows()
        self._lot_rows: dict[int, dict[str, Any]] = {}
        self._member_rows: dict[int, dict[str, Any]] = {}
        self._tiers: dict[str | None, tuple[Tier, int]] = {}

    # --- writing ---------------------------------------------------------------------------------------------------

    def _entry(
        self,
        posting: Posting,
        account: Account,
        kind: EntryKind,
        amount: int,
        *,
        lot_id: int | None = None,
        rule_code: str | None = None,
        description: str = "",
        occurred_at: datetime | None = None,
    ) -> dict[str, object]:
        """A leg on the member's accounts, as ``ledger.posting.Posting.entry`` makes it."""
        moment = {"occurred_at": occurred_at} if occurred_at is not None else {}
        return (
            posting.entry(account, kind, amount, lot_id=lot_id, rule_code=rule_code, description=description) | moment
        )

    def _write(self, *transfers: list[dict[str, object]]) -> None:
        """``ledger.service.write``: each group of legs becomes one balanced transfer (``ledger.posting.transfer``)."""
        for legs in transfers:
            self.rows.entries.extend(transfer(legs))

    def _posting(self, member_id: int, at: datetime, **cause: Any) -> Posting:
        """What the entries of one operation share, as ``ledger.posting.Posting`` (the API's very type)."""
        return Posting(self.version.program_id, member_id, self.version.version, at, self.now, **cause)

    @staticmethod
    def _take(lot: OpenLot, points: int) -> None:
        lot.remaining -= points
        lot.is_changed = True

    # --- settling what is due (ledger.service.settle_member) -------------------------------------------------------

    def _settle(self, member: MemberBook, posting: Posting, at: datetime) -> None:
        """``ledger.service.settle_member``: the one settlement rule (``ledger.domain.settle``) on the book's lots,
        written as the same transfers (``ledger.posting.settlement_legs``)."""
        lots = {lot.id: lot for lot in member.lots if lot.remaining > 0 or lot.is_pending}
        views = [
            DomainLot(lot.id, lot.remaining, lot.expires_at, lot.is_pending, lot.available_at) for lot in lots.values()
        ]
        plan = settle(views, -member.debt_line, at)
        if plan.is_empty:
            return
        self._write(*settlement_legs(posting, plan))
        for vested in plan.vest:
            lots[vested.lot_id].is_pending, lots[vested.lot_id].is_changed = False, True
        for take in plan.repay:
            self._take(lots[take.lot_id], take.points)
        for expiry in plan.expire:
            self._take(lots[expiry.lot_id], expiry.points)
        member.debt_line += plan.repaid
        self._publish(list(expired_events(posting, plan)))

    # --- the rules (event.service.member_facts / evaluate_for) -----------------------------------------------------

    def _facts(self, member: MemberBook, now: datetime) -> MemberFacts:
        program = self.program
        tier = self._tier(member.tier_code)[0] if program.tiers else None
        counts = {}
        for rule in program.rules:
            if rule.limit is not None:
                since = period_start(now, rule.limit.period, program.zone)
                fired = member.firings.get(rule.code, [])
                lots = {lot_id for moment, lot_id in fired if moment <= now and (since is None or moment >= since)}
                counts[(rule.code, rule.limit.period)] = len(lots)
        return MemberFacts(
            tier_code=tier.code if tier else None,
            tier_multiplier=tier.multiplier if tier else Decimal(1),
            attributes=attributes(member.profile, member.order_count, now),  # type: ignore[arg-type]
            firing_counts=counts,
        )

    def _credit(
        self, member: MemberBook, posting: Posting, evaluation: Evaluation, *, allow_pending: bool
    ) -> OpenLot | None:
        """``ledger.account.MemberAccount.credit``: a new lot with one entry per rule that gave points; available
        points repay debt first."""
        total = sum(award.points for award in evaluation.awards)
        if total <= 0:
            return None
        policy, zone = self.program.points, self.program.zone
        available_at = policy.available_at(posting.occurred_at, zone) if allow_pending else None
        lot = OpenLot(
            next(self.ids.lots),
            total,
            policy.expires_at(posting.occurred_at, zone),
            available_at is not None,
            available_at,
            is_new=True,
        )
        row = {
            "id": lot.id,
            "program_id": self.version.program_id,
            "member_id": member.id,
            "amount": total,
            "remaining": total,
            "earned_at": posting.occurred_at,
            "expires_at": lot.expires_at,
            "is_pending": lot.is_pending,
            "available_at": available_at,
        }
        self.rows.lots.append(row)
        self._lot_rows[lot.id] = row
        member.lots.append(lot)
        account = Account.PENDING_POINTS if lot.is_pending else Account.POINTS
        earned: list[dict[str, object]] = []
        for award in evaluation.awards:
            if award.points != 0:
                earned.append(
                    self._entry(
                        posting,
                        account,
                        EntryKind.EARN,
                        award.points,
                        lot_id=lot.id,
                        rule_code=award.rule_code,
                        description=f"{award.rule_name}: {award.detail}",
                    )
                )
                member.firings.setdefault(award.rule_code, []).append((posting.occurred_at, lot.id))
        self._write(earned)
        if not lot.is_pending:
            self._settle(member, posting, posting.occurred_at)  # all that can be due now is debt to repay
        return lot

    # --- enrolment (event.service.enrol) ---------------------------------------------------------------------------

    def enrol(self, member: MemberBook, enrolled_at: datetime) -> None:
        """Create the member at ``enrolled_at``: the entry tier, then the ``member_enrolled`` rules (welcome bonus)."""
        program = self.program
        if program.tiers is not None:
            entry_tier = program.tiers.tiers[0].code
            self.rows.tier_changes.append(self._tier_change(member, entry_tier, "enrolment", enrolled_at, None))
            member.tier_code, member.tier_since, member.tier_grace_until = entry_tier, enrolled_at, None
        row = {
            "id": member.id,
            "program_id": self.version.program_id,
            "external_id": member.external_id,
            "marketing_consent": False,
            "status": "active",
            "enrolled_at": enrolled_at,
            "tier_code": member.tier_code,
            "tier_since": member.tier_since,
            "tier_grace_until": None,
        }
        self.rows.members.append(row)
        self._member_rows[member.id] = row
        member.profile.enrolled_at = enrolled_at
        posting = self._posting(member.id, enrolled_at, operation="enrolment")
        facts = EventFacts(MEMBER_ENROLLED, enrolled_at)
        evaluation = evaluate(
            program.rules, Context(facts, self._facts(member, enrolled_at), program.zone), program.rounding
        )
        lot = self._credit(member, posting, evaluation, allow_pending=False)
        enrolled = MemberEnrolled(
            program_id=self.version.program_id,
            member_id=member.id,
            occurred_at=enrolled_at,
            email=member.profile.email,
            name=None,
            birth_date=member.profile.birth_date,
            language=member.profile.language,
            marketing_consent=member.profile.marketing_consent,
            tier=member.tier_code,
        )
        earned = points_earned(evaluation, posting, lot.id if lot else None, None, cause=MEMBER_ENROLLED, event=None)
        self._publish([enrolled, *([earned] if earned is not None else [])])

    def _publish(self, events: list[DomainEvent]) -> None:
        """The outbox rows of ``events``, as ``outbox.service.publish`` would write them at the API's commit."""
        self.rows.outbox.extend(outbox.row(event, self.now) for event in events)

    def _tier_change(
        self, member: MemberBook, to_code: str, reason: str, at: datetime, event_id: int | None
    ) -> dict[str, Any]:
        return {
            "program_id": self.version.program_id,
            "member_id": member.id,
            "from_code": member.tier_code,
            "to_code": to_code,
            "reason": reason,
            "changed_at": at,
            "event_id": event_id,
        }

    # --- a purchase (event.service.record, _purchase) --------------------------------------------------------------

    def purchase(self, member: MemberBook, order: Order) -> None:
        program, at = self.program, order.occurred_at
        event_id = next(self.ids.events)
        posting = self._posting(member.id, at, event_id=event_id, order_id=order.order_id)
        self._settle(member, posting, at)
        facts = EventFacts(PURCHASE, at, order.lines, order.shipping, {})
        evaluation = evaluate(program.rules, Context(facts, self._facts(member, at), program.zone), program.rounding)
        lot = self._credit(member, posting, evaluation, allow_pending=True)
        pending_until = program.points.available_at(at, program.zone)
        earned = points_earned(
            evaluation, posting, lot.id if lot else None, pending_until, cause=PURCHASE, event=order.event_id
        )
        events: list[DomainEvent] = [earned] if earned is not None else []
        total = to_minor(facts.order_total, order.currency)
        credits = (
            credits_for(program.tiers.metric, points=evaluation.points, order_total_minor=total) if program.tiers else 0
        )
        if credits != 0:
            credit = f"Order {order.order_id}"
            self._write([self._entry(posting, Account.TIER_CREDITS, EntryKind.EARN, credits, description=credit)])
            member.add_tier_credit(at, credits)
        self.rows.orders.append(
            {
                "program_id": self.version.program_id,
                "member_id": member.id,
                "order_id": order.order_id,
                "event_id": event_id,
                "occurred_at": at,
                "currency": order.currency,
                "total_minor": to_minor(facts.order_total, order.currency),
                "shipping_minor": to_minor(facts.shipping, order.currency),
                "lines": order_lines(facts, evaluation),
                "lot_id": lot.id if lot else None,
                "points_earned": evaluation.points,
                "tier_credits_earned": credits,
                "points_reversed": 0,
                "tier_credits_reversed": 0,
                "refunded_minor": 0,
                "refunded_fraction": "0",
                "refunded_quantities": {},
            }
        )
        member.order_count += 1
        changed = self._upgrade(member, at, event_id)
        if changed is not None:
            events.append(changed)
        self._publish(events)
        response = {
            "event_id": order.event_id,
            "effects": effects_of(events),
            "balance": {"available": member.available, "pending": member.pending},
        }
        self.rows.events.append(
            {
                "id": event_id,
                "program_id": self.version.program_id,
                "external_id": order.event_id,
                "type": PURCHASE,
                "member_id": member.id,
                "occurred_at": at,
                "recorded_at": self.now,
                "program_version": self.version.version,
                "request_hash": order.digest(),
                "response": response,
            }
        )

    def _tier(self, code: str | None) -> tuple[Tier, int]:
        """(code, rank) of ``tier.domain.TierPolicy.by_code``, looked up once per code."""
        found = self._tiers.get(code)
        if found is None:
            policy = self.program.tiers
            assert policy is not None
            tier = policy.by_code(code)
            found = self._tiers[code] = (tier, policy.rank(tier.code))
        return found

    def _upgrade(self, member: MemberBook, at: datetime, event_id: int) -> TierChanged | None:
        """The tier mechanic's decision (``tier.domain.after_earning``) on the book's credits in the window."""
        policy = self.program.tiers
        if policy is None:
            return None
        value = member.window_value(policy.window.start(at, self.program.zone), at)
        decision = after_earning(policy, member.tier_code, member.tier_grace_until, value)
        if decision.ends_grace:
            member.tier_grace_until = None
            member.is_changed = True
        if decision.upgrade_to is None:
            return None
        effect = tier_changed(
            policy,
            program_id=self.version.program_id,
            member_id=member.id,
            from_tier=member.tier_code,
            to_tier=decision.upgrade_to,
            reason="upgrade",
            at=at,
        )
        self.rows.tier_changes.append(self._tier_change(member, decision.upgrade_to, "upgrade", at, event_id))
        member.tier_code, member.tier_since, member.tier_grace_until = decision.upgrade_to, at, None
        member.is_changed = True
        return effect

    # --- the end of a batch ----------------------------------------------------------------------------------------

    def finish(self) -> Rows:
        """The rows to write: new rows as collected, plus the changes to lots and members that already existed."""
        for member in self.members.values():
            for lot in member.lots:
                if lot.is_new:
                    row = self._lot_rows[lot.id]
                    row["remaining"], row["is_pending"] = lot.remaining, lot.is_pending
                elif lot.is_changed:
                    self.rows.lot_updates.append(
                        {"lot_id": lot.id, "remaining": lot.remaining, "is_pending": lot.is_pending}
                    )
            if member.is_new and member.id in self._member_rows:
                row = self._member_rows[member.id]
                row["tier_code"], row["tier_since"] = member.tier_code, member.tier_since
                row["tier_grace_until"] = member.tier_grace_until
            elif member.is_changed:
                self.rows.member_updates.append(
                    {
                        "member_id": member.id,
                        "tier_code": member.tier_code,
                        "tier_since": member.tier_since,
                        "tier_grace_until": member.tier_grace_until,
                    }
                )
        return self.rows
