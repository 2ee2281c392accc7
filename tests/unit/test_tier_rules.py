"""The pure tier rules: the window a metric counts over, the tier a value qualifies for, reviews and progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from punchcard.i18n.text import Text
from punchcard.tier.domain import (
    Metric,
    Perk,
    Progress,
    Review,
    ReviewOutcome,
    Tier,
    TierPolicy,
    Window,
    WindowKind,
    progress,
    review,
)

TALLINN = ZoneInfo("Europe/Tallinn")
BRONZE = Tier("bronze", Text("Bronze"), 0)
SILVER = Tier("silver", Text("Silver"), 500, Decimal("1.25"))
GOLD = Tier("gold", Text("Gold"), 1500, Decimal("1.5"), (Perk("free_shipping"), Perk("early_access")))
ROLLING_YEAR = Window(WindowKind.ROLLING_MONTHS, 12)
DEMO = TierPolicy(Metric.POINTS, ROLLING_YEAR, (BRONZE, SILVER, GOLD), grace_days=30)
NO_GRACE = TierPolicy(Metric.POINTS, ROLLING_YEAR, (BRONZE, SILVER, GOLD), grace_days=0)
NOW = datetime(2025, 3, 15, 10, 0, tzinfo=UTC)


# --- windows ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "now", "expected"),
    [
        pytest.param(
            ROLLING_YEAR,
            datetime(2025, 3, 15, 10, 0, tzinfo=UTC),
            datetime(2024, 3, 15, 22, 0, tzinfo=UTC),  # 16 Mar 2024 00:00 in Tallinn: 12 whole months to today
            id="rolling 12 months",
        ),
        pytest.param(
            ROLLING_YEAR,
            datetime(2025, 3, 15, 22, 30, tzinfo=UTC),  # already 16 Mar 00:30 in Tallinn
            datetime(2024, 3, 16, 22, 0, tzinfo=UTC),
            id="rolling, local date not UTC date",
        ),
        pytest.param(
            Window(WindowKind.ROLLING_MONTHS, 6),
            datetime(2024, 10, 30, 10, 0, tzinfo=UTC),
            datetime(2024, 4, 30, 21, 0, tzinfo=UTC),  # 1 May 00:00 in summer time
            id="rolling 6 months across DST",
        ),
        pytest.param(
            Window(WindowKind.ROLLING_MONTHS, 1),
            datetime(2024, 3, 31, 10, 0, tzinfo=UTC),
            datetime(2024, 2, 29, 22, 0, tzinfo=UTC),  # 31 Mar − 1 month = 29 Feb; the window starts 1 Mar
            id="rolling 1 month from a month end",
        ),
        pytest.param(
            Window(WindowKind.CALENDAR_YEAR),
            datetime(2025, 6, 1, 10, 0, tzinfo=UTC),
            datetime(2024, 12, 31, 22, 0, tzinfo=UTC),  # 1 Jan 2025 00:00 in Tallinn
            id="calendar year",
        ),
        pytest.param(
            Window(WindowKind.CALENDAR_YEAR),
            datetime(2024, 12, 31, 22, 30, tzinfo=UTC),  # already 1 Jan 2025 in Tallinn
            datetime(2024, 12, 31, 22, 0, tzinfo=UTC),
            id="calendar year begins at local midnight",
        ),
        pytest.param(
            Window(WindowKind.CALENDAR_YEAR),
            datetime(2024, 12, 31, 21, 59, tzinfo=UTC),  # still 31 Dec 2024 in Tallinn
            datetime(2023, 12, 31, 22, 0, tzinfo=UTC),
            id="calendar year, last local minute",
        ),
        pytest.param(Window(WindowKind.LIFETIME), datetime(2025, 6, 1, 10, 0, tzinfo=UTC), None, id="lifetime"),
    ],
)
def test_window_start(window: Window, now: datetime, expected: datetime | None) -> None:
    assert window.start(now, TALLINN) == expected


def test_window_start_in_utc_differs_from_tallinn() -> None:
    now = datetime(2024, 12, 31, 22, 30, tzinfo=UTC)
    assert Window(WindowKind.CALENDAR_YEAR).start(now, ZoneInfo("UTC")) == datetime(2024, 1, 1, tzinfo=UTC)


# --- qualifying ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, BRONZE), (499, BRONZE), (500, SILVER), (1499, SILVER), (1500, GOLD), (1_000_000, GOLD)],
)
def test_qualifying_tier(value: int, expected: Tier) -> None:
    assert DEMO.qualifying(value) == expected


def test_tier_lookup_and_order() -> None:
    assert DEMO.by_code("gold") == GOLD
    assert DEMO.by_code("platinum") == BRONZE  # a code the program no longer has falls back to the entry tier
    assert DEMO.by_code(None) == BRONZE
    assert [DEMO.rank(code) for code in ("bronze", "silver", "gold")] == [0, 1, 2]
    assert DEMO.next_tier("bronze") == SILVER
    assert DEMO.next_tier("gold") is None


# --- reviews ------------------------------------------------------------------------------------------------------

LATER = NOW + timedelta(days=10)
EARLIER = NOW - timedelta(days=1)


@pytest.mark.parametrize(
    ("policy", "current", "value", "grace_until", "expected"),
    [
        pytest.param(DEMO, "bronze", 600, None, Review(ReviewOutcome.UPGRADE, SILVER, None), id="upgrade at once"),
        pytest.param(DEMO, "bronze", 1500, None, Review(ReviewOutcome.UPGRADE, GOLD, None), id="upgrade two tiers"),
        pytest.param(DEMO, None, 600, None, Review(ReviewOutcome.UPGRADE, SILVER, None), id="upgrade from no tier"),
        pytest.param(DEMO, "silver", 2000, LATER, Review(ReviewOutcome.UPGRADE, GOLD, None), id="upgrade clears grace"),
        pytest.param(DEMO, "silver", 600, None, Review(ReviewOutcome.KEEP, SILVER, None), id="keep"),
        pytest.param(DEMO, "bronze", 0, None, Review(ReviewOutcome.KEEP, BRONZE, None), id="keep the entry tier"),
        pytest.param(
            DEMO,
            "silver",
            400,
            None,
            Review(ReviewOutcome.START_GRACE, SILVER, NOW + timedelta(days=30)),
            id="start grace",
        ),
        pytest.param(DEMO, "silver", 400, LATER, Review(ReviewOutcome.KEEP, SILVER, LATER), id="keep during grace"),
        pytest.param(
            DEMO, "silver", 400, NOW, Review(ReviewOutcome.DOWNGRADE, BRONZE, None), id="downgrade when grace ends"
        ),
        pytest.param(
            DEMO, "silver", 400, EARLIER, Review(ReviewOutcome.DOWNGRADE, BRONZE, None), id="downgrade after grace"
        ),
        pytest.param(
            DEMO,
            "gold",
            600,
            EARLIER,
            Review(ReviewOutcome.DOWNGRADE, SILVER, None),
            id="downgrade to the qualifying tier",
        ),
        pytest.param(
            DEMO, "gold", 100, EARLIER, Review(ReviewOutcome.DOWNGRADE, BRONZE, None), id="downgrade two tiers"
        ),
        pytest.param(
            DEMO, "silver", 500, LATER, Review(ReviewOutcome.END_GRACE, SILVER, None), id="end grace when requalified"
        ),
        pytest.param(
            NO_GRACE, "silver", 400, None, Review(ReviewOutcome.DOWNGRADE, BRONZE, None), id="no grace: downgrade"
        ),
        pytest.param(
            NO_GRACE, "gold", 600, None, Review(ReviewOutcome.DOWNGRADE, SILVER, None), id="no grace: to qualifying"
        ),
        pytest.param(
            DEMO, "platinum", 0, None, Review(ReviewOutcome.KEEP, BRONZE, None), id="unknown code is the entry tier"
        ),
    ],
)
def test_review(
    policy: TierPolicy, current: str | None, value: int, grace_until: datetime | None, expected: Review
) -> None:
    assert review(policy, current, value, grace_until, NOW) == expected


# --- progress -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "value", "grace_until", "expected"),
    [
        pytest.param("bronze", 120, None, Progress(BRONZE, 120, SILVER, 380, 0, None), id="bronze on the way"),
        pytest.param("bronze", 700, None, Progress(BRONZE, 700, SILVER, 0, 0, None), id="earned, not yet reviewed"),
        pytest.param("silver", 900, None, Progress(SILVER, 900, GOLD, 600, 0, None), id="silver keeping"),
        pytest.param("silver", 400, LATER, Progress(SILVER, 400, GOLD, 1100, 100, LATER), id="silver in grace"),
        pytest.param("gold", 2000, None, Progress(GOLD, 2000, None, None, 0, None), id="top tier"),
        pytest.param("gold", 1200, LATER, Progress(GOLD, 1200, None, None, 300, LATER), id="top tier in grace"),
    ],
)
def test_progress(current: str, value: int, grace_until: datetime | None, expected: Progress) -> None:
    assert progress(DEMO, current, value, grace_until) == expected
