"""The console's coalition page: the coalition the program is in (code, owner, currency, unit value, each brand's
rate), a month's flows per direction and what the brands owe each other netted per pair, checked against movements
made through the API and against the owner's settlement from the API; the owner sees every pair, a partner only its
own; the month chosen, a calendar month in the program's zone; the month's settlement as CSV, to the byte; a brand
that has left still in the figures; who may see it; the nav link, only for a program in a coalition."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
import yaml
from sqlalchemy import Engine
from tests.admin.conftest import Console, metric
from tests.clock import NOW
from tests.coalition.test_coalition_api import give, link, settlement, transfer
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker

from punchcard.kit.db import unit_of_work
from punchcard.program import service as programs
from punchcard.staff.domain import Role


@dataclass(frozen=True)
class Story:
    code: str
    roaster: ApiClient
    """Bean There, the owner: 1 point a unit, a unit worth 0.05 EUR."""
    tea: ApiClient
    """Leaf & Cup, a partner: 2 points a unit."""
    bakery: ApiClient
    """Crumb Bakery, a partner: 5 points a unit."""

    def base(self, api: ApiClient) -> str:
        return f"/admin/p/{api.slug}"

    def pair(self, first: ApiClient, second: ApiClient) -> str:
        return f"{first.slug}-{second.slug}"


@pytest.fixture
def story(make_program: ProgramMaker, clock: Clock, engine: Engine) -> Story:
    return tell(make_program, clock, engine)


def tell(make_program: ProgramMaker, clock: Clock, engine: Engine) -> Story:
    """Two months of movements through the API as they happened (times UTC; Tallinn is 3 hours ahead until 25 October,
    2 after), read on 25 November. Anna has an account at each brand, Ben at the roaster and the tea shop, each linked:

    - October: Anna moves 100 roaster points to the tea shop (100 units, 5.00 EUR) and 40 tea points back (20 units,
      1.00 EUR): the roaster owes the tea shop 4.00 EUR;
    - November: Anna moves 60 tea points to the roaster at 00:30 on the 1st in Tallinn, still 31 October in UTC (30
      units, 1.50 EUR), then 80 roaster points to the tea shop (80 units, 4.00 EUR), 50 bakery points to the roaster
      (10 units, 0.50 EUR) and 20 tea points to the bakery (10 units, 0.50 EUR); Ben moves 20 roaster points to the tea
      shop (20 units, 1.00 EUR) and 40 tea points back (20 units, 1.00 EUR). Netted: the roaster owes the tea shop
      2.50 EUR, the bakery owes the roaster 0.50 EUR and the tea shop owes the bakery 0.50 EUR.
    """
    code = f"c-{uuid.uuid4().hex[:8]}"
    tea = make_program({"name": {"en": "Leaf & Cup"}, "coalition": {"code": code, "points_per_unit": 2}})
    bakery = make_program({"name": {"en": "Crumb Bakery"}, "coalition": {"code": code, "points_per_unit": 5}})
    founding = {"unit_value": "0.05", "partners": [tea.slug, bakery.slug]}
    roaster = make_program(
        {"name": {"en": "Bean There"}, "coalition": {"code": code, "points_per_unit": 1, "owner": founding}}
    )
    clock.set("2026-10-01T09:00:00+00:00")
    tag = uuid.uuid4().hex[:8]
    anna = {api.slug: api.member(email=f"anna-{tag}@example.com") for api in (roaster, tea, bakery)}
    ben = {api.slug: api.member(email=f"ben-{tag}@example.com") for api in (roaster, tea)}
    assert len(link(engine, roaster, anna[roaster.slug])) == 3
    assert len(link(engine, roaster, ben[roaster.slug])) == 2
    give(roaster, anna[roaster.slug], 200)
    for moment, who, sender, receiver, points in [
        ("2026-10-10T10:00:00+00:00", anna, roaster, tea, 100),
        ("2026-10-20T10:00:00+00:00", anna, tea, roaster, 40),
        ("2026-10-31T22:30:00+00:00", anna, tea, roaster, 60),
        ("2026-11-05T10:00:00+00:00", anna, roaster, tea, 80),
        ("2026-11-06T10:00:00+00:00", ben, roaster, tea, 20),
        ("2026-11-10T10:00:00+00:00", anna, bakery, roaster, 50),
        ("2026-11-12T10:00:00+00:00", anna, tea, bakery, 20),
        ("2026-11-20T10:00:00+00:00", ben, tea, roaster, 40),
    ]:
        clock.set(moment)
        moved = transfer(sender, who[sender.slug], receiver.slug, points, f"move-{uuid.uuid4().hex[:8]}")
        assert moved.status_code == 201, moved.text
    clock.set("2026-11-25T12:00:00+00:00")
    return Story(code, roaster, tea, bakery)


NOVEMBER = {"from": "2026-10-31T22:00:00Z", "to": "2026-11-30T22:00:00Z"}
FIGURES = ("movements", "units", "amount")


def flow(page: str, pair: str) -> tuple[str, ...]:
    return tuple(metric(page, f"flow-{pair}-{name}") for name in FIGURES)


def flows_shown(page: str) -> list[str]:
    """The pairs of the flows table, in its order."""
    return [part.split('"')[0] for part in page.split('<tr data-flow="')[1:]]


def owed_shown(page: str) -> list[str]:
    return [part.split('"')[0] for part in page.split('data-metric="owed-')[1:]]


def test_the_owner_sees_the_coalition_and_every_pairs_flows_and_what_they_owe_netted(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    roaster, tea, bakery = story.roaster, story.tea, story.bakery
    page = signed_in(Role.VIEWER).page(f"{story.base(roaster)}/coalition")

    assert f'<dd data-fact="code"><code>{story.code}</code></dd>' in page
    assert '<dd data-fact="owner">Bean There</dd>' in page
    assert '<dd data-fact="currency">EUR</dd>' in page
    assert '<dd data-fact="unit-value">0.05 EUR</dd>' in page
    assert [metric(page, f"rate-{api.slug}") for api in (roaster, bakery, tea)] == ["1", "5", "2"]
    assert 'data-scope="owner"' in page
    assert "Settlement, November 2026 (this month)" in page
    # Every direction, in the order the brands joined: Anna's tea points at 00:30 on 1 November in Tallinn are here
    assert flow(page, story.pair(tea, bakery)) == ("1", "10", "0.50 EUR")
    assert flow(page, story.pair(tea, roaster)) == ("2", "50", "2.50 EUR")
    assert flow(page, story.pair(bakery, roaster)) == ("1", "10", "0.50 EUR")
    assert flow(page, story.pair(roaster, tea)) == ("2", "100", "5.00 EUR")
    directions = [(tea, bakery), (tea, roaster), (bakery, roaster), (roaster, tea)]
    assert flows_shown(page) == [story.pair(sender, receiver) for sender, receiver in directions]
    # Netted per pair: one payment each, named by the brands
    assert metric(page, f"owed-{story.pair(roaster, tea)}") == html.escape("Bean There owes Leaf & Cup 2.50 EUR")
    assert metric(page, f"owed-{story.pair(bakery, roaster)}") == "Crumb Bakery owes Bean There 0.50 EUR"
    assert metric(page, f"owed-{story.pair(tea, bakery)}") == html.escape("Leaf & Cup owes Crumb Bakery 0.50 EUR")
    assert len(owed_shown(page)) == 3
    # The same as the owner's settlement from the API for the month
    body = settlement(roaster, story.code, **NOVEMBER).json()
    assert {
        (line["from"], line["to"]): (str(line["movements"]), str(line["units"]), f"{line['amount']} EUR")
        for line in body["flows"]
    } == {(sender.slug, receiver.slug): flow(page, story.pair(sender, receiver)) for sender, receiver in directions}
    assert sorted(f"{line['debtor']}-{line['creditor']}" for line in body["owed"]) == sorted(owed_shown(page))
    assert f'href="{story.base(roaster)}/coalition?month=2026-10">Previous month</a>' in page
    assert "Next month" not in page


def test_a_partner_sees_only_the_flows_and_payments_it_is_a_party_to(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    roaster, tea, bakery = story.roaster, story.tea, story.bakery
    console = signed_in(Role.VIEWER)

    at_tea = console.page(f"{story.base(tea)}/coalition")
    at_bakery = console.page(f"{story.base(bakery)}/coalition")

    assert 'data-scope="partner"' in at_tea
    assert html.escape("Leaf & Cup is a partner brand: this page shows only what moved to or from Leaf & Cup") in at_tea
    assert '<dd data-fact="owner">Bean There</dd>' in at_tea
    assert [metric(at_tea, f"rate-{api.slug}") for api in (roaster, bakery, tea)] == ["1", "5", "2"]
    assert flows_shown(at_tea) == [story.pair(tea, bakery), story.pair(tea, roaster), story.pair(roaster, tea)]
    assert flow(at_tea, story.pair(roaster, tea)) == ("2", "100", "5.00 EUR")
    assert sorted(owed_shown(at_tea)) == sorted([story.pair(roaster, tea), story.pair(tea, bakery)])
    assert metric(at_tea, f"owed-{story.pair(roaster, tea)}") == html.escape("Bean There owes Leaf & Cup 2.50 EUR")
    # Nothing of what the bakery and the roaster owe each other
    assert f"flow-{story.pair(bakery, roaster)}" not in at_tea
    assert "Crumb Bakery owes Bean There" not in at_tea

    assert flows_shown(at_bakery) == [story.pair(tea, bakery), story.pair(bakery, roaster)]
    assert sorted(owed_shown(at_bakery)) == sorted([story.pair(bakery, roaster), story.pair(tea, bakery)])
    assert "owes Leaf &amp; Cup" not in at_bakery


def test_another_month_is_chosen_a_calendar_month_in_the_programs_zone(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    roaster, tea = story.roaster, story.tea
    page = signed_in(Role.VIEWER).page(f"{story.base(roaster)}/coalition", month="2026-10")

    # Anna's tea points at 22:30 UTC on 31 October moved in November in Tallinn
    assert flows_shown(page) == [story.pair(tea, roaster), story.pair(roaster, tea)]
    assert flow(page, story.pair(tea, roaster)) == ("1", "20", "1.00 EUR")
    assert flow(page, story.pair(roaster, tea)) == ("1", "100", "5.00 EUR")
    assert metric(page, f"owed-{story.pair(roaster, tea)}") == html.escape("Bean There owes Leaf & Cup 4.00 EUR")
    assert "Settlement, October 2026</h2>" in page
    assert 'name="month" type="month" min="2000-01" max="9998-12" value="2026-10"' in page
    assert f'href="{story.base(roaster)}/coalition?month=2026-11">Next month</a>' in page
    assert f'href="{story.base(roaster)}/coalition">This month</a>' in page
    assert f'href="{story.base(roaster)}/coalition/settlement.csv?month=2026-10"' in page
    # A month without movements owes nothing
    empty = signed_in(Role.VIEWER).page(f"{story.base(roaster)}/coalition", month="2026-09")
    assert flows_shown(empty) == []
    assert metric(empty, "owed-none").startswith("Nothing is owed for September 2026")


def test_this_month_is_the_calendar_month_in_the_programs_zone(
    story: Story, signed_in: Callable[[Role], Console], clock: Clock
) -> None:
    # At 00:30 on 1 December in Tallinn (22:30 UTC the day before) it is December: nothing moved yet
    clock.set("2026-11-30T22:30:00+00:00")
    page = signed_in(Role.VIEWER).page(f"{story.base(story.roaster)}/coalition")
    assert "Settlement, December 2026 (this month)" in page
    assert flows_shown(page) == []
    # An hour earlier it is still November there
    clock.set("2026-11-30T21:30:00+00:00")
    page = signed_in(Role.VIEWER).page(f"{story.base(story.roaster)}/coalition")
    assert "Settlement, November 2026 (this month)" in page
    assert len(flows_shown(page)) == 4


@pytest.mark.parametrize("typed", ["2026-13", "1999-12", "november"])
def test_a_month_that_is_not_one_says_so_and_shows_this_month(
    story: Story, signed_in: Callable[[Role], Console], typed: str
) -> None:
    response = signed_in(Role.VIEWER).get(f"{story.base(story.roaster)}/coalition", month=typed)

    assert response.status_code == 422
    assert '<p class="error" id="error-month">Choose a month as YYYY-MM, such as 2026-11' in response.text
    assert 'aria-invalid="true"' in response.text
    assert len(flows_shown(response.text)) == 4  # this month's


HEADER = "month,line,from,to,movements,units,amount,currency"


def test_the_months_settlement_downloads_as_csv_owed_lines_then_flows(
    story: Story, signed_in: Callable[[Role], Console]
) -> None:
    roaster, tea, bakery = story.roaster, story.tea, story.bakery
    response = signed_in(Role.VIEWER).get(f"{story.base(roaster)}/coalition/settlement.csv", month="2026-11")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (response.headers["cache-control"], response.headers["x-content-type-options"]) == ("no-store", "nosniff")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{roaster.slug}-{story.code}-settlement-2026-11.csv"'
    )
    owed = sorted(  # netted per pair, the pairs in the order of their slugs
        [(roaster, tea, "2.50"), (bakery, roaster, "0.50"), (tea, bakery, "0.50")],
        key=lambda line: tuple(sorted((line[0].slug, line[1].slug))),
    )
    assert response.text == "\n".join(
        [
            HEADER,
            *(f"2026-11,owed,{debtor.slug},{creditor.slug},,,{value},EUR" for debtor, creditor, value in owed),
            f"2026-11,flow,{tea.slug},{bakery.slug},1,10,0.50,EUR",
            f"2026-11,flow,{tea.slug},{roaster.slug},2,50,2.50,EUR",
            f"2026-11,flow,{bakery.slug},{roaster.slug},1,10,0.50,EUR",
            f"2026-11,flow,{roaster.slug},{tea.slug},2,100,5.00,EUR",
            "",
        ]
    )
    # A partner's has its own lines only; a month without movements the header alone
    at_bakery = signed_in(Role.MARKETER).get(f"{story.base(bakery)}/coalition/settlement.csv", month="2026-10")
    assert at_bakery.text == HEADER + "\n"
    at_tea = signed_in(Role.MARKETER).get(f"{story.base(tea)}/coalition/settlement.csv", month="2026-10")
    assert at_tea.text == "\n".join(
        [
            HEADER,
            f"2026-10,owed,{roaster.slug},{tea.slug},,,4.00,EUR",
            f"2026-10,flow,{tea.slug},{roaster.slug},1,20,1.00,EUR",
            f"2026-10,flow,{roaster.slug},{tea.slug},1,100,5.00,EUR",
            "",
        ]
    )


def test_a_settlement_of_no_month_or_of_no_coalition_is_refused(
    story: Story, make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    console = signed_in(Role.OWNER)

    not_a_month = console.get(f"{story.base(story.roaster)}/coalition/settlement.csv", month="2026-13")
    outside = console.get(f"/admin/p/{make_program().slug}/coalition/settlement.csv", month="2026-11")

    assert not_a_month.status_code == 422
    assert "Choose a month as YYYY-MM" in not_a_month.text
    assert "content-disposition" not in not_a_month.headers
    assert outside.status_code == 404
    assert "the program is in no coalition" in outside.text


def leave(engine: Engine, api: ApiClient) -> None:
    """Apply the program's file again without its ``coalition`` section."""
    definition = api.get("/api/v1/program").json()["definition"]
    del definition["coalition"]
    text = yaml.safe_dump(definition)
    with unit_of_work(engine) as session:
        programs.apply(session, programs.parse_text(text, "yaml"), text, "yaml", NOW)


def test_a_brand_that_has_left_still_appears_for_what_moved_while_it_was_in(
    story: Story, engine: Engine, signed_in: Callable[[Role], Console]
) -> None:
    roaster, bakery = story.roaster, story.bakery
    leave(engine, bakery)
    console = signed_in(Role.VIEWER)

    page = console.page(f"{story.base(roaster)}/coalition")
    at_bakery = console.page(f"{story.base(bakery)}/coalition")

    assert f"rate-{bakery.slug}" not in page
    assert flow(page, story.pair(bakery, roaster)) == ("1", "10", "0.50 EUR")
    assert metric(page, f"owed-{story.pair(bakery, roaster)}") == "Crumb Bakery owes Bean There 0.50 EUR"
    assert "This program is in no coalition: its program file has no <code>coalition</code> section." in at_bakery
    assert f'href="{story.base(bakery)}/coalition"' not in at_bakery


@pytest.mark.parametrize("role", [Role.OWNER, Role.SUPPORT, Role.MARKETER, Role.VIEWER])
def test_every_role_sees_the_coalition_and_downloads_its_settlement(
    story: Story, signed_in: Callable[[Role], Console], role: Role
) -> None:
    console = signed_in(role)
    base = story.base(story.tea)

    dashboard = console.page(f"{base}/dashboard")
    download = console.get(f"{base}/coalition/settlement.csv", month="2026-11")

    assert f'<a href="{base}/coalition">Coalition</a>' in dashboard
    assert 'data-scope="partner"' in console.page(f"{base}/coalition")
    assert (download.status_code, download.text.count("\n")) == (200, 6)


def test_signed_out_the_page_and_the_settlement_ask_to_sign_in(
    story: Story, new_console: Callable[[], Console]
) -> None:
    console = new_console()
    base = story.base(story.roaster)
    for path in (f"{base}/coalition", f"{base}/coalition/settlement.csv?month=2026-11"):
        response: httpx.Response = console.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/sign-in")


def test_a_program_outside_any_coalition_sees_nothing_of_it_and_has_no_nav_link(
    story: Story, make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    outside = make_program()
    hopeful = make_program({"coalition": {"code": story.code, "points_per_unit": 3}})  # the owner does not admit it
    console = signed_in(Role.MARKETER)

    page = console.page(f"{story.base(outside)}/coalition")
    hoping = signed_in(Role.VIEWER).page(f"{story.base(hopeful)}/coalition")

    for api in (outside, hopeful):
        assert f'href="{story.base(api)}/coalition"' not in console.page(f"{story.base(api)}/dashboard")
    assert "This program is in no coalition: its program file has no <code>coalition</code> section." in page
    assert f'<a href="{story.base(outside)}/program/edit#file-heading">Add <code>coalition</code>' in page
    content = page[page.index('<main id="main">') :]  # the program switcher lists every program
    for seen in (story.code, story.roaster.slug, "Bean There", "Leaf &amp; Cup", "data-flow", 'data-metric="owed'):
        assert seen not in content
    assert f"names the coalition <code>{story.code}</code>, but the coalition's owner does not admit it" in hoping
    assert "Staff who may edit the program can add it in the program file." in hoping
    assert "data-flow" not in hoping
    # The owner's nav has the link
    owners = console.page(f"{story.base(story.roaster)}/dashboard")
    assert f'<a href="{story.base(story.roaster)}/coalition">Coalition</a>' in owners
