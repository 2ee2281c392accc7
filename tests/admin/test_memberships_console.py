"""The console's memberships page and the figures behind it (``membership.figures``): the plans in words, members by
plan and status as of now, monthly recurring revenue, and month by month starts, conversions, cancellations, ends,
paid churn and trial conversion, each checked exactly against a half year of memberships told through the API and
against the change log they left, before and after the jobs write time's changes down; and the arithmetic on its
own (rounding once, the months in the program's zone, who counts as churned)."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from tests.admin.conftest import Console, metric
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, run_jobs
from tests.membership.test_memberships_api import BEAN_CLUB, membership_event, start

from punchcard.i18n.text import Text
from punchcard.kit.db import unit_of_work
from punchcard.membership import figures
from punchcard.membership.domain import BillingPeriod, Membership, Perks, Plan, Status
from punchcard.membership.figures import Change, Held, MembershipFigures, MonthFigures, StatusCounts
from punchcard.membership.models import MembershipChange
from punchcard.program import service as programs
from punchcard.staff.domain import Role

ROASTER: dict[str, Any] = {
    "code": "roaster",
    "name": {"en": "Roaster's Circle"},
    "prices": {"month": "12.50"},
    "trial_days": 0,
    "grace_days": 3,
    "cancel_refund": "none",
    "perks": {"free_shipping": True, "early_access_hours": 48, "custom": ["tasting-evenings"]},
}
NOW = "2027-02-15T12:00:00+00:00"
"""The page is read in February 2027: its months are September 2026 to February 2027, in Tallinn."""
MONTHS = ("2026-09", "2026-10", "2026-11", "2026-12", "2027-01", "2027-02")


def at(moment: str) -> str:
    return f"{moment}:00+00:00"


def renew(api: ApiClient, member: str, moment: str, ref: str) -> None:
    membership_event(api, member, "membership_renewed", at(moment), attributes={"payment_ref": ref})


def cancel(api: ApiClient, member: str, moment: str, *, at_period_end: bool) -> None:
    attributes = {"at_period_end": at_period_end}
    membership_event(api, member, "membership_cancelled", at(moment), attributes=attributes)


@pytest.fixture
def club(make_program: ProgramMaker, clock: Clock) -> ApiClient:
    """Half a year of two plans, told through the API as it happened (times UTC; Tallinn is 2 or 3 hours ahead), while
    no job ran, with the clock at NOW:

    - eve: a Bean Club trial from 20 August, paid from 3 September, renewed to 3 January, then never paid: lapsed
      10 January (after the 7 days' grace);
    - ann: a yearly Bean Club trial on 10 September, paid on 24 September for the year: active;
    - bob: a trial on 15 September never paid: lapsed on 6 October; rejoined (paid, no second trial) on 30 November
      at 23:00 UTC, which is 1 December in Tallinn; renewed twice, cancelled at the period's end on 10 February;
    - cat: a trial on 5 October, paid on the 19th, renewed monthly, a payment failed on 12 February: past due;
    - fay: a yearly trial on 10 October, paid on the 24th, cancelled at once on 15 December;
    - gus: the Roaster's Circle (no trial) from 2 November, renewed monthly: active;
    - jon: a trial on 5 November, cancelled at once on the 8th;
    - hal: the Roaster's Circle from 20 November, renewed once, cancelled on 5 January at the period's end (20 January);
    - ivy: a trial on 10 December, cancelled at the period's end, so it ended with the trial on the 24th;
    - kim: a trial from 30 January that ended on 13 February unpaid: past due in its grace;
    - dan: a trial from 5 February: trialing.
    """
    api = make_program({"membership_plans": [BEAN_CLUB, ROASTER]})
    clock.set(NOW)
    for member in ("eve", "ann", "bob", "cat", "fay", "gus", "jon", "hal", "ivy", "kim", "dan"):
        api.member(member, enrolled_at=at("2026-08-01T09:00"))
    start(api, "eve", started_at=at("2026-08-20T10:00"))
    renew(api, "eve", "2026-09-03T10:00", "eve-1")
    start(api, "ann", period="year", started_at=at("2026-09-10T10:00"))
    start(api, "bob", started_at=at("2026-09-15T10:00"))
    renew(api, "ann", "2026-09-24T10:00", "ann-1")
    renew(api, "eve", "2026-10-02T10:00", "eve-2")
    start(api, "cat", started_at=at("2026-10-05T10:00"))
    start(api, "fay", period="year", started_at=at("2026-10-10T10:00"))
    renew(api, "cat", "2026-10-19T10:00", "cat-1")
    renew(api, "fay", "2026-10-24T10:00", "fay-1")
    start(api, "gus", plan="roaster", started_at=at("2026-11-02T10:00"))
    renew(api, "eve", "2026-11-02T10:00", "eve-3")
    start(api, "jon", started_at=at("2026-11-05T10:00"))
    cancel(api, "jon", "2026-11-08T10:00", at_period_end=False)
    renew(api, "cat", "2026-11-18T10:00", "cat-2")
    start(api, "hal", plan="roaster", started_at=at("2026-11-20T10:00"))
    start(api, "bob", payment_ref="bob-again", started_at=at("2026-11-30T23:00"))
    renew(api, "gus", "2026-12-01T10:00", "gus-1")
    renew(api, "eve", "2026-12-02T10:00", "eve-4")
    start(api, "ivy", started_at=at("2026-12-10T10:00"))
    cancel(api, "ivy", "2026-12-12T10:00", at_period_end=True)
    cancel(api, "fay", "2026-12-15T10:00", at_period_end=False)
    renew(api, "cat", "2026-12-18T10:00", "cat-3")
    renew(api, "hal", "2026-12-19T10:00", "hal-1")
    renew(api, "bob", "2026-12-30T10:00", "bob-1")
    renew(api, "gus", "2027-01-01T10:00", "gus-2")
    cancel(api, "hal", "2027-01-05T10:00", at_period_end=True)
    renew(api, "cat", "2027-01-18T10:00", "cat-4")
    renew(api, "bob", "2027-01-30T10:00", "bob-2")
    start(api, "kim", started_at=at("2027-01-30T10:00"))
    renew(api, "gus", "2027-02-01T10:00", "gus-3")
    start(api, "dan", started_at=at("2027-02-05T10:00"))
    cancel(api, "bob", "2027-02-10T10:00", at_period_end=True)
    membership_event(api, "cat", "membership_payment_failed", at("2027-02-12T10:00"))
    return api


# The figures the scenario makes, worked out by hand from the story above.
BY_PLAN = {
    "bean-club": StatusCounts(trialing=1, active=2, past_due=2, lapsed=1, cancelled=3, cancelling=1),
    # dan | ann, bob | cat, kim (a trial in its grace) | eve | fay, ivy, jon | bob
    "roaster": StatusCounts(active=1, cancelled=1),  # gus | hal
}
MONTH_ROWS = {
    # paying at start, trial starts, paid starts, conversions, cancellations, lapsed, ended cancelled, churned,
    # trials ended
    "2026-09": (0, 2, 0, 2, 0, 0, 0, 0, 0),  # eve was in her trial; ann and bob start; eve and ann convert
    "2026-10": (2, 2, 0, 2, 0, 1, 0, 0, 1),  # ann, eve | cat, fay start and convert | bob's trial lapses
    "2026-11": (4, 1, 2, 0, 1, 0, 1, 0, 1),  # + cat, fay | jon; gus, hal | jon cancels his trial at once
    "2026-12": (6, 1, 1, 0, 2, 0, 2, 1, 1),  # + gus, hal | ivy; bob | ivy (trial), fay cancel: fay churned
    "2027-01": (6, 1, 0, 0, 1, 1, 1, 2, 0),  # - fay + bob | kim | hal cancels | eve lapses, hal ends: both churned
    "2027-02": (4, 1, 0, 0, 1, 0, 0, 0, 0),  # ann, bob, cat, gus | dan | bob cancels at the period's end
}
SHOWN = {
    "2026-09": ("–", "100.0%"),
    "2026-10": ("0.0%", "66.7%"),
    "2026-11": ("0.0%", "0.0%"),
    "2026-12": ("16.7%", "0.0%"),
    "2027-01": ("33.3%", "–"),
    "2027-02": ("0.0%", "–"),
}
"""Paid churn and trial conversion as the page shows them."""


def figures_of(engine: Engine, api: ApiClient) -> MembershipFigures:
    with unit_of_work(engine) as session:
        program = programs.current(session, api.program_id).program
        return figures.figures(session, api.program_id, program.membership_terms, datetime.fromisoformat(NOW))


def counted(month: MonthFigures) -> tuple[int, ...]:
    return (
        month.paying_at_start,
        month.trial_starts,
        month.paid_starts,
        month.conversions,
        month.cancellations,
        month.ended_lapsed,
        month.ended_cancelled,
        month.churned,
        month.trials_ended,
    )


def changes_of(engine: Engine, api: ApiClient) -> list[MembershipChange]:
    with unit_of_work(engine) as session:
        query = select(MembershipChange).where(MembershipChange.program_id == api.program_id)
        return list(session.execute(query.order_by(MembershipChange.id)).scalars())


def assert_the_scenarios_figures(found: MembershipFigures) -> None:
    assert found.by_plan == BY_PLAN
    assert {month.first_day.strftime("%Y-%m"): counted(month) for month in found.months} == MONTH_ROWS
    revenue = found.revenue
    # ann pays 49.00 a year (408.333… cents a month), bob and cat 4.99 a month (cat within her grace); kim's trial
    # in its grace pays nothing; gus 12.50 a month
    assert [(plan.plan, dict(plan.paying), plan.recurring_minor) for plan in revenue.plans] == [
        ("bean-club", {BillingPeriod.MONTH: 2, BillingPeriod.YEAR: 1}, 1406),
        ("roaster", {BillingPeriod.MONTH: 1}, 1250),
    ]
    assert (revenue.recurring_minor, revenue.paying_members, revenue.cancelling_minor) == (2656, 4, 499)


def test_the_figures_are_those_of_the_memberships_told_and_the_jobs_change_none(
    club: ApiClient, engine: Engine
) -> None:
    # Before any job ran, the stored rows are behind: eve, hal and ivy's ends are not written down yet
    written = Counter(change.kind for change in changes_of(engine, club))
    assert written["membership.ended"] == 1  # bob's lapse, written when he rejoined
    assert_the_scenarios_figures(figures_of(engine, club))
    # When the jobs write time's changes down
    run_jobs(club, engine, NOW)
    # Then the log holds every change, and the figures are the same
    log = changes_of(engine, club)
    assert Counter(change.kind for change in log) == {
        "membership.started": 12,
        "membership.renewed": 16,
        "membership.payment_failed": 1,
        "membership.cancelled": 5,
        "membership.ended": 4,
    }
    found = figures_of(engine, club)
    assert_the_scenarios_figures(found)
    # And each month's counts add up to the log's rows of the six months (eve's start in August is before them)
    since = datetime(2026, 8, 31, 21, 0, tzinfo=UTC)  # 1 September in Tallinn
    shown = [change for change in log if change.occurred_at >= since]
    months = found.months
    assert sum(m.trial_starts + m.paid_starts for m in months) == sum(c.kind == "membership.started" for c in shown)
    assert sum(m.trial_starts for m in months) == sum(c.kind == "membership.started" and c.trial for c in shown)
    assert sum(m.conversions for m in months) == sum(c.converted for c in log) == 4
    assert sum(m.cancellations for m in months) == sum(c.kind == "membership.cancelled" for c in shown)
    at_once = [c for c in shown if c.kind == "membership.cancelled" and c.status == "cancelled"]
    assert sum(m.ended for m in months) == sum(c.kind == "membership.ended" for c in shown) + len(at_once) == 6
    assert sum(m.ended_lapsed for m in months) == sum(c.status == "lapsed" for c in shown) == 2
    # And the members by status are the rows as the jobs left them
    assert sum(counts.current + counts.ended for counts in found.by_plan.values()) == 11


def test_the_page_shows_the_plans_members_revenue_and_months(
    club: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"/admin/p/{club.slug}/memberships")
    text = html.unescape(re.sub(r"\s+", " ", page))
    assert "€4.99 a month or €49.00 a year" in text
    assert "14 days, free, once per member" in text
    assert "7 days after a failed or missing payment, with the perks" in text
    club_perks = re.search(r'data-plan="bean-club">.*?data-fact="perks">(.*?)</ul>', page, re.S)
    assert club_perks is not None
    assert [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", club_perks.group(1))] == [
        "×2 points on purchases, on top of the tier's",
        "free shipping",
        "10% off the categories coffee-beans",
        "a coupon for the reward “A free drink” (free-drink) each month",
    ]
    assert "member-only offers 48 hours before others" in text
    assert "tasting-evenings (the shop's own perk)" in text
    assert "none: the first period is paid" in text
    assert (metric(page, "mrr"), metric(page, "paying"), metric(page, "mrr-cancelling")) == ("€26.56", "4", "€4.99")
    assert (metric(page, "mrr-bean-club"), metric(page, "mrr-roaster")) == ("€14.06", "€12.50")
    paying = [metric(page, name) for name in ("paying-bean-club-month", "paying-bean-club-year", "paying-roaster")]
    assert paying == ["2", "1", "1"]
    assert metric(page, "paying-roaster-year") == "not sold"
    statuses = ("trialing", "active", "past-due", "current", "cancelling", "lapsed", "cancelled")
    assert [metric(page, f"bean-club-{name}") for name in statuses] == ["1", "2", "2", "5", "1", "1", "3"]
    assert [metric(page, f"roaster-{name}") for name in statuses] == ["0", "1", "0", "1", "0", "0", "1"]
    assert metric(page, "current") == "6"
    names = (
        "paying-at-start",
        "trial-starts",
        "paid-starts",
        "conversions",
        "cancellations",
        "lapsed",
        "ended-cancelled",
        "churned",
    )
    for month, row in MONTH_ROWS.items():
        assert [metric(page, f"{month}-{name}") for name in names] == [str(value) for value in row[:8]], month
        assert (metric(page, f"{month}-churn"), metric(page, f"{month}-trial-conversion")) == SHOWN[month]
        finished = row[3] + row[8]
        assert metric(page, f"{month}-trials-finished") == str(finished)
    assert "February 2027<br> (to date)" in page
    assert "Paid churn = churned ÷ paying at start." in text
    assert '<caption id="months-caption">' in page
    assert '<th scope="row">September 2026</th>' in page


def test_a_program_without_plans_says_how_to_add_them(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    api = make_program()
    base = f"/admin/p/{api.slug}"
    marketer = signed_in(Role.MARKETER)
    page = marketer.page(f"{base}/memberships")
    assert "This program sells no paid memberships: its program file has no <code>membership_plans</code>." in page
    assert (
        f'<a href="{base}/program/edit#file-heading">Add <code>membership_plans</code> in the program file</a>' in page
    )
    assert 'data-metric="mrr"' not in page
    assert f'href="{base}/memberships"' not in marketer.page(f"{base}/dashboard")
    viewer_page = signed_in(Role.VIEWER).page(f"{base}/memberships")
    assert f"{base}/program/edit" not in viewer_page
    assert "Staff who may edit the program can add it in the program file." in viewer_page


def test_the_page_is_in_the_navigation_of_a_program_with_plans_and_needs_a_signed_in_staff_member(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console], new_console: Callable[[], Console]
) -> None:
    api = make_program({"membership_plans": [BEAN_CLUB]})
    base = f"/admin/p/{api.slug}"
    assert f'<a href="{base}/memberships">Memberships</a>' in signed_in(Role.SUPPORT).page(f"{base}/dashboard")
    page = signed_in(Role.VIEWER).page(f"{base}/memberships")
    assert f'<a href="{base}/memberships" aria-current="page">Memberships</a>' in page
    assert (metric(page, "mrr"), metric(page, "paying"), metric(page, "bean-club-current")) == ("€0.00", "0", "0")
    assert all(metric(page, f"{month}-churn") == "–" for month in ("2026-06", "2026-11"))
    anonymous = new_console().get(f"{base}/memberships")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/admin/sign-in")


# --- the arithmetic on its own ------------------------------------------------------------------------------------

TALLINN = ZoneInfo("Europe/Tallinn")


def plan(code: str, **prices: str) -> Plan:
    return Plan(code, Text(code), {BillingPeriod(period): Decimal(price) for period, price in prices.items()}, Perks())


def membership(code: str, period: BillingPeriod, status: Status, **fields: Any) -> Membership:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2030, 1, 1, tzinfo=UTC)
    return Membership(code, period, status, moment, moment, end, **fields)


def held(*memberships: Membership) -> list[Held]:
    return [Held(number, item, item) for number, item in enumerate(memberships)]


def test_recurring_revenue_rounds_once_from_the_exact_sum() -> None:
    # Twelfths of 4, 1 and 1 cents make exactly half a cent: summed as decimals in this order, they make a hair less
    small, tiny = plan("small", year="0.04"), plan("tiny", year="0.01")
    yearly = [membership(code, BillingPeriod.YEAR, Status.ACTIVE) for code in ("small", "tiny", "tiny")]
    naive = sum((plan_.monthly_minor(BillingPeriod.YEAR, 2) for plan_ in (small, tiny, tiny)), Decimal(0))
    assert naive < Decimal("0.5")
    exact = figures.monthly_fraction(small, BillingPeriod.YEAR, 2)
    assert abs(Decimal(exact.numerator) / exact.denominator - small.monthly_minor(BillingPeriod.YEAR, 2)) < Decimal(
        "1e-25"
    )
    revenue = figures.recurring_revenue(held(*yearly), [small, tiny], "EUR")
    assert [item.recurring_minor for item in revenue.plans] == [0, 0]  # 1/3 and 1/6 of a cent
    assert (revenue.recurring_minor, revenue.paying_members) == (1, 3)  # rounded half up, once


def test_only_paying_memberships_bring_revenue() -> None:
    club = plan("club", month="4.99", year="49.00")
    members = held(
        membership("club", BillingPeriod.MONTH, Status.ACTIVE),
        membership("club", BillingPeriod.YEAR, Status.PAST_DUE, cancel_at_period_end=True),
        membership("club", BillingPeriod.MONTH, Status.PAST_DUE, trial=True),  # a trial's payment failed
        membership("club", BillingPeriod.MONTH, Status.TRIALING, trial=True),
        membership("club", BillingPeriod.MONTH, Status.LAPSED),
        membership("club", BillingPeriod.MONTH, Status.CANCELLED),
        membership("gone", BillingPeriod.MONTH, Status.ACTIVE),  # a plan no longer in the file: no price
    )
    revenue = figures.recurring_revenue(members, [club], "EUR")
    assert (revenue.recurring_minor, revenue.paying_members, revenue.cancelling_minor) == (907, 2, 408)  # 499 + 408.33
    assert figures.by_plan_and_status(members, ["club", "quiet"]) == {
        "club": StatusCounts(trialing=1, active=1, past_due=2, lapsed=1, cancelled=1, cancelling=1),
        "quiet": StatusCounts(),
        "gone": StatusCounts(active=1),
    }
    yen = figures.recurring_revenue(
        held(membership("yen", BillingPeriod.YEAR, Status.ACTIVE)), [plan("yen", year="5000")], "JPY"
    )
    assert yen.recurring_minor == 417  # no minor unit: 5000 ÷ 12, rounded


def test_the_months_are_calendar_months_in_the_programs_zone() -> None:
    now = datetime(2027, 1, 31, 22, 30, tzinfo=UTC)  # already 1 February in Tallinn
    assert figures.month_starts(now, TALLINN) == [date(2026, 9, 1), *(date(y, m, 1) for y, m in MONTH_PAIRS)]
    assert figures.month_starts(now, ZoneInfo("UTC"), 2) == [date(2026, 12, 1), date(2027, 1, 1)]


MONTH_PAIRS = ((2026, 10), (2026, 11), (2026, 12), (2027, 1), (2027, 2))


def change(member: int, kind: str, status: Status, moment: str, order: int, **flags: bool) -> Change:
    return Change(
        member,
        f"membership.{kind}",
        status,
        flags.get("trial", False),
        flags.get("converted", False),
        datetime.fromisoformat(moment),
        order,
    )


def test_churn_counts_the_ends_of_memberships_paying_at_the_months_start() -> None:
    opening = [
        change(1, "started", Status.ACTIVE, "2026-09-10T10:00:00+00:00", 1),  # paying at 1 October
        change(2, "started", Status.TRIALING, "2026-09-25T10:00:00+00:00", 2, trial=True),
        change(2, "payment_failed", Status.PAST_DUE, "2026-09-29T10:00:00+00:00", 3),  # still in its trial
        change(3, "started", Status.ACTIVE, "2026-08-01T10:00:00+00:00", 4),
        change(3, "cancelled", Status.ACTIVE, "2026-09-20T10:00:00+00:00", 5),  # at the period's end: current
    ]
    changes = [
        # member 1 ends, rejoins and ends again in October: churned once, two ends
        change(1, "cancelled", Status.CANCELLED, "2026-10-02T10:00:00+00:00", 6),
        change(1, "started", Status.ACTIVE, "2026-10-03T10:00:00+00:00", 7),
        change(1, "cancelled", Status.CANCELLED, "2026-10-04T10:00:00+00:00", 8),
        # member 2's trial lapses: a trial ended, not churn
        change(2, "ended", Status.LAPSED, "2026-10-06T10:00:00+00:00", 9, trial=True),
        # member 3's cancellation takes effect at 00:30 on 1 November in Tallinn: November's
        change(3, "ended", Status.CANCELLED, "2026-10-31T22:30:00+00:00", 10),
        # member 4 starts a trial and cancels it at once: a trial ended unpaid, though the row does not say trial
        change(4, "started", Status.TRIALING, "2026-11-02T10:00:00+00:00", 11, trial=True),
        change(4, "cancelled", Status.CANCELLED, "2026-11-03T10:00:00+00:00", 12),
        # after now: not counted
        change(5, "started", Status.ACTIVE, "2026-11-20T10:00:00+00:00", 13),
    ]
    now = datetime(2026, 11, 10, tzinfo=UTC)
    october, november = figures.month_figures(opening, changes, [date(2026, 10, 1), date(2026, 11, 1)], TALLINN, now)
    assert counted(october) == (2, 0, 1, 0, 2, 1, 2, 1, 1)
    assert (october.churn_rate, october.trial_conversion) == (Decimal("0.5"), Decimal(0))
    assert counted(november) == (1, 1, 0, 0, 1, 0, 2, 1, 1)
    assert november.churn_rate == 1
    assert october.starts_at == datetime(2026, 9, 30, 21, 0, tzinfo=UTC)
    assert november.starts_at == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
