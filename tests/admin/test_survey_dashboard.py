"""The dashboard shows each survey's results for the period (NPS with its groups, or the CES average), its score over
time for the buckets that have answers, and what members wrote, newest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.admin.conftest import Console, metric
from tests.clock import NOW
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, line
from tests.smtp import Mailbox
from tests.survey.test_surveys import answer, answer_link, member, run_jobs

from punchcard.staff.domain import Role


def answered(
    api: ApiClient, client: TestClient, engine: Engine, mailbox: Mailbox, clock: Clock, scores: list[tuple[int, str]]
) -> None:
    """Members who bought at NOW and answered, one after the other on the fourth day."""
    for number, (score, comment) in enumerate(scores):
        someone, address = member(api, f"d{number}", marketing_consent=True)
        clock.set(NOW)
        api.purchase(someone, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())
        run_jobs(engine, api, client, clock, NOW + timedelta(days=3, hours=1, minutes=10 * number))
        assert answer(client, answer_link(mailbox, address), str(score), comment).status_code == 303


def test_the_dashboard_shows_nps_its_groups_and_what_members_wrote(
    api: ApiClient,
    client: TestClient,
    engine: Engine,
    mailbox: Mailbox,
    clock: Clock,
    signed_in: Callable[[Role], Console],
) -> None:
    answered(api, client, engine, mailbox, clock, [(10, "Lovely beans"), (9, ""), (4, "Parcel came late"), (8, "")])
    html = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/dashboard", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert metric(html, "survey-nps-responses") == "4"
    assert metric(html, "survey-nps-nps") == "25"  # (2 promoters − 1 detractor) ÷ 4
    assert html.index("Parcel came late") < html.index("Lovely beans")  # newest first
    assert "nps: NPS per day (answers)" in html
    assert '<th scope="row">2026-11-28 (4)</th><td class="num">25</td>' in html  # the chart's table: one day


def test_a_ces_survey_shows_its_average(
    make_program: ProgramMaker,
    client: TestClient,
    engine: Engine,
    mailbox: Mailbox,
    clock: Clock,
    signed_in: Callable[[Role], Console],
) -> None:
    api = make_program({"surveys": [{"code": "effort", "kind": "ces"}]})
    answered(api, client, engine, mailbox, clock, [(7, ""), (6, "Easy"), (4, "")])
    html = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/dashboard", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert metric(html, "survey-effort-responses") == "3"
    assert metric(html, "survey-effort-ces") == "5.67"
