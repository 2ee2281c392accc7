"""The console's causes page: each cause's gifts in a month and in all (points, value, matching, total, donors), its
goal and the matching budget of the month's period, checked against two months of donations made through the API and
against the API's own totals; the month chosen, a calendar month in the program's zone; each cause's settlement as
CSV for a month and for all time, the API's to the byte, with its download headers; who may see them; the nav link."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.admin.conftest import Console, metric
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker

from punchcard.staff.domain import Role

BALTIC_SEA = {
    "code": "baltic-sea",
    "name": {"en": "Baltic Sea Foundation"},
    "description": {"en": "Cleaner water for the sea we live by."},
    "point_value": "0.01",
    "match": {"ratio": 1, "budget": "5.00", "per": "month"},
    "goal": "20.00",
}
FOREST = {
    "code": "forest",
    "name": {"en": "Forest Fund"},
    "point_value": "0.02",
    "match": {"ratio": "0.5", "budget": "3.00", "per": "year"},
    "active": {"until": "2026-11-30"},
}
OLD_FUND = {"code": "old-fund", "name": {"en": "Old Fund"}, "point_value": "0.01", "active": {"until": "2026-01-31"}}
CAUSES = {"causes": [BALTIC_SEA, FOREST, OLD_FUND]}


def give_points(api: ApiClient, member: str, points: int) -> None:
    response = api.post(f"/api/v1/members/{member}/adjustments", {"points": points, "reason": "goodwill"})
    assert response.status_code == 201, response.text


def donate(api: ApiClient, member: str, cause: str, points: int, key: str) -> dict[str, Any]:
    response = api.post(
        f"/api/v1/members/{member}/donations", {"cause": cause, "points": points}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@dataclass(frozen=True)
class Story:
    api: ApiClient
    anna: str
    ben: str

    @property
    def base(self) -> str:
        return f"/admin/p/{self.api.slug}"


@pytest.fixture
def story(make_program: ProgramMaker, clock: Clock) -> Story:
    return tell(make_program, clock)


def tell(make_program: ProgramMaker, clock: Clock) -> Story:
    """Two months of donations through the API as they happened (times UTC; Tallinn is 3 hours ahead until 25 October,
    2 after), read on 25 November:

    - October: Anna gives 300 points to the Baltic Sea (€3.00, matched €3.00 of the month's €5.00) and 500 to the
      forest (€10.00, matched half, up to the year's €3.00: €3.00); Ben gives 400 to the Baltic Sea (€4.00, matched
      the €2.00 left of October's budget);
    - November: Anna gives 100 to the Baltic Sea at 00:30 on the 1st in Tallinn, still 31 October in UTC (€1.00,
      matched from November's budget); Ben gives 250 (€2.50, matched €2.50) and 100 to the forest (€2.00, the year's
      budget is used up: nothing matched).
    """
    api = make_program(CAUSES)
    clock.set("2026-10-01T09:00:00+00:00")
    anna = api.member("anna", name="Anna Tamm")
    ben = api.member("ben", name="Ben Kask")
    give_points(api, anna, 1500)
    give_points(api, ben, 1000)
    for moment, member, cause, points, key, matched in [
        ("2026-10-10T10:00:00+00:00", anna, "baltic-sea", 300, "a-1", "3.00"),
        ("2026-10-15T10:00:00+00:00", anna, "forest", 500, "a-2", "3.00"),
        ("2026-10-20T10:00:00+00:00", ben, "baltic-sea", 400, "b-1", "2.00"),
        ("2026-10-31T22:30:00+00:00", anna, "baltic-sea", 100, "a-3", "1.00"),
        ("2026-11-10T10:00:00+00:00", ben, "baltic-sea", 250, "b-2", "2.50"),
        ("2026-11-12T10:00:00+00:00", ben, "forest", 100, "b-3", "0.00"),
    ]:
        clock.set(moment)
        assert donate(api, member, cause, points, key)["matched"] == matched
    clock.set("2026-11-25T12:00:00+00:00")
    return Story(api, anna, ben)


FIGURES = ("points", "value", "matched", "given", "donors")


def figures(page: str, code: str, when: str) -> dict[str, str]:
    return {name: metric(page, f"{code}-{when}-{name}") for name in FIGURES}


def api_totals(api: ApiClient, code: str, **bounds: str) -> dict[str, Any]:
    causes = api.get("/api/v1/causes", params=bounds).json()["causes"]
    return dict(next(cause for cause in causes if cause["code"] == code)["totals"])


def as_shown(totals: dict[str, Any]) -> dict[str, str]:
    """The API's totals as the page shows them."""
    return {
        "points": f"{totals['points']:,}",
        "value": f"€{totals['value']}",
        "matched": f"€{totals['matched']}",
        "given": f"€{totals['given']}",
        "donors": str(totals["donors"]),
    }


NOVEMBER = {"from": "2026-10-31T22:00:00Z", "to": "2026-11-30T22:00:00Z"}
OCTOBER = {"from": "2026-09-30T21:00:00Z", "to": "2026-10-31T22:00:00Z"}


def test_the_page_shows_each_causes_gifts_this_month_and_in_all(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"{story.base}/causes")

    assert figures(page, "baltic-sea", "month") == {
        "points": "350",  # Anna's 100 at 00:30 on 1 November in Tallinn, Ben's 250
        "value": "€3.50",
        "matched": "€3.50",
        "given": "€7.00",
        "donors": "2",
    }
    assert figures(page, "baltic-sea", "all") == {
        "points": "1,050",
        "value": "€10.50",
        "matched": "€8.50",  # October's whole €5.00 and November's €3.50
        "given": "€19.00",
        "donors": "2",
    }
    assert figures(page, "forest", "month") == {
        "points": "100",
        "value": "€2.00",
        "matched": "€0.00",
        "given": "€2.00",
        "donors": "1",
    }
    assert figures(page, "forest", "all") == {
        "points": "600",
        "value": "€12.00",
        "matched": "€3.00",
        "given": "€15.00",
        "donors": "2",
    }
    assert figures(page, "old-fund", "all") == {
        "points": "0",
        "value": "€0.00",
        "matched": "€0.00",
        "given": "€0.00",
        "donors": "0",
    }
    # The same as the API's totals, for the month and for all time
    for code in ("baltic-sea", "forest"):
        assert figures(page, code, "month") == as_shown(api_totals(story.api, code, **NOVEMBER))
        assert figures(page, code, "all") == as_shown(api_totals(story.api, code))
    assert '<th scope="col" class="num">November 2026 (this month)</th>' in page
    assert f'href="{story.base}/causes?month=2026-10">Previous month</a>' in page
    assert "Next month" not in page  # the months to come have nothing given yet


def test_the_goal_and_the_matching_budget_of_the_months_period(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"{story.base}/causes")

    assert metric(page, "baltic-sea-goal") == "€19.00 given of the €20.00 goal: 95.0%"
    assert '<progress id="cause-baltic-sea-progress" max="2000" value="1900">' in page
    assert "Matching budget, November 2026" in page
    assert (
        metric(page, "baltic-sea-budget"),
        metric(page, "baltic-sea-budget-used"),
        metric(page, "baltic-sea-budget-left"),
    ) == ("€5.00", "€3.50 (70.0%)", "€1.50")
    # The forest's budget is a year's: October's donation used it all
    assert "Matching budget, 2026" in page
    assert (metric(page, "forest-budget-used"), metric(page, "forest-budget-left")) == ("€3.00 (100.0%)", "€0.00")
    assert "forest-goal" not in page
    # A cause without matching or goal says so; one no longer open too
    assert "old-fund-budget" not in page
    assert [metric(page, f"{code}-status") for code in ("baltic-sea", "forest", "old-fund")] == [
        "open",
        "open",
        "closed",
    ]
    section = page[page.index('data-cause="old-fund"') :]
    assert '<dd data-fact="matching">none</dd>' in section
    assert '<dd data-fact="goal">none</dd>' in section
    assert "until 2026-01-31, included" in section


def test_another_month_is_chosen_a_calendar_month_in_the_programs_zone(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"{story.base}/causes", month="2026-10")

    # Anna's gift at 22:30 UTC on 31 October was November's in Tallinn
    assert figures(page, "baltic-sea", "month") == {
        "points": "700",
        "value": "€7.00",
        "matched": "€5.00",
        "given": "€12.00",
        "donors": "2",
    }
    assert figures(page, "baltic-sea", "month") == as_shown(api_totals(story.api, "baltic-sea", **OCTOBER))
    assert figures(page, "forest", "month") == as_shown(api_totals(story.api, "forest", **OCTOBER))
    assert metric(page, "baltic-sea-all-points") == "1,050"  # all time does not change with the month
    assert "Matching budget, October 2026" in page
    assert (metric(page, "baltic-sea-budget-used"), metric(page, "baltic-sea-budget-left")) == (
        "€5.00 (100.0%)",
        "€0.00",
    )
    assert '<th scope="col" class="num">October 2026</th>' in page
    assert 'name="month" type="month" min="2000-01" max="9998-12" value="2026-10"' in page
    assert f'href="{story.base}/causes?month=2026-09">Previous month</a>' in page
    assert f'href="{story.base}/causes?month=2026-11">Next month</a>' in page
    assert f'href="{story.base}/causes">This month</a>' in page
    assert f'href="{story.base}/causes/baltic-sea/settlement.csv?month=2026-10"' in page
    # A month without donations shows nothing given and the whole budget left
    empty = signed_in(Role.VIEWER).page(f"{story.base}/causes", month="2026-09")
    assert figures(empty, "baltic-sea", "month") == {
        "points": "0",
        "value": "€0.00",
        "matched": "€0.00",
        "given": "€0.00",
        "donors": "0",
    }
    assert metric(empty, "baltic-sea-budget-left") == "€5.00"


def test_this_month_is_the_calendar_month_in_the_programs_zone(
    story: Story, signed_in: Callable[[Role], Console], clock: Clock
) -> None:
    # At 00:30 on 1 December in Tallinn (22:30 UTC the day before) it is December: nothing given yet
    clock.set("2026-11-30T22:30:00+00:00")
    page = signed_in(Role.VIEWER).page(f"{story.base}/causes")
    assert metric(page, "baltic-sea-month-points") == "0"
    assert metric(page, "baltic-sea-budget-left") == "€5.00"
    assert "December 2026 (this month)" in page
    assert metric(page, "forest-status") == "closed"  # its last day was 30 November, local
    # An hour earlier it is still November there
    clock.set("2026-11-30T21:30:00+00:00")
    page = signed_in(Role.VIEWER).page(f"{story.base}/causes")
    assert metric(page, "baltic-sea-month-points") == "350"
    assert metric(page, "forest-status") == "open"


@pytest.mark.parametrize("typed", ["2026-13", "2026-00", "2026-1", "11/2026", "1999-12", "november"])
def test_a_month_that_is_not_one_says_so_and_shows_this_month(
    story: Story, signed_in: Callable[[Role], Console], typed: str
) -> None:
    response = signed_in(Role.VIEWER).get(f"{story.base}/causes", month=typed)

    assert response.status_code == 422
    assert re.search(r'<p class="error" id="error-month">Choose a month as YYYY-MM, such as 2026-11', response.text)
    assert 'aria-invalid="true"' in response.text
    assert metric(response.text, "baltic-sea-month-points") == "350"  # this month's figures


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_causes_settlement_for_a_month_downloads_as_the_apis_csv(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    response = signed_in(Role.VIEWER).get(f"{story.base}/causes/baltic-sea/settlement.csv", month="2026-11")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (response.headers["cache-control"], response.headers["x-content-type-options"]) == ("no-store", "nosniff")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{story.api.slug}-baltic-sea-settlement-2026-11.csv"'
    )
    assert (
        response.text.splitlines()[0] == "donation_id,donated_at,member_id,points,value,matched,total,currency,source"
    )
    assert [
        (row["donated_at"], row["points"], row["value"], row["matched"], row["total"], row["currency"], row["source"])
        for row in rows(response.text)
    ] == [
        ("2026-10-31T22:30:00+00:00", "100", "1.00", "1.00", "2.00", "EUR", "api"),
        ("2026-11-10T10:00:00+00:00", "250", "2.50", "2.50", "5.00", "EUR", "api"),
    ]
    api = story.api.get("/api/v1/causes/baltic-sea/settlement", params={"format": "csv", **NOVEMBER})
    assert response.content == api.content
    # Its lines add up to the page's figures
    page = signed_in(Role.VIEWER).page(f"{story.base}/causes")
    assert f"€{sum(float(row['total']) for row in rows(response.text)):.2f}" == metric(page, "baltic-sea-month-given")


def test_a_causes_settlement_for_all_time_downloads_as_the_apis_csv(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    response = signed_in(Role.MARKETER).get(f"{story.base}/causes/forest/settlement.csv")

    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{story.api.slug}-forest-settlement-all-time.csv"'
    )
    found = rows(response.text)
    assert [(row["points"], row["value"], row["matched"], row["total"]) for row in found] == [
        ("500", "10.00", "3.00", "13.00"),
        ("100", "2.00", "0.00", "2.00"),
    ]
    assert len({row["member_id"] for row in found}) == 2
    assert response.content == story.api.get("/api/v1/causes/forest/settlement", params={"format": "csv"}).content
    # A cause given nothing has the header alone
    empty = signed_in(Role.MARKETER).get(f"{story.base}/causes/old-fund/settlement.csv", month="2026-11")
    assert empty.text == "donation_id,donated_at,member_id,points,value,matched,total,currency,source\n"


def test_a_settlement_of_no_cause_or_no_month_is_refused(story: Story, signed_in: Callable[[Role], Console]) -> None:
    console = signed_in(Role.OWNER)

    missing = console.get(f"{story.base}/causes/no-such-cause/settlement.csv")
    not_a_month = console.get(f"{story.base}/causes/baltic-sea/settlement.csv", month="2026-13")

    assert missing.status_code == 404
    assert "the program has no cause" in missing.text
    assert not_a_month.status_code == 422
    assert "Choose a month as YYYY-MM" in not_a_month.text
    assert "content-disposition" not in not_a_month.headers


def test_a_cause_of_another_program_is_not_found(
    story: Story, make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    other = make_program({"causes": [{**OLD_FUND, "code": "elsewhere"}]})
    response = signed_in(Role.VIEWER).get(f"/admin/p/{other.slug}/causes/baltic-sea/settlement.csv")
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.OWNER, Role.SUPPORT, Role.MARKETER, Role.VIEWER])
def test_every_role_sees_the_causes_and_downloads_their_settlements(
    story: Story, signed_in: Callable[[Role], Console], role: Role
) -> None:
    console = signed_in(role)

    page = console.page(f"{story.base}/dashboard")
    download = console.get(f"{story.base}/causes/baltic-sea/settlement.csv", month="2026-10")

    assert f'<a href="{story.base}/causes">Causes</a>' in page
    assert metric(console.page(f"{story.base}/causes"), "baltic-sea-all-points") == "1,050"
    assert (download.status_code, len(rows(download.text))) == (200, 2)


def test_signed_out_the_page_and_the_settlement_ask_to_sign_in(
    story: Story, new_console: Callable[[], Console]
) -> None:
    console = new_console()
    for path in (f"{story.base}/causes", f"{story.base}/causes/baltic-sea/settlement.csv?month=2026-11"):
        response: httpx.Response = console.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/sign-in")


def test_a_program_without_causes_has_no_nav_link_and_its_page_says_how_to_add_one(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    api = make_program({"causes": []})
    console = signed_in(Role.MARKETER)

    dashboard = console.page(f"/admin/p/{api.slug}/dashboard")
    page = console.page(f"/admin/p/{api.slug}/causes")

    assert f'href="/admin/p/{api.slug}/causes"' not in dashboard
    assert "This program lists no causes" in page
    assert f'<a href="/admin/p/{api.slug}/program/edit#file-heading">Add <code>causes</code>' in page


def test_the_demo_programs_cause_is_on_the_page(api: ApiClient, signed_in: Callable[[Role], Console]) -> None:
    anna = api.member()
    donate(api, anna, "baltic-sea", 40, "give-1")  # the demo's: a cent a point, matched one to one up to €500.00

    page = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/causes")

    assert figures(page, "baltic-sea", "month") == {
        "points": "40",
        "value": "€0.40",
        "matched": "€0.40",
        "given": "€0.80",
        "donors": "1",
    }
    assert (metric(page, "baltic-sea-budget"), metric(page, "baltic-sea-budget-left")) == ("€500.00", "€499.60")
    assert "Baltic Sea Foundation" in page
