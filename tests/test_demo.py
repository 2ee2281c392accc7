"""The demo set-up: `punchcard demo` loads a deterministic, current year of activity through the real services."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from punchcard.api.app import create_app
from punchcard.cause import service as causes
from punchcard.celebration.models import CelebrationGift
from punchcard.challenge.models import BadgeAward, ChallengeProgress
from punchcard.cli.main import app as cli
from punchcard.coalition import service as coalitions
from punchcard.coupon.models import Coupon, CouponUse
from punchcard.demo import sample, setup
from punchcard.event.models import Event, Order
from punchcard.kit.db import get_engine
from punchcard.kit.settings import Settings
from punchcard.ledger import money
from punchcard.ledger import repository as ledger_queries
from punchcard.ledger.domain import Account, EntryKind
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.ledger.verify import verify
from punchcard.mailing.models import MemberMail
from punchcard.member.models import Member
from punchcard.membership.models import MembershipChange, MembershipRow
from punchcard.program import service as programs
from punchcard.program.models import ProgramRow
from punchcard.referral.models import Referral
from punchcard.reward.models import Redemption
from punchcard.survey.models import SurveyInvitation
from punchcard.tier.models import TierChange
from punchcard.wallet.models import GiftCard

NOW = datetime(2026, 3, 14, 15, 30, tzinfo=UTC)
ANCHOR = datetime(2026, 3, 14, tzinfo=UTC)
ROASTER = select(ProgramRow.id).where(ProgramRow.slug == "bean-there").scalar_subquery()
"""The demo program's id; the partner brand's members and orders are counted apart."""
MEMBERS = 60  # the default is 300; a smaller sample keeps these tests quick and has every kind of activity


@dataclass(frozen=True)
class Built:
    result: setup.DemoResult
    engine: Engine
    progress: list[str]


def _build(path: Path) -> Built:
    progress: list[str] = []
    url = f"sqlite:///{path}"
    result = setup.build(url, path, echo=progress.append, members=MEMBERS, now=NOW)
    return Built(result, get_engine(url), progress)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("demo") / "demo.db")


def _count(engine: Engine, statement: Select[int]) -> int:
    with Session(engine) as session:
        return int(session.execute(statement).scalar_one())


def _snapshot(engine: Engine) -> dict[str, tuple[object, ...]]:
    """Per member: balances, tier, and the ledger as (account, kind, amount, occurred_at) in order."""
    with Session(engine) as session:
        found: dict[str, tuple[object, ...]] = {}
        for member in session.execute(select(Member).order_by(Member.external_id)).scalars():
            balances = ledger_queries.balances(session, member.id)
            entries = session.execute(
                select(LedgerEntry.account, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.occurred_at)
                .where(LedgerEntry.member_id == member.id)
                .order_by(LedgerEntry.id)
            ).all()
            found[member.external_id] = (balances, member.tier_code, member.email, tuple(map(tuple, entries)))
        return found


# --- the sample itself (pure) -----------------------------------------------------------------------------------------


def test_the_default_sample_is_three_hundred_members_with_a_realistic_year() -> None:
    generated = sample.generate(ANCHOR)
    people, operations = generated.people, generated.operations
    kinds = Counter(type(operation).__name__ for operation in operations)

    assert len(people) == 300
    assert len({person.external_id for person in people}) == 300
    assert len({person.email for person in people}) == 300
    assert all(person.email.endswith("@example.com") for person in people)
    assert {person.language for person in people} == {"en", "et", "fi", "sv", "ru"}
    assert 0.5 <= sum(person.marketing_consent for person in people) / 300 <= 0.7
    assert all(ANCHOR - timedelta(days=456) < person.enrolled_at < ANCHOR for person in people)
    assert kinds["Enrolment"] == 300
    invited = [op for op in operations if isinstance(op, sample.Enrolment) and op.invited_by is not None]
    assert 0.08 <= len(invited) / 300 <= 0.16
    assert kinds["ChallengeJoin"] > 30
    assert 0.03 <= kinds["Refund"] / kinds["Purchase"] <= 0.08
    assert kinds["Review"] > 0
    assert kinds["RedemptionWish"] > 0
    assert [op.at for op in operations] == sorted(op.at for op in operations)
    assert all(op.at < ANCHOR for op in operations)


def test_every_member_enrols_before_doing_anything_else() -> None:
    first_seen: dict[str, str] = {}
    for operation in sample.generate(ANCHOR).operations:
        member = operation.person.external_id if isinstance(operation, sample.Enrolment) else operation.member
        first_seen.setdefault(member, type(operation).__name__)

    assert set(first_seen.values()) == {"Enrolment"}


def test_the_same_anchor_and_seed_give_the_same_sample() -> None:
    assert sample.generate(ANCHOR, 120) == sample.generate(ANCHOR, 120)
    assert sample.generate(ANCHOR, 120, seed=1) != sample.generate(ANCHOR, 120)


def test_the_sample_ends_at_its_anchor_so_the_demo_looks_current() -> None:
    later = ANCHOR + timedelta(days=100)

    moved = sample.generate(later, 50)

    assert moved.people[0].enrolled_at == sample.generate(ANCHOR, 50).people[0].enrolled_at + timedelta(days=100)
    assert max(op.at for op in moved.operations) > later - timedelta(days=7)


# --- the built demo database ------------------------------------------------------------------------------------------


def test_the_demo_program_is_applied_as_its_first_version(built: Built) -> None:
    with Session(built.engine) as session:
        row = session.execute(select(ProgramRow).order_by(ProgramRow.id).limit(1)).scalar_one()
        program = programs.current(session, row.id).program

    assert built.result.slug == row.slug == "bean-there"
    assert row.current_version == 1
    assert program.currency == "EUR"
    assert [reward.code for reward in program.rewards] == [
        "five-euro-off",
        "free-drink",
        "free-shipping",
        "seasonal-beans",
    ]


def test_the_demo_has_the_requested_members_with_their_profiles(built: Built) -> None:
    with Session(built.engine) as session:
        members = session.execute(select(Member).where(Member.program_id == ROASTER)).scalars().all()

    assert built.result.members == len(members) == MEMBERS
    assert all(member.email and member.email.endswith("@example.com") for member in members)
    assert all(member.name and member.language in {"en", "et", "fi", "sv", "ru"} for member in members)
    assert all(member.tier_code in {"bronze", "silver", "gold"} for member in members)


def test_the_year_has_orders_refunds_reviews_redemptions_expiries_and_tier_changes(built: Built) -> None:
    engine = built.engine
    with Session(engine) as session:
        events = Counter(
            {
                kind: int(n)
                for kind, n in session.execute(
                    select(Event.type, func.count()).where(Event.program_id == ROASTER).group_by(Event.type)
                )
            }
        )
        fractions = {Decimal(f) for f in session.execute(select(Order.refunded_fraction)).scalars()}
        unused_expired = session.execute(
            select(func.count())
            .select_from(Coupon)
            .outerjoin(CouponUse, CouponUse.coupon_id == Coupon.id)
            .where(CouponUse.id.is_(None), Coupon.expires_at <= NOW)
        ).scalar_one()

    assert built.result.events == sum(events.values())
    assert events["purchase"] > 5 * MEMBERS // 2
    assert events["refund"] > 0
    assert events["review_submitted"] > 0
    assert Decimal(1) in fractions  # a full refund
    assert any(Decimal(0) < fraction < 1 for fraction in fractions)  # and a partial one
    assert _count(engine, select(func.count()).select_from(Redemption)) > 0
    assert _count(engine, select(func.count()).select_from(CouponUse)) > 0
    assert unused_expired > 0
    members_legs = LedgerEntry.member_id.is_not(None)
    assert _count(engine, select(func.count()).where(members_legs, LedgerEntry.kind == EntryKind.EXPIRE.value)) > 0
    assert _count(engine, select(func.count()).where(members_legs, LedgerEntry.kind == EntryKind.REVERSE.value)) > 0
    assert _count(engine, select(func.count()).where(TierChange.reason == "upgrade")) > 0
    assert _count(engine, select(func.count()).where(Member.tier_code != "bronze")) > 0


def test_the_year_has_referrals_challenges_streaks_and_birthday_gifts(built: Built) -> None:
    engine = built.engine
    referrals = _count(engine, select(func.count()).select_from(Referral))
    paid = _count(engine, select(func.count()).where(Referral.status == "paid"))
    regulars = _count(engine, select(func.count()).where(BadgeAward.badge == "regular"))
    birthdays = _count(engine, select(func.count()).where(CelebrationGift.occasion == "birthday"))

    assert referrals > 0
    assert paid > 0
    assert regulars > 0  # three months in a row with an order
    assert birthdays > 0
    assert _count(engine, select(func.count()).where(ChallengeProgress.code == "explorer")) > 0


def test_the_year_has_bean_club_members_in_every_state_and_anna_among_them(built: Built) -> None:
    engine = built.engine
    with Session(engine) as session:
        changes = Counter(session.execute(select(MembershipChange.kind)).scalars())
        anna = session.execute(select(Member).where(Member.external_id == "demo-anna")).scalar_one()
        hers = session.execute(select(MembershipRow).where(MembershipRow.member_id == anna.id)).scalar_one()
    assert changes["membership.started"] > 10
    assert changes["membership.renewed"] > changes["membership.started"]  # months paid, trials converted
    assert changes["membership.payment_failed"] > 0
    assert changes["membership.cancelled"] > 0
    assert (hers.plan, hers.period, hers.status) == ("bean-club", "year", "active")
    bonus = _count(engine, select(func.count()).where(LedgerEntry.rule_code == "plan:bean-club"))
    assert bonus > 0  # members of the club earned twice


def test_the_year_has_gift_cards_sold_gold_cashback_on_merch_and_store_credit_for_anna(built: Built) -> None:
    engine = built.engine
    with Session(engine) as session:
        sold = session.execute(select(GiftCard.amount_minor).where(GiftCard.source == "sale")).scalars().all()
        cashback = session.execute(
            select(func.count()).where(
                LedgerEntry.kind == "earn", LedgerEntry.account.in_(["store_credit", "pending_store_credit"])
            )
        ).scalar_one()
        anna = session.execute(select(Member).where(Member.external_id == "demo-anna")).scalar_one()
        hers = money.credit(session, anna.id)
        assert verify(session).is_balanced
    assert set(sold) == {2500, 5000}  # GIFT-25 and GIFT-50, a card per unit sold
    assert cashback > 0  # gold members bought merch
    assert hers.available >= 500  # the shop's goodwill for a late delivery


def test_anna_gave_to_the_baltic_sea_and_the_shop_matched_it(built: Built) -> None:
    with Session(built.engine) as session:
        anna = session.execute(select(Member).where(Member.external_id == "demo-anna")).scalar_one()
        given = causes.member_given(session, anna.id)
    assert given == {"baltic-sea": (150, 150)}


def test_anna_linked_her_tea_house_account_and_the_roaster_owes_the_tea_house_for_what_moved(built: Built) -> None:
    with Session(built.engine) as session:
        coalition = coalitions.coalition(session, "bean-and-leaf")
        anna = session.execute(select(Member).where(Member.external_id == "demo-anna")).scalar_one()
        accounts = coalitions.accounts(session, coalition, anna.id)
        moved = coalitions.movements(session, coalition, anna.id)
        settled = coalitions.settlement(session, coalition, None, None)
        assert verify(session).is_balanced
    assert [brand.slug for brand in coalition.brands] == ["bean-there", "leaf-and-cup"]
    assert [account.brand.slug for account in accounts] == ["bean-there", "leaf-and-cup"]
    assert {movement.reason for movement in moved} == {"transfer", "reward"}
    units = {(flow.sender, flow.receiver): flow.units for flow in settled.flows}
    owed = units[("bean-there", "leaf-and-cup")] - units.get(("leaf-and-cup", "bean-there"), 0)
    assert [(line.debtor, line.creditor, line.value_minor) for line in settled.owed] == [
        ("bean-there", "leaf-and-cup", owed)  # a unit is a cent
    ]
    assert any("'leaf-and-cup'" in line for line in built.progress)


def test_every_balance_is_what_its_entries_add_up_to_and_no_lot_is_negative(built: Built) -> None:
    with Session(built.engine) as session:
        points = LedgerEntry.account == Account.POINTS.value
        by_lot = {
            lot_id: int(total)
            for lot_id, total in session.execute(
                select(LedgerEntry.lot_id, func.sum(LedgerEntry.amount)).where(points).group_by(LedgerEntry.lot_id)
            )
        }
        lots = [
            (lot_id, member_id, left)
            for lot_id, member_id, left in session.execute(select(Lot.id, Lot.member_id, Lot.remaining))
        ]
        lot_less = {
            member_id: int(total)
            for member_id, total in session.execute(
                select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
                .where(points, LedgerEntry.lot_id.is_(None))
                .group_by(LedgerEntry.member_id)
            )
        }
        remaining: Counter[int] = Counter()
        for _, member_id, left in lots:
            remaining[member_id] += left
        members = session.execute(select(Member.id)).scalars().all()
        available = {member_id: ledger_queries.balances(session, member_id).available for member_id in members}

    assert lots
    assert all(left >= 0 for _, _, left in lots)
    assert all(left == by_lot[lot_id] for lot_id, _, left in lots)  # each lot's figure is its entries' sum
    assert all(available[m] == remaining[m] + lot_less.get(m, 0) for m in members)  # lots plus debt


def test_anna_is_the_sample_member_a_silver_regular_with_a_refund_and_coupons(built: Built) -> None:
    with Session(built.engine) as session:
        anna = session.execute(select(Member).where(Member.external_id == "demo-anna")).scalar_one()
        refunded = session.execute(
            select(func.count()).where(Order.member_id == anna.id, Order.refunded_fraction != "0")
        ).scalar_one()
        coupons = session.execute(
            select(Coupon.reward_code, Coupon.expires_at, CouponUse.order_id)
            .outerjoin(CouponUse, CouponUse.coupon_id == Coupon.id)
            .where(Coupon.member_id == anna.id)
            .order_by(Coupon.id)
        ).all()

    assert built.result.sample_member == "demo-anna"
    assert (anna.name, anna.email, anna.language) == ("Anna Tamm", "anna@example.com", "et")
    assert anna.tier_code in {"silver", "gold"}
    assert refunded == 1
    used, held = coupons
    assert (used.reward_code, used.order_id is not None) == ("five-euro-off", True)
    assert (held.reward_code, held.order_id, held.expires_at > NOW) == ("free-drink", None, True)


def test_building_again_gives_every_member_the_same_history(built: Built, tmp_path: Path) -> None:
    again = _build(tmp_path / "again.db")

    assert again.result.events == built.result.events
    assert _snapshot(again.engine) == _snapshot(built.engine)


def test_rebuilding_in_place_starts_from_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    url = f"sqlite:///{path}"
    setup.build(url, path, echo=lambda _: None, members=5, now=NOW)

    setup.build(url, path, echo=lambda _: None, members=5, now=NOW)

    assert _count(get_engine(url), select(func.count()).where(Member.program_id == ROASTER)) == 5
    assert _count(get_engine(url), select(func.count()).select_from(ProgramRow)) == 2  # and the partner brand


def test_a_missing_program_file_fails_before_the_database_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.db"
    path.write_bytes(b"not yet replaced")
    monkeypatch.setattr(setup, "PROGRAM_FILE", tmp_path / "examples" / "demo" / "program.yaml")

    with pytest.raises(FileNotFoundError, match=r"demo program file .* is missing"):
        setup.build(f"sqlite:///{path}", path, echo=lambda _: None, members=5, now=NOW)

    assert path.read_bytes() == b"not yet replaced"


def test_the_demo_command_prints_an_admin_key_that_works_and_the_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sample, "DEFAULT_MEMBERS", 20)
    monkeypatch.delenv("PUNCHCARD_DATABASE_URL", raising=False)  # the CLI sets it; restored after the test
    path = tmp_path / "cli-demo.db"

    outcome = CliRunner().invoke(cli, ["demo", "--no-serve", "--database", str(path)])

    assert outcome.exit_code == 0, outcome.output
    lines = outcome.output.splitlines()
    key = lines[-1]
    assert lines[-2] == "Admin API key:"
    assert key.startswith("pc_adm_")
    assert "Demo program 'bean-there': 20 members" in outcome.output
    assert "http://127.0.0.1:8000/docs" in outcome.output
    assert f"Bearer {key}' http://127.0.0.1:8000/api/v1/members/demo-anna" in outcome.output
    with TestClient(create_app(Settings(fixed_now=NOW, database_url=f"sqlite:///{path}"))) as client:
        response = client.get("/api/v1/members/demo-anna", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    assert response.json()["tier"]["code"] == "silver"


def test_todays_moments_wait_as_mails_for_the_demos_catcher(built: Built) -> None:
    """The demo's final day: Kai joined yesterday and moved up to Silver, Anna's first points expire within the week
    and it is her birthday, and recent buyers are asked how it went; each is a mail queued for the catcher."""
    with Session(built.engine) as session:
        kinds = set(session.execute(select(MemberMail.kind).where(MemberMail.status == "queued")).scalars())
        kai = session.execute(select(Member).where(Member.external_id == "demo-kai")).scalar_one()
    assert {"welcome", "points_earned", "tier_up", "points_expiring", "birthday", "survey_invitation"} <= kinds
    assert kai.tier_code == "silver"


def test_the_year_has_nps_answers_with_words_in_the_members_languages(built: Built) -> None:
    with Session(built.engine) as session:
        answers = session.execute(
            select(SurveyInvitation.score, SurveyInvitation.comment).where(SurveyInvitation.status == "answered")
        ).all()
    assert len(answers) >= 20
    scores = {score for score, _ in answers}
    assert scores & {9, 10}  # promoters
    assert scores & set(range(7))  # and detractors
    assert any(comment for _, comment in answers)
