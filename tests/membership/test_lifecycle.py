"""The membership lifecycle as pure rules: every transition of the state machine, time's changes, pro-rata refunds,
period arithmetic in the program's zone, and the monthly rewards due."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchcard.i18n.text import Text
from punchcard.membership.domain import (
    BillingPeriod,
    CancelRefund,
    Instruction,
    Kind,
    Membership,
    MembershipCancelled,
    MembershipEnded,
    MembershipPaymentFailed,
    MembershipRefused,
    MembershipRenewed,
    MembershipStarted,
    Perks,
    Plan,
    Refusal,
    Status,
)
from punchcard.membership.lifecycle import (
    as_of,
    current_perks,
    decide,
    gifts_due,
    period_end,
    pro_rata_refund,
    settle,
)

TALLINN = ZoneInfo("Europe/Tallinn")
CLUB = Plan(
    code="bean-club",
    name=Text("Bean Club"),
    prices={BillingPeriod.MONTH: Decimal("4.99"), BillingPeriod.YEAR: Decimal("49.00")},
    perks=Perks(earn_multiplier=Decimal(2), free_shipping=True, monthly_reward="free-drink"),
    trial_days=14,
    grace_days=7,
)
MONTHLY_ONLY = Plan(
    code="basic", name=Text("Basic"), prices={BillingPeriod.MONTH: Decimal("2.00")}, perks=Perks(free_shipping=True)
)
PLANS = {plan.code: plan for plan in (CLUB, MONTHLY_ONLY)}
T0 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


def run(current: Membership | None, kind: Kind, at: datetime, **fields: object) -> tuple[Membership, list[object]]:
    transition = decide(current, PLANS, Instruction(kind, at, **fields), zone=TALLINN, currency="EUR")  # type: ignore[arg-type]
    return transition.membership, list(transition.events)


def start(
    at: datetime = T0, plan: str = "bean-club", period: BillingPeriod = BillingPeriod.MONTH, ref: str = "pay-1"
) -> Membership:
    membership, _ = run(None, Kind.START, at, plan=plan, period=period, payment_ref=ref)
    return membership


def paid_start(at: datetime = T0) -> Membership:
    """A member who already had the trial starts again, paying."""
    membership, _ = run(
        replace(start(at - timedelta(days=400)), status=Status.CANCELLED, ended_at=at - timedelta(days=300)),
        Kind.START,
        at,
        plan="bean-club",
        period=BillingPeriod.MONTH,
        payment_ref="pay-2",
    )
    return membership


# --- starting -----------------------------------------------------------------------------------------------------


def test_a_first_start_on_a_plan_with_a_trial_is_a_free_trial_of_its_days() -> None:
    membership, events = run(None, Kind.START, T0, plan="bean-club", period=BillingPeriod.MONTH, payment_ref="pay-1")
    assert membership.status is Status.TRIALING
    assert membership.trial
    assert membership.current_period_end == T0 + timedelta(days=14)
    assert membership.paid_minor == 0
    assert membership.trialled == {"bean-club"}
    [started] = events
    assert isinstance(started, MembershipStarted)
    assert started.trial
    assert started.paid_minor == 0


def test_a_start_without_a_trial_is_paid_for_the_period_at_the_plans_price() -> None:
    membership, events = run(None, Kind.START, T0, plan="basic", period=BillingPeriod.MONTH, payment_ref="pay-1")
    assert membership.status is Status.ACTIVE
    assert membership.paid_minor == 200
    assert membership.current_period_end == datetime(2027, 2, 10, 12, 0, tzinfo=UTC)
    assert isinstance(events[0], MembershipStarted)
    assert not events[0].trial


def test_the_trial_is_had_once_per_plan_so_a_rejoin_pays_from_the_start() -> None:
    again = paid_start()
    assert again.status is Status.ACTIVE
    assert not again.trial
    assert again.paid_minor == 499


def test_what_the_provider_says_was_paid_and_until_when_wins_over_the_plans_price() -> None:
    membership, _ = run(
        None,
        Kind.START,
        T0,
        plan="basic",
        period=BillingPeriod.MONTH,
        payment_ref="pay-1",
        paid_minor=150,
        paid_until=T0 + timedelta(days=30),
    )
    assert membership.paid_minor == 150
    assert membership.current_period_end == T0 + timedelta(days=30)


def test_an_unknown_or_withdrawn_plan_and_a_period_not_sold_are_refused() -> None:
    with pytest.raises(MembershipRefused) as unknown:
        run(None, Kind.START, T0, plan="gold-club", period=BillingPeriod.MONTH, payment_ref="p")
    assert unknown.value.refusal is Refusal.PLAN_UNKNOWN
    with pytest.raises(MembershipRefused) as yearly:
        run(None, Kind.START, T0, plan="basic", period=BillingPeriod.YEAR, payment_ref="p")
    assert yearly.value.refusal is Refusal.PERIOD_NOT_OFFERED
    withdrawn = {**PLANS, "basic": replace(MONTHLY_ONLY, enabled=False)}
    with pytest.raises(MembershipRefused):
        decide(
            None,
            withdrawn,
            Instruction(Kind.START, T0, "basic", BillingPeriod.MONTH, "p"),
            zone=TALLINN,
            currency="EUR",
        )


def test_a_second_start_while_one_is_current_is_refused_but_the_same_start_again_changes_nothing() -> None:
    membership = start()
    with pytest.raises(MembershipRefused) as twice:
        run(
            membership,
            Kind.START,
            T0 + timedelta(days=1),
            plan="basic",
            period=BillingPeriod.MONTH,
            payment_ref="pay-9",
        )
    assert twice.value.refusal is Refusal.ALREADY_MEMBER
    same, events = run(membership, Kind.START, T0, plan="bean-club", period=BillingPeriod.MONTH, payment_ref="pay-1")
    assert same == membership
    assert events == []


# --- renewing -----------------------------------------------------------------------------------------------------


def test_a_payment_at_the_trials_end_converts_it_into_a_paid_period() -> None:
    trial = start()
    end = trial.current_period_end
    membership, [renewed] = run(trial, Kind.RENEW, end, payment_ref="pay-2")
    assert membership.status is Status.ACTIVE
    assert not membership.trial
    assert membership.current_period_start == end
    assert membership.current_period_end == period_end(end, BillingPeriod.MONTH, TALLINN)
    assert isinstance(renewed, MembershipRenewed)
    assert renewed.converted
    assert not renewed.recovered


def test_a_renewal_continues_from_the_end_of_the_period_paid_whenever_it_is_paid() -> None:
    active = paid_start()
    early, _ = run(active, Kind.RENEW, active.current_period_end - timedelta(days=2), payment_ref="pay-3")
    late, _ = run(active, Kind.RENEW, active.current_period_end + timedelta(days=3), payment_ref="pay-3")
    assert early.current_period_start == late.current_period_start == active.current_period_end
    assert early.current_period_end == late.current_period_end


def test_the_same_payment_told_twice_renews_once() -> None:
    active = paid_start()
    once, _ = run(active, Kind.RENEW, active.current_period_end, payment_ref="pay-3")
    twice, events = run(once, Kind.RENEW, active.current_period_end, payment_ref="pay-3")
    assert twice == once
    assert events == []


def test_a_renewal_may_move_the_member_to_another_plan_and_period() -> None:
    active = paid_start()
    moved, _ = run(active, Kind.RENEW, active.current_period_end, payment_ref="pay-3", period=BillingPeriod.YEAR)
    assert moved.period is BillingPeriod.YEAR
    assert moved.paid_minor == 4900
    assert moved.current_period_end == period_end(active.current_period_end, BillingPeriod.YEAR, TALLINN)


# --- failing, recovering, lapsing ---------------------------------------------------------------------------------


def test_a_failed_payment_keeps_the_perks_for_the_grace_from_the_end_of_the_period_paid() -> None:
    active = paid_start()
    failed_at = active.current_period_end - timedelta(days=1)
    membership, [failed] = run(active, Kind.FAIL, failed_at)
    assert membership.status is Status.PAST_DUE
    assert membership.grace_until == active.current_period_end + timedelta(days=7)
    assert isinstance(failed, MembershipPaymentFailed)
    assert current_perks(membership, PLANS, membership.grace_until - timedelta(seconds=1)) is not None


def test_a_second_failure_does_not_extend_the_grace() -> None:
    active = paid_start()
    failed, _ = run(active, Kind.FAIL, active.current_period_end)
    again, events = run(failed, Kind.FAIL, active.current_period_end + timedelta(days=3))
    assert again == failed
    assert events == []


def test_a_payment_inside_the_grace_recovers_the_membership() -> None:
    active = paid_start()
    failed, _ = run(active, Kind.FAIL, active.current_period_end)
    recovered, [renewed] = run(failed, Kind.RENEW, active.current_period_end + timedelta(days=5), payment_ref="pay-3")
    assert recovered.status is Status.ACTIVE
    assert recovered.grace_until is None
    assert recovered.current_period_start == active.current_period_end
    assert isinstance(renewed, MembershipRenewed)
    assert renewed.recovered


def test_the_grace_running_out_lapses_the_membership_and_its_perks() -> None:
    active = paid_start()
    failed, _ = run(active, Kind.FAIL, active.current_period_end)
    assert failed.grace_until is not None
    transition = settle(failed, CLUB, failed.grace_until)
    assert transition.membership.status is Status.LAPSED
    assert transition.membership.ended_at == failed.grace_until
    [ended] = transition.events
    assert isinstance(ended, MembershipEnded)
    assert not ended.was_trial
    assert current_perks(failed, PLANS, failed.grace_until) is None


def test_a_period_that_ends_without_a_renewal_is_past_due_and_then_lapses() -> None:
    active = paid_start()
    end = active.current_period_end
    assert as_of(active, CLUB, end - timedelta(seconds=1)).status is Status.ACTIVE
    overdue = as_of(active, CLUB, end)
    assert overdue.status is Status.PAST_DUE
    assert overdue.grace_until == end + timedelta(days=7)
    assert as_of(active, CLUB, end + timedelta(days=7)).status is Status.LAPSED


def test_an_unconverted_trial_ends_as_a_trial() -> None:
    trial = start()
    [ended] = settle(trial, CLUB, trial.current_period_end + timedelta(days=7)).events
    assert isinstance(ended, MembershipEnded)
    assert ended.was_trial
    assert ended.status == "lapsed"


def test_a_payment_after_the_membership_lapsed_starts_a_new_one_without_a_trial() -> None:
    trial = start()
    lapsed_at = trial.current_period_end + timedelta(days=30)
    membership, events = run(trial, Kind.RENEW, lapsed_at, payment_ref="pay-late")
    assert membership.status is Status.ACTIVE
    assert membership.started_at == lapsed_at
    assert [type(event) for event in events] == [MembershipEnded, MembershipStarted]


def test_a_payment_for_a_membership_never_started_starts_it_if_it_names_the_plan() -> None:
    membership, [started] = run(
        None, Kind.RENEW, T0, payment_ref="in_1", plan="basic", period=BillingPeriod.MONTH, subscription_ref="sub_1"
    )
    assert membership.status is Status.ACTIVE
    assert membership.subscription_ref == "sub_1"
    assert isinstance(started, MembershipStarted)
    with pytest.raises(MembershipRefused) as unnamed:
        run(None, Kind.RENEW, T0, payment_ref="in_1")
    assert unnamed.value.refusal is Refusal.NOT_MEMBER


def test_failing_or_cancelling_without_a_current_membership_is_refused() -> None:
    for kind in (Kind.FAIL, Kind.CANCEL):
        with pytest.raises(MembershipRefused) as refused:
            run(None, kind, T0)
        assert refused.value.refusal is Refusal.NOT_MEMBER


# --- cancelling ---------------------------------------------------------------------------------------------------


def test_cancelling_at_the_period_end_keeps_the_perks_until_then_and_refunds_nothing() -> None:
    active = paid_start()
    cancelled, [event] = run(active, Kind.CANCEL, T0 + timedelta(days=3), at_period_end=True)
    assert cancelled.status is Status.ACTIVE
    assert cancelled.cancel_at_period_end
    assert isinstance(event, MembershipCancelled)
    assert event.refund_minor == 0
    assert current_perks(cancelled, PLANS, active.current_period_end - timedelta(seconds=1)) is not None
    ended = settle(cancelled, CLUB, active.current_period_end)
    assert ended.membership.status is Status.CANCELLED
    assert ended.membership.ended_at == active.current_period_end
    assert current_perks(cancelled, PLANS, active.current_period_end) is None


def test_a_renewal_after_a_cancellation_at_period_end_keeps_the_membership() -> None:
    active = paid_start()
    cancelled, _ = run(active, Kind.CANCEL, T0 + timedelta(days=3), at_period_end=True)
    renewed, _ = run(cancelled, Kind.RENEW, T0 + timedelta(days=4), payment_ref="pay-3")
    assert not renewed.cancel_at_period_end


def test_cancelling_now_ends_the_membership_and_refunds_the_unused_share_pro_rata() -> None:
    active = paid_start()  # 4.99 for 10 January to 10 February: 31 days
    cancelled, [event] = run(active, Kind.CANCEL, T0 + timedelta(days=10), at_period_end=False)
    assert cancelled.status is Status.CANCELLED
    assert cancelled.ended_at == T0 + timedelta(days=10)
    assert isinstance(event, MembershipCancelled)
    assert event.refund_minor == 338  # 499 × 21/31 = 338.03, rounded down


def test_a_plan_without_refunds_and_a_trial_refund_nothing_when_cancelled_now() -> None:
    no_refunds = {**PLANS, "bean-club": replace(CLUB, cancel_refund=CancelRefund.NONE)}
    active = paid_start()
    transition = decide(
        active, no_refunds, Instruction(Kind.CANCEL, T0, at_period_end=False), zone=TALLINN, currency="EUR"
    )
    assert isinstance(transition.events[0], MembershipCancelled)
    assert transition.events[0].refund_minor == 0
    _, [event] = run(start(), Kind.CANCEL, T0 + timedelta(days=1), at_period_end=False)
    assert isinstance(event, MembershipCancelled)
    assert event.refund_minor == 0


@given(
    paid=st.integers(min_value=0, max_value=10_000_000),
    days=st.integers(min_value=1, max_value=400),
    used=st.floats(min_value=-1, max_value=2, allow_nan=False),
)
def test_a_pro_rata_refund_is_never_more_than_was_paid_nor_negative(paid: int, days: int, used: float) -> None:
    membership = replace(
        paid_start(), current_period_start=T0, current_period_end=T0 + timedelta(days=days), paid_minor=paid
    )
    refund = pro_rata_refund(membership, T0 + timedelta(days=days * used))
    assert 0 <= refund <= paid
    if used <= 0:
        assert refund == paid
    if used >= 1:
        assert refund == 0


# --- calendar -----------------------------------------------------------------------------------------------------


def test_a_monthly_period_ends_on_the_same_local_day_and_hour_across_daylight_saving_and_short_months() -> None:
    # 09:00 in Tallinn on 31 January (UTC+2) → 09:00 on 28 February; 29 March 09:00 (UTC+3) keeps 09:00 local.
    start_at = datetime(2027, 1, 31, 7, 0, tzinfo=UTC)
    assert period_end(start_at, BillingPeriod.MONTH, TALLINN) == datetime(2027, 2, 28, 7, 0, tzinfo=UTC)
    march = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
    assert period_end(march, BillingPeriod.MONTH, TALLINN) == datetime(2027, 4, 1, 6, 0, tzinfo=UTC)
    assert period_end(start_at, BillingPeriod.YEAR, TALLINN) == datetime(2028, 1, 31, 7, 0, tzinfo=UTC)


# --- monthly rewards ----------------------------------------------------------------------------------------------


def test_the_monthly_reward_is_due_on_the_start_day_and_then_monthly_while_current() -> None:
    membership = replace(paid_start(), period=BillingPeriod.YEAR, current_period_end=T0 + timedelta(days=365))
    assert gifts_due(membership, CLUB, T0, TALLINN) == [T0]
    three_months = gifts_due(membership, CLUB, T0 + timedelta(days=62), TALLINN)
    assert three_months == [T0, datetime(2027, 2, 10, 12, 0, tzinfo=UTC), datetime(2027, 3, 10, 12, 0, tzinfo=UTC)]
    given_two = replace(membership, gifted_until=datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    assert gifts_due(given_two, CLUB, T0 + timedelta(days=62), TALLINN) == [datetime(2027, 3, 10, 12, 0, tzinfo=UTC)]


def test_no_monthly_reward_after_the_membership_ended() -> None:
    cancelled, _ = run(paid_start(), Kind.CANCEL, T0 + timedelta(days=3), at_period_end=False)
    assert (
        gifts_due(replace(cancelled, gifted_until=T0 + timedelta(days=31)), CLUB, T0 + timedelta(days=90), TALLINN)
        == []
    )
    assert gifts_due(cancelled, MONTHLY_ONLY, T0 + timedelta(days=90), TALLINN) == []
