"""The profile page's "Notifications on this device" in Chromium against a real server, at desktop and phone size:
shown where the browser has Push, labelled, read in each of the five languages, reached by keyboard and axe clean;
turning it on where no push service answers (this headless Chromium has none) says so, leaves it off and keeps
nothing; and the portal's service worker shows a push handed to it by Chromium's DevTools, a push of the same mail
replacing it. Delivery over the network is tested against the stand-in push service (tests/push)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator, language_name
from punchcard.push.models import PushSubscription
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.test_portal import Member, fits_the_width, sign_in
from tests.factories import ApiClient, ProgramMaker
from tests.smtp import Mailbox


@pytest.fixture
def anna(make_program: ProgramMaker, live_server: LiveServer) -> tuple[Member, int]:
    """Anna, enrolled three days ago, and her program's id."""
    api: ApiClient = make_program()
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    api.member("anna", email=email, name="Anna Tamm", language="en", enrolled_at=(NOW - timedelta(days=3)).isoformat())
    return Member(email, f"{live_server.url}/portal/{api.slug}"), api.program_id


def subscriptions(engine: Engine, program_id: int) -> int:
    with Session(engine) as session:
        found = session.execute(
            select(func.count()).select_from(PushSubscription).where(PushSubscription.program_id == program_id)
        ).scalar_one()
    return int(found)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_notification_switch_reads_in_each_language_and_stays_accessible(
    page: Page, mailbox: Mailbox, anna: tuple[Member, int], language: str
) -> None:
    member, _ = anna
    ui = Translator(language)
    sign_in(page, member, mailbox)
    page.get_by_role("form", name="Language").get_by_role("button", name=language_name(language)).click()
    page.goto(f"{member.portal}/profile")
    expect(page.locator("html")).to_have_attribute("lang", language)
    section = page.get_by_role("region", name=ui.t("push.title"))
    expect(section).to_be_visible()  # Chromium has Push: the script shows the switch
    switch = section.get_by_role("checkbox", name=ui.t("push.toggle"))
    expect(switch).to_be_visible()
    expect(switch).not_to_be_checked()
    expect(section.get_by_text(ui.t("push.help"))).to_be_visible()
    assert fits_the_width(page)
    assert axe_violations(page) == []
    if language == "en":
        screenshot(page, "portal-profile-notifications")


def test_the_switch_is_reached_by_keyboard_and_a_failed_subscription_leaves_it_off(
    page: Page, live_server: LiveServer, mailbox: Mailbox, anna: tuple[Member, int], engine: Engine
) -> None:
    member, program_id = anna
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, member, mailbox)
    page.goto(f"{member.portal}/profile")
    page.wait_for_function("() => navigator.serviceWorker.getRegistration().then(found => !!(found && found.active))")
    switch = page.get_by_role("checkbox", name="Notifications on this device")
    expect(switch).to_be_visible()
    for _ in range(40):  # tab through the page to the switch
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "push-toggle":
            break
    assert page.evaluate("() => document.activeElement.id") == "push-toggle"
    page.keyboard.press("Space")
    # No push service answers this Chromium: the subscription fails, the member is told, and the switch is off again
    expect(page.locator("#push-status")).to_have_text(
        "Notifications could not be turned on here. Please try again later.", timeout=30_000
    )
    expect(switch).not_to_be_checked()
    expect(switch).to_be_enabled()
    assert subscriptions(engine, program_id) == 0
    assert axe_violations(page) == []


def test_the_service_worker_shows_a_push_and_a_push_sent_again_replaces_it(
    page: Page, live_server: LiveServer, mailbox: Mailbox, anna: tuple[Member, int]
) -> None:
    member, _ = anna
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    sign_in(page, member, mailbox)
    page.wait_for_function("() => navigator.serviceWorker.getRegistration().then(found => !!(found && found.active))")
    # Chromium's DevTools hand the worker a push as a push service would (there is none here)
    devtools = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    devtools.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    devtools.send("ServiceWorker.enable")
    for _ in range(200):  # at most ten seconds
        if any(found["scopeURL"] == member.portal for found in registrations):
            break
        page.wait_for_timeout(50)
    [registration] = [found for found in registrations if found["scopeURL"] == member.portal][:1]

    def push(message: dict[str, str]) -> None:
        devtools.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": live_server.url, "registrationId": registration["registrationId"], "data": json.dumps(message)},
        )

    home = f"{member.portal}?lang=et"
    push({"title": "Teenisid 40 punkti", "body": "Aitäh ostu eest!", "url": home, "tag": "mail-7", "lang": "et"})
    [notification] = showing(page, lambda found: len(found) == 1)
    assert notification["icon"].startswith(f"{live_server.url}/portal-assets/icon-192.png")
    del notification["icon"]
    assert notification == {
        "title": "Teenisid 40 punkti",
        "body": "Aitäh ostu eest!",
        "tag": "mail-7",
        "lang": "et",
        "url": home,
    }
    # The same mail pushed again replaces its notification; a link out of the portal leads to its home page instead
    push({"title": "Teenisid 40 punkti", "body": "Uuesti", "url": "https://elsewhere.example/", "tag": "mail-7"})
    [again] = showing(page, lambda found: len(found) == 1 and found[0]["body"] == "Uuesti")
    assert (again["tag"], again["url"]) == ("mail-7", member.portal)


SHOWN = """() => navigator.serviceWorker.getRegistration().then(found => found.getNotifications()).then(all =>
    all.map(one => ({title: one.title, body: one.body, tag: one.tag, lang: one.lang, icon: one.icon,
                     url: one.data.url})))"""


def showing(page: Page, done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """The notifications the portal's worker shows, once ``done`` holds of them (at most ten seconds)."""
    found: list[dict[str, Any]] = []
    for _ in range(200):
        found = page.evaluate(SHOWN)
        if done(found):
            return found
        page.wait_for_timeout(50)
    raise AssertionError(f"the notifications shown are {found}")
