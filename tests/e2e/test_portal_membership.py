"""The portal's membership page and the home page's summary in Chromium against a real server, in each of the five
languages at phone and desktop size: a member in the trial, one whose payment failed, and one without a membership
who sees the plans on sale, each reaching the page from the home page's summary; each membership page fitting the
screen, with no accessibility violation (axe)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, screenshot
from tests.e2e.portal_steps import check, sign_in
from tests.factories import ApiClient, ProgramMaker
from tests.portal.test_membership_page import BEAN_CLUB, TEA_CLUB
from tests.smtp import Mailbox

TALLINN = ZoneInfo("Europe/Tallinn")
"""The demo program's time zone: the dates the page shows are its days."""


PLANS: list[dict[str, Any]] = [BEAN_CLUB, TEA_CLUB]
TRIAL_ENDS = NOW + timedelta(days=9)
"""The trial member started five days ago."""
GRACE_ENDS = NOW + timedelta(days=6)
"""The past-due member's trial ended yesterday, unpaid; the plan's grace is 7 days."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    status: str | None
    """The status key the page words, or ``None`` without a membership."""


@dataclass(frozen=True)
class Club:
    api: ApiClient
    portal: str
    people: list[Person]


def membership_event(api: ApiClient, member: str, kind: str, at: str, **fields: Any) -> None:
    body = {"id": api.next_id(kind), "type": kind, "member_external_id": member, "occurred_at": at, **fields}
    response = api.post("/api/v1/events", body)
    assert response.status_code == 201, response.text


@pytest.fixture
def club(make_program: ProgramMaker, live_server: LiveServer) -> Club:
    api = make_program({"membership_plans": PLANS})
    tag = uuid.uuid4().hex[:8]
    people = [
        Person("Tiina Tamm", f"tiina-{tag}@example.com", "membership.status.trialing"),
        Person("Paul Saar", f"paul-{tag}@example.com", "membership.status.past_due"),
        Person("Nora Mets", f"nora-{tag}@example.com", None),
    ]
    for person in people:
        api.member(person.email.split("@")[0], email=person.email, name=person.name, language="en")
    trial, past_due = (person.email.split("@")[0] for person in people[:2])
    for member, days_ago in ((trial, 5), (past_due, 15)):
        started = (NOW - timedelta(days=days_ago)).isoformat()
        body = {"plan": "bean-club", "period": "month", "payment_ref": f"pay-{member}", "started_at": started}
        assert api.post(f"/api/v1/members/{member}/memberships", body).status_code == 201
    membership_event(api, past_due, "membership_payment_failed", (NOW - timedelta(days=1)).isoformat())
    return Club(api, f"{live_server.url}/portal/{api.slug}", people)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_member_reads_their_membership_in_each_language_fitting_and_accessible(
    page: Page, live_server: LiveServer, mailbox: Mailbox, club: Club, language: str
) -> None:
    ui = Translator(language)
    page.goto(f"{club.portal}/sign-in?lang={language}")  # the switch; a cookie keeps it for every member after
    for person in club.people:
        sign_in(page, club.portal, person.email, mailbox, ui, person.name)
        summary = page.get_by_role("region", name=ui.t("membership.title"), exact=True)
        # The home page is checked whole by the portal's own browser test; here its summary is followed

        summary.get_by_role("link").click()
        expect(page.get_by_role("heading", name=ui.t("membership.title"), level=1)).to_be_visible()
        expect(page.get_by_role("link", name=ui.t("membership.nav"), exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        if person.status is None:
            expect(page.get_by_role("heading", name=ui.t("membership.plans.title"), level=2)).to_be_visible()
            expect(page.get_by_text(ui.t("membership.plans.checkout"))).to_be_visible()
            expect(page.get_by_text(ui.n("membership.plan.trial", 14))).to_be_visible()
            expect(page.locator("#plan-tea-club")).to_contain_text(
                ui.t("membership.price.year", price=ui.money(Decimal("19.00"), "EUR"))
            )
        else:
            end = TRIAL_ENDS if person.status == "membership.status.trialing" else GRACE_ENDS
            status = ui.t(person.status, date=ui.date(end.astimezone(TALLINN).date()))
            expect(page.locator("#membership-status")).to_have_text(status)
            perks = page.get_by_role("list", name=ui.t("membership.perks"), exact=True)
            expect(perks.get_by_text(ui.t("membership.perk.free_shipping"), exact=True)).to_be_visible()
        check(page, language, f"membership of {person.name}", ("membership.",))
        if language == "en" and person.status == "membership.status.trialing":
            screenshot(page, "portal-membership")
        page.get_by_role("button", name=ui.t("layout.sign_out")).click()
        expect(page.get_by_role("heading", name=ui.t("sign_in.title"))).to_be_visible()
