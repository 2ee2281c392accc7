"""``punchcard demo``: recreate the database, apply the demo program and play a year of sample activity through it.

Every operation goes through the same service functions the API uses (enrolment, events, reward and coupon
redemption), with ``now`` set to the simulated moment, so the ledger, lots, tiers and coupons are exactly what the
engine would have produced had the shop sent them live. The scheduled jobs run at every month's end in the program's
time zone, and once more at the real now, so expiries and tier reviews happen as they would have. Each purchase
schedules its survey invitation as the outbox's survey scheduler would have; the month-end jobs send the invitations
due, and some members answer them at once (``sample.survey_answer``). Today's invitations stay open: their mails are
in the demo's mail catcher.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.auth.service import Scope, create_key
from punchcard.cause import service as causes
from punchcard.challenge import service as challenges
from punchcard.consumers import consumers
from punchcard.coupon import service as coupons
from punchcard.coupon.domain import Order
from punchcard.demo import coalition as partner
from punchcard.demo import passes as wallet_passes
from punchcard.demo import sample
from punchcard.demo.memberships import MembershipMove
from punchcard.demo.sample import (
    ChallengeJoin,
    Enrolment,
    Item,
    Operation,
    Purchase,
    RedemptionWish,
    Refund,
    Review,
)
from punchcard.event import service as events
from punchcard.event.schemas import EventIn
from punchcard.jobs import service as jobs
from punchcard.kit.calendar import add_months, local_date, start_of_local_day
from punchcard.kit.clock import FixedClock, utc_now
from punchcard.kit.db import get_engine, session_factory, unit_of_work
from punchcard.kit.errors import PunchcardError
from punchcard.kit.idempotency import request_hash
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings
from punchcard.ledger import service as ledger_queries
from punchcard.member import service as member_service
from punchcard.member.service import Profile
from punchcard.outbox.dispatcher import Dispatcher
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.referral import service as referrals
from punchcard.reward import service as rewards
from punchcard.rules.domain import Line
from punchcard.staff import service as staff
from punchcard.staff.domain import Role
from punchcard.survey import service as surveys
from punchcard.wallet import credit
from punchcard.wallet.operations import Asked
from punchcard.webhook import service as webhooks

PROGRAM_FILE = Path(__file__).resolve().parents[3] / "examples" / "demo" / "program.yaml"
DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD = "demo@example.com", "punchcard-demo"
"""The demo's admin console login (an owner): printed by ``punchcard demo``, fine for a throwaway local database."""
OPERATIONS_PER_TRANSACTION = 50
JOB_DAYS = (1, 7, 13, 19, 25)
"""Operations share a transaction in small batches (each still through its own service call), so that loading the
sample is not dominated by SQLite's fsync on every commit; a month's end always closes a batch before the jobs run."""


@dataclass(frozen=True)
class DemoResult:
    slug: str
    members: int
    events: int
    admin_key: str
    integration_key: str
    sample_member: str
    staff_email: str
    staff_password: str


def build(
    url: str,
    database_path: Path | None,
    echo: Callable[[str], Any] = print,
    *,
    members: int | None = None,
    now: datetime | None = None,
    seed: int = sample.SEED,
) -> DemoResult:
    """Recreate the demo database at ``url`` and load the sample; returns what the CLI prints.

    ``database_path`` is the SQLite file behind ``url``: it is deleted first (with its ``-wal`` and ``-shm``
    files). Without it, ``url`` must point at an empty database. ``now`` defaults to the wall clock; the sample's year
    ends at the start of that day (UTC), so the demo always looks current.
    """
    now = now or utc_now()
    anchor = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    count = sample.DEFAULT_MEMBERS if members is None else members
    if not PROGRAM_FILE.is_file():
        raise FileNotFoundError(
            f"the demo program file {PROGRAM_FILE} is missing; `punchcard demo` runs from a checkout of the repository"
        )
    if database_path is not None:
        echo(f"Creating a fresh demo database at {database_path}")
        _delete_sqlite(url, database_path)
    engine = get_engine(url)
    upgrade(engine)

    the_sample = sample.generate(anchor, count, seed)
    started = the_sample.operations[0].at - timedelta(days=1) if the_sample.operations else anchor
    program_file, text, source_format = programs.read_file(PROGRAM_FILE)
    with unit_of_work(engine) as session:
        programs.apply(session, program_file, text, source_format, started)
        program_id = programs.program_id_for(session, program_file.slug)
    echo(f"Applied {PROGRAM_FILE.name} as program '{program_file.slug}'")

    echo(
        f"Playing {len(the_sample.people)} members' activity from {started.date().isoformat()} to "
        f"{anchor.date().isoformat()} "
        f"({len(the_sample.operations)} operations) through the services..."
    )
    clock = time.monotonic()
    player = _Player(engine, program_id, seed)
    player.play(the_sample.operations, now)
    stats = player.stats
    echo(
        f"  {stats['purchase']} orders, {stats['refund']} refunds, {stats['review']} reviews, "
        f"{stats['redemption']} rewards redeemed, {stats['coupon_used']} coupons used, "
        f"{stats['survey_answer']} survey answers, "
        f"{player.expired_unused(now)} coupons expired unused, {player.lots_expired} point lots expired "
        f"({time.monotonic() - clock:.1f} s)"
    )

    with unit_of_work(engine) as session:
        _goodwill(session, program_id, now)
    echo(partner.build(engine, the_sample.people, sample.SAMPLE_MEMBER, started, now, seed))

    # The history goes to the outbox's consumers now (the activity log; mail only for the last days' events), so that
    # a webhook subscribed afterwards hears what happens from now on, not a year at once.
    Dispatcher(session_factory(engine), consumers(Settings(database_url=url)), FixedClock(now)).drain()
    with unit_of_work(engine) as session:
        tiers = member_service.by_tier(session, program_id)
        admin_key = create_key(session, program_id, Scope.ADMIN, now)
        integration_key = create_key(session, program_id, Scope.INTEGRATION, now)
        staff.create(session, DEMO_STAFF_EMAIL, Role.OWNER, now, actor_id=None, password=DEMO_STAFF_PASSWORD)
        wallet_passes.configure(session, program_id, now)  # the card page offers both wallets
    echo("  members by tier: " + ", ".join(f"{tiers.get(code, 0)} {code}" for code in ("bronze", "silver", "gold")))
    echo(f"Integration API key (for a shop): {integration_key}")
    return DemoResult(
        slug=program_file.slug,
        members=len(the_sample.people),
        events=stats["event"],
        admin_key=admin_key,
        integration_key=integration_key,
        sample_member=sample.SAMPLE_MEMBER,
        staff_email=DEMO_STAFF_EMAIL,
        staff_password=DEMO_STAFF_PASSWORD,
    )


GOODWILL = 500
"""The store credit the shop gave the sample member for a late delivery (minor units), so the portal's wallet shows
money as well as points."""
DONATED = 150
"""The points the sample member gave to the demo's cause."""


def _goodwill(session: Session, program_id: int, now: datetime) -> None:
    version = programs.current(session, program_id)
    member = member_service.get(session, program_id, sample.SAMPLE_MEMBER)
    movement = credit.Movement(GOODWILL, reason="Sorry about the late delivery")
    asked = Asked.of("store_credit.grant", "demo-goodwill", {"member": member.external_id, "amount": GOODWILL})
    credit.grant(session, version.wallet_terms, member, asked, movement, now - timedelta(days=3))
    # ...and she gave some of her points to the Baltic Sea, which the shop matched.
    causes.donate(
        session,
        version.cause_terms,
        member,
        "baltic-sea",
        DONATED,
        key="demo-baltic-sea",
        digest="demo",
        source="portal",
        now=now - timedelta(days=2),
    )


def subscribe_receiver(url: str, slug: str, receiver_url: str) -> str:
    """Subscribe the demo's own webhook receiver to every event of the program, after the history was handed on
    (``build``), so it hears what happens from now; returns the webhook's secret."""
    engine = get_engine(url)
    with unit_of_work(engine) as session:
        program_id = programs.program_id_for(session, slug)
        endpoint = webhooks.create(
            session, program_id, receiver_url, ["*"], "the demo's receiver", utc_now(), allow_private=True
        )
        return endpoint.secret


def _delete_sqlite(url: str, path: Path) -> None:
    get_engine(url).dispose()  # pooled connections would keep writing to the deleted file
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@dataclass
class _Held:
    code: str
    reward: str
    expires_at: datetime


@dataclass
class _Player:
    """Plays operations oldest first; remembers the coupons each member holds, as a shop's checkout would."""

    engine: Engine
    program_id: int
    seed: int
    held: dict[str, list[_Held]] = field(default_factory=dict)
    extra_items: dict[str, list[Item]] = field(default_factory=dict)
    """Lines the checkout added to a sample order (the free drink a coupon pays for), and the order's own lines."""
    sample_items: dict[str, tuple[Item, ...]] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)
    lots_expired: int = 0

    def play(self, operations: tuple[Operation, ...], now: datetime) -> None:
        runs = self._job_runs(operations, now)
        batch: list[Operation] = []
        for operation in operations:
            while runs and runs[0] <= operation.at:
                self._run(batch)
                batch = []
                self._jobs(runs.pop(0))
            batch.append(operation)
            if len(batch) >= OPERATIONS_PER_TRANSACTION:
                self._run(batch)
                batch = []
        self._run(batch)
        for run in runs:
            self._jobs(run)
        self._jobs(now, answer=False)

    def expired_unused(self, now: datetime) -> int:
        return sum(1 for coupons_held in self.held.values() for held in coupons_held if held.expires_at <= now)

    def _job_runs(self, operations: tuple[Operation, ...], now: datetime) -> list[datetime]:
        """When the sample's scheduled jobs run: at the start of days ``JOB_DAYS`` of each month, so that no run is
        more than 7 days after the last and a birthday's gift is caught up (``birthday.catch_up_days``)."""
        with unit_of_work(self.engine) as session:
            zone = programs.current(session, self.program_id).program.zone
        if not operations:
            return []
        month = local_date(operations[0].at, zone).replace(day=1)
        runs: list[datetime] = []
        while start_of_local_day(month, zone) < now:
            days = (start_of_local_day(month.replace(day=day), zone) for day in JOB_DAYS)
            runs += [moment for moment in days if operations[0].at < moment < now]
            month = add_months(month, 1)
        return runs

    def _jobs(self, at: datetime, *, answer: bool = True) -> None:
        report = jobs.run(self.engine, at=at, now=at)
        self.lots_expired += report.lots_expired
        if answer:
            self._answer_surveys(at)

    def _answer_surveys(self, at: datetime) -> None:
        """Some members answer the invitations the jobs just sent, in their language."""
        with unit_of_work(self.engine) as session:
            version = programs.current(session, self.program_id)
            for invitation in surveys.sent_at(session, version.program, self.program_id, at):
                member = member_service.by_id(session, self.program_id, invitation.row.member_id)
                language = (member.language if member else None) or version.program.language
                found = sample.survey_answer(self.seed, invitation.row.id, language)
                if found is not None:
                    surveys.answer(session, version, invitation, found[0], found[1], language, at)
                    self.stats["survey_answer"] += 1

    def _run(self, batch: list[Operation]) -> None:
        if not batch:
            return
        with unit_of_work(self.engine) as session:
            version = programs.current(session, self.program_id)
            for operation in batch:
                self._one(session, version, operation)

    def _one(self, session: Session, version: ProgramVersion, operation: Operation) -> None:
        if isinstance(operation, Enrolment):
            self._enrol(session, version, operation)
        elif isinstance(operation, ChallengeJoin):
            member = member_service.get(session, self.program_id, operation.member)
            explorer = version.program.challenge(operation.challenge)
            assert explorer is not None, f"the demo program has no challenge {operation.challenge!r}"
            challenges.join(session, self.program_id, member, explorer, version.program.zone, operation.at)
            self.stats["challenge_join"] += 1
        elif isinstance(operation, MembershipMove):
            data: dict[str, Any] = {
                "id": operation.event_id,
                "type": operation.type,
                "member_external_id": operation.member,
                "occurred_at": operation.at.isoformat(),
                "attributes": dict(operation.attributes),
            }
            if operation.amount is not None:
                data |= {"amount": str(operation.amount), "currency": version.program.currency}
            self._event(session, version, data, operation.at)
            self.stats["membership"] += 1
        elif isinstance(operation, Purchase):
            self._purchase(session, version, operation)
        elif isinstance(operation, Refund):
            self._refund(session, version, operation)
        elif isinstance(operation, Review):
            self._event(
                session,
                version,
                {
                    "id": operation.event_id,
                    "type": "review_submitted",
                    "member_external_id": operation.member,
                    "occurred_at": operation.at.isoformat(),
                    "attributes": {"sku": operation.sku, "rating": operation.rating},
                },
                operation.at,
            )
            self.stats["review"] += 1
        else:
            self._wish(session, version, operation)

    def _enrol(self, session: Session, version: ProgramVersion, enrolment: Enrolment) -> None:
        """Enrol the person; one a member invited joins with that member's referral code, as from their link."""
        person = enrolment.person
        profile = Profile(person.email, person.name, person.birth_date, person.language, person.marketing_consent)
        attributes: dict[str, object] = {}
        if enrolment.invited_by is not None:
            inviter = member_service.get(session, self.program_id, enrolment.invited_by)
            attributes["referred_by"] = referrals.code_for(session, self.program_id, inviter.id, enrolment.at)
            self.stats["referred"] += 1
        events.enrol(
            session, version, person.external_id, profile, enrolment.at, enrolment.at, attributes=attributes or None
        )
        self.stats["enrolment"] += 1

    def _event(self, session: Session, version: ProgramVersion, data: dict[str, Any], at: datetime) -> None:
        body = EventIn.model_validate(data)
        events.record(session, version, body, request_hash(body.model_dump(mode="json")), at)
        self.stats["event"] += 1

    def _purchase(self, session: Session, version: ProgramVersion, purchase: Purchase) -> None:
        items = list(purchase.items)
        currency = version.program.currency
        if purchase.coupon_roll < sample.COUPON_USE_CHANCE:
            items = self._use_coupon(session, version, purchase, items)
        self._event(
            session,
            version,
            {
                "id": f"order-{purchase.order_id}",
                "type": "purchase",
                "member_external_id": purchase.member,
                "occurred_at": purchase.at.isoformat(),
                "order_id": purchase.order_id,
                "currency": currency,
                "lines": [
                    {
                        "sku": item.sku,
                        "category": item.category,
                        "quantity": str(item.quantity),
                        "unit_price": str(item.unit_price),
                    }
                    for item in items
                ],
                "shipping": str(purchase.shipping),
            },
            purchase.at,
        )
        member_id = member_service.get(session, self.program_id, purchase.member).id
        surveys.schedule(
            session, version.program, self.program_id, member_id, purchase.order_id, purchase.at, purchase.at
        )
        self.stats["purchase"] += 1

    def _use_coupon(
        self, session: Session, version: ProgramVersion, purchase: Purchase, items: list[Item]
    ) -> list[Item]:
        """At checkout the shop validates the member's oldest coupon that applies and redeems it for the order."""
        for held in list(self.held.get(purchase.member, [])):
            if held.expires_at <= purchase.at:
                continue
            basket = [*items, self._free_drink()] if held.reward == "free-drink" else items
            order = Order(
                total=sum((i.unit_price * i.quantity for i in basket), Decimal(0)),
                currency=version.program.currency,
                shipping=purchase.shipping,
                lines=tuple(Line(i.sku, i.category, Decimal(i.quantity), i.unit_price) for i in basket),
            )
            coupon = coupons.get(session, self.program_id, held.code, lock=True)
            verdict = coupons.validate(
                session, coupon, order, currency=version.program.currency, order_id=purchase.order_id, now=purchase.at
            )
            if not verdict.is_valid or verdict.discount <= 0:
                continue
            coupons.redeem(session, coupon, purchase.order_id, purchase.at)
            self.held[purchase.member].remove(held)
            self.stats["coupon_used"] += 1
            if basket is not items:
                self.extra_items[purchase.order_id] = [self._free_drink()]
                self.sample_items[purchase.order_id] = purchase.items
            return basket
        return items

    @staticmethod
    def _free_drink() -> Item:
        drink = sample.FREE_DRINK
        return Item(drink.sku, drink.category, 1, drink.price)

    def _refund(self, session: Session, version: ProgramVersion, refund: Refund) -> None:
        data: dict[str, Any] = {
            "id": refund.event_id,
            "type": "refund",
            "member_external_id": refund.member,
            "occurred_at": refund.at.isoformat(),
            "order_id": refund.order_id,
            "currency": version.program.currency,
        }
        if refund.items is not None:
            lines = [{"sku": sku, "quantity": str(quantity)} for sku, quantity in refund.items]
            if refund.order_id in self.extra_items and self._is_whole_order(refund):
                lines += [{"sku": i.sku, "quantity": str(i.quantity)} for i in self.extra_items[refund.order_id]]
            data["refund_lines"] = lines
        else:
            data["amount"] = str(refund.amount)
        self._event(session, version, data, refund.at)
        self.stats["refund"] += 1

    def _is_whole_order(self, refund: Refund) -> bool:
        given_back = dict(refund.items or ())
        return all(given_back.get(item.sku, 0) >= item.quantity for item in self.sample_items[refund.order_id])

    def _wish(self, session: Session, version: ProgramVersion, wish: RedemptionWish) -> None:
        """Redeem the first wished-for reward the member can have now, unless they already hold two coupons."""
        holding = [held for held in self.held.get(wish.member, []) if held.expires_at > wish.at]
        if len(holding) >= 2:
            return
        program = version.program
        catalogue = rewards.Catalogue(version.program_id, version.version, program.rewards, program.tiers, program.zone)
        member = member_service.get(session, self.program_id, wish.member)
        available = ledger_queries.balances(session, member.id).available
        for code in wish.rewards:
            if rewards.obstacle_for(session, program.tiers, member, catalogue.reward(code), wish.at, available):
                continue
            try:
                with session.begin_nested():
                    outcome = rewards.redeem(
                        session, catalogue, member, code, wish.key, request_hash({"reward": code}), wish.at
                    )
            except PunchcardError:
                continue  # e.g. points that expired just now: the member changes their mind
            coupon = outcome.body["coupon"]
            self.held.setdefault(wish.member, []).append(
                _Held(coupon["code"], code, datetime.fromisoformat(coupon["expires_at"]))
            )
            self.stats["redemption"] += 1
            return
