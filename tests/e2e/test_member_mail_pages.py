"""Member e-mail pages in Chromium, at desktop and phone size, axe clean: the console's editor of a mail's words with
its preview in each of the five languages, the one-click unsubscribe page and the survey answer page in each
member's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.kit.db import unit_of_work
from punchcard.mailing.models import MemberMail
from punchcard.member import service as members
from punchcard.staff.domain import Role
from punchcard.survey.models import SurveyInvitation
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, Shop, screenshot
from tests.e2e.test_admin import accessible, fits_the_width, sign_in, staff
from tests.factories import ApiClient

UNSUBSCRIBE = {
    "en": ("Unsubscribe", "no more of these e-mails"),
    "et": ("Loobu", "ei saada neid kirju enam"),
    "fi": ("Peru tilaus", "ei lähetä näitä viestejä enää"),
    "sv": ("Avregistrera", "skickar inga fler sådana mejl"),
    "ru": ("Отписаться", "больше не будет присылать такие письма"),
}


def checked(page: Page) -> None:
    accessible(page)
    assert fits_the_width(page), page.url


def test_a_marketer_edits_a_mail_with_a_preview_in_every_language(
    page: Page, live_server: LiveServer, shop: Shop, engine: Engine
) -> None:
    sign_in(page, live_server, staff(engine, Role.MARKETER))
    page.goto(f"{shop.console}/dashboard")
    page.get_by_role("link", name="E-mails").click()
    expect(page.get_by_role("link", name="Points earned")).to_be_visible()
    checked(page)
    page.get_by_role("link", name="Points earned").click()
    expect(page.get_by_label("Body (sv)")).to_be_visible()
    checked(page)
    previews = {
        "en": "You earned 40 points",
        "et": "Teenisid 40 punkti",
        "fi": "Ansaitsit 40 pistettä",
        "sv": "Du har tjänat 40 poäng",
        "ru": "Вы получили 40 баллов",
    }
    for language, subject in previews.items():
        summary = page.locator(f'details[data-preview="{language}"] summary')
        expect(summary).to_contain_text(subject)
        if language != "en":  # the first language's preview is open already
            summary.click()
        frame = page.frame_locator(f'details[data-preview="{language}"] iframe')
        expect(frame.locator("body")).to_contain_text(" ".join(subject.split()[-2:]))  # "40 punkti"
    screenshot(page, "admin-email-editor")
    # A placeholder the mail has not is refused by its field
    page.get_by_label("Body (sv)").fill("Hej {{ reward }}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Body (sv)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-sv-body")).to_contain_text("unknown placeholder {{ reward }}")
    checked(page)
    page.get_by_label("Body (sv)").fill("{{ greeting }}\n\nDu har fått {{ points }}!")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: points earned")
    expect(page.locator('tr[data-kind="points_earned"]')).to_contain_text("sv")


@pytest.mark.parametrize("language", list(UNSUBSCRIBE))
def test_the_unsubscribe_page_speaks_the_members_language(
    page: Page, live_server: LiveServer, shop: Shop, engine: Engine, language: str
) -> None:
    api: ApiClient = shop.api
    external = api.member(email=f"unsub-{language}@example.com", language=language, marketing_consent=True)
    token = f"e2e-{language}-{page.viewport_name}-{api.slug}"  # type: ignore[attr-defined]
    with unit_of_work(engine) as session:
        member = members.get(session, api.program_id, external)
        session.add(
            MemberMail(
                program_id=api.program_id,
                member_id=member.id,
                kind="welcome",
                marketing=True,
                facts={},
                status="sent",
                created_at=NOW,
                send_after=NOW,
                unsubscribe_token=token,
            )
        )
    page.goto(f"{live_server.url}/mail/unsubscribe/{token}")
    button, done = UNSUBSCRIBE[language]
    expect(page.locator("html")).to_have_attribute("lang", language)
    checked(page)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("status")).to_contain_text(done)
    checked(page)
    assert api.get(f"/api/v1/members/{external}").json()["marketing_consent"] is False
    if language == "et":
        screenshot(page, "unsubscribe-done")


SURVEY = {
    "en": ("Send my answer", "Thank you for your answer!"),
    "et": ("Saada vastus", "Aitäh vastuse eest!"),
    "fi": ("Lähetä vastaus", "Kiitos vastauksestasi!"),
    "sv": ("Skicka mitt svar", "Tack för ditt svar!"),
    "ru": ("Отправить ответ", "Спасибо за ваш ответ!"),
}


@pytest.mark.parametrize("language", list(SURVEY))
def test_the_survey_page_opens_with_the_mails_score_and_takes_the_answer(
    page: Page, live_server: LiveServer, shop: Shop, engine: Engine, language: str
) -> None:
    api: ApiClient = shop.api
    external = api.member(email=f"survey-{language}@example.com", language=language, marketing_consent=True)
    token = f"e2e-survey-{language}-{page.viewport_name}-{api.slug}"  # type: ignore[attr-defined]
    with unit_of_work(engine) as session:
        member = members.get(session, api.program_id, external)
        session.add(
            SurveyInvitation(
                program_id=api.program_id,
                member_id=member.id,
                survey="nps",
                order_id=f"order-{token}",
                due_at=NOW,
                status="invited",
                invited_at=NOW,
                token=token,
            )
        )
    page.goto(f"{live_server.url}/portal/{api.slug}/surveys/{token}?score=8&lang={language}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#score-8")).to_be_checked()
    checked(page)
    page.locator('label[for="score-9"]').click()  # a member may change their mind before sending
    page.locator("#comment").fill("Hyvä kahvi" if language == "fi" else "Great coffee")
    button, thanks = SURVEY[language]
    if language == "et":
        screenshot(page, "survey-question")
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("status")).to_contain_text(thanks)
    checked(page)
    assert "9" in page.locator("main").inner_text()
    if language == "et":
        screenshot(page, "survey-answered")
