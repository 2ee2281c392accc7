"""Signing in to the portal: one-time e-mail links (15 minutes, once, one program), sessions, sign-out and CSRF."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.api.app import create_app
from punchcard.kit.db import unit_of_work
from punchcard.kit.settings import Settings
from punchcard.member.models import Member
from punchcard.portal import service
from punchcard.portal.errors import SignInLinkInvalid
from punchcard.portal.models import MemberSession, SignInToken
from tests.factories import ApiClient, deliver_outbox
from tests.portal.conftest import NOW, Browser, link_in, subject_of, text_of, visible

SESSION = "punchcard_session"


def new_email() -> str:
    return f"m-{uuid.uuid4().hex[:10]}@example.com"


def tokens_of(engine: Engine, program_id: int) -> int:
    with unit_of_work(engine) as session:
        return int(session.execute(select(func.count()).where(SignInToken.program_id == program_id)).scalar_one())


def request(session: Session, program_id: int, email: str, at: datetime) -> Member | None:
    """``request_link`` as the portal's form calls it."""
    return service.request_link(session, program_id, email, at, language="en", source="portal")


def mailed_token(engine: Engine, program_id: int, email: str, at: datetime) -> str:
    """Ask for a link at ``at`` and have it made as the outbox's mail consumer makes it at that moment: the token
    the mailed link carries."""
    with unit_of_work(engine) as session:
        member = request(session, program_id, email, at)
        assert member is not None
        request_id = session.execute(
            select(func.max(SignInToken.id)).where(SignInToken.member_id == member.id)
        ).scalar_one()
    with unit_of_work(engine) as session:
        armed = service.arm_link(session, program_id, request_id, at)
    assert armed is not None
    return armed[1]


# --- the one-time link, at the service -----------------------------------------------------------------------------


def test_a_link_works_until_fifteen_minutes_after_it_was_sent(engine: Engine, api: ApiClient) -> None:
    email = new_email()
    api.member("anna", email=email)
    token = mailed_token(engine, api.program_id, email, NOW)
    with unit_of_work(engine) as session:
        member = service.use_link(session, api.program_id, token, NOW + timedelta(minutes=14, seconds=59))
    assert member.external_id == "anna"


def test_a_mailed_link_works_before_the_mail_consumer_has_committed(engine: Engine, api: ApiClient) -> None:
    # Given a link asked for, and made by the mail consumer in a transaction that has not committed (it never will)
    email = new_email()
    api.member("anna", email=email)
    with unit_of_work(engine) as session:
        member = request(session, api.program_id, email, NOW)
        assert member is not None
        request_id = session.execute(
            select(func.max(SignInToken.id)).where(SignInToken.member_id == member.id)
        ).scalar_one()
    with Session(engine) as session:
        armed = service.arm_link(session, api.program_id, request_id, NOW)
        assert armed is not None
        session.rollback()
    # When the member follows the mailed link at once
    with unit_of_work(engine) as session:
        signed_in = service.use_link(session, api.program_id, armed[1], NOW + timedelta(seconds=1))
    # Then it signs them in: the token was fixed when they asked, not when the mail was made
    assert signed_in.external_id == "anna"


def test_a_link_stops_working_at_fifteen_minutes(engine: Engine, api: ApiClient) -> None:
    email = new_email()
    api.member(email=email)
    token = mailed_token(engine, api.program_id, email, NOW)
    with unit_of_work(engine) as session, pytest.raises(SignInLinkInvalid):
        service.use_link(session, api.program_id, token, NOW + timedelta(minutes=15))


def test_a_link_works_once(engine: Engine, api: ApiClient) -> None:
    email = new_email()
    api.member(email=email)
    token = mailed_token(engine, api.program_id, email, NOW)
    with unit_of_work(engine) as session:
        service.use_link(session, api.program_id, token, NOW)
    with unit_of_work(engine) as session, pytest.raises(SignInLinkInvalid):
        service.use_link(session, api.program_id, token, NOW + timedelta(seconds=1))


def test_a_link_of_one_program_does_not_sign_in_to_another(
    engine: Engine, api: ApiClient, make_program: object
) -> None:
    email = new_email()
    api.member(email=email)
    other = make_program()  # type: ignore[operator]
    token = mailed_token(engine, api.program_id, email, NOW)
    with unit_of_work(engine) as session, pytest.raises(SignInLinkInvalid):
        service.use_link(session, other.program_id, token, NOW)
    with unit_of_work(engine) as session:  # and it still works where it belongs
        assert service.use_link(session, api.program_id, token, NOW).email == email


def test_only_a_fingerprint_of_the_link_is_stored(engine: Engine, api: ApiClient) -> None:
    email = new_email()
    api.member(email=email)
    token = mailed_token(engine, api.program_id, email, NOW)
    with unit_of_work(engine) as session:
        stored = session.execute(select(SignInToken).where(SignInToken.program_id == api.program_id)).scalar_one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in stored.token_hash
        assert stored.expires_at == NOW + timedelta(minutes=15)


def test_an_unknown_address_gets_no_link(engine: Engine, api: ApiClient) -> None:
    with unit_of_work(engine) as session:
        assert request(session, api.program_id, new_email(), NOW) is None
    assert tokens_of(engine, api.program_id) == 0


def test_a_blocked_member_gets_no_link(engine: Engine, api: ApiClient) -> None:
    email = new_email()
    member = api.member(email=email)
    assert api.patch(f"/api/v1/members/{member}", {"status": "blocked"}).status_code == 200
    with unit_of_work(engine) as session:
        assert request(session, api.program_id, email, NOW) is None
    assert tokens_of(engine, api.program_id) == 0


def test_at_most_three_links_are_sent_per_fifteen_minutes(engine: Engine, api: ApiClient) -> None:
    email = new_email()
    api.member(email=email)
    with unit_of_work(engine) as session:
        sent = [request(session, api.program_id, email, NOW + timedelta(minutes=i)) for i in range(4)]
    assert [link is not None for link in sent] == [True, True, True, False]
    with unit_of_work(engine) as session:
        assert request(session, api.program_id, email, NOW + timedelta(minutes=15, seconds=1))
    assert tokens_of(engine, api.program_id) == 4


def test_the_address_is_matched_without_regard_to_case(engine: Engine, api: ApiClient) -> None:
    api.member("case", email="Anna.Tamm@Example.com")
    with unit_of_work(engine) as session:
        member = request(session, api.program_id, "  anna.tamm@example.COM ", NOW)
    assert member is not None
    assert member.external_id == "case"


# --- the same over HTTP, with real mail -----------------------------------------------------------------------------


def test_a_member_signs_in_by_the_link_mailed_in_the_language_of_the_page_they_asked_from(browser: Browser) -> None:
    # Given a member whose own language is Estonian, on the sign-in page in Finnish
    email = new_email()
    browser.api.member("anna", email=email, name="Anna", language="et")
    assert '<html lang="fi">' in browser.get("/sign-in?lang=fi").text

    # When they ask for a link there
    answer = browser.ask_for_link(email)
    assert answer.status_code == 200
    assert f"Jos osoite {email} kuuluu jäsenelle, kirjautumislinkki on matkalla." in visible(answer.text)

    # Then the mail is in Finnish, the program's name too
    deliver_outbox(browser.http)
    mail = browser.smtp.wait_for(email)
    assert subject_of(mail) == "Kirjautumislinkkisi: Bean There -kahvipaahtimo"
    assert mail["Content-Language"] == "fi"
    assert "Hei Anna," in text_of(mail)
    assert mail.get_content_type() == "multipart/alternative"

    # ...and the link opens the portal in Finnish, whatever their own language
    browser.http.cookies.delete("punchcard_lang")
    opened = browser.http.get(link_in(mail).split("portal.test", 1)[1], follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == browser.url()
    cookies = opened.headers.get_list("set-cookie")
    assert any("punchcard_session" in cookie and "httponly" in cookie.lower() for cookie in cookies)
    assert all("samesite=lax" in cookie.lower() for cookie in cookies)
    home = browser.get()
    assert home.status_code == 200
    assert '<html lang="fi">' in home.text


def test_the_answer_is_the_same_whether_or_not_the_address_is_a_members(browser: Browser) -> None:
    member_email, stranger = new_email(), new_email()
    browser.api.member(email=member_email)
    known = browser.ask_for_link(member_email)
    unknown = browser.ask_for_link(stranger)
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert known.text.replace(member_email, "ADDRESS") == unknown.text.replace(stranger, "ADDRESS")
    assert [str(message["To"]) for message in browser.smtp.messages].count(stranger) == 0


def test_a_used_link_shows_a_page_that_offers_a_new_one(browser: Browser) -> None:
    email = new_email()
    browser.api.member(email=email)
    link = browser.link_for(email).split("portal.test", 1)[1]
    assert browser.http.get(link, follow_redirects=False).status_code == 303
    again = browser.http.get(link, follow_redirects=False)
    assert again.status_code == 400
    assert "This link does not work" in again.text
    assert f'href="{browser.url("/sign-in")}"' in again.text


def test_pages_need_a_session(browser: Browser) -> None:
    for path in ("", "/history", "/rewards", "/coupons", "/card", "/profile"):
        answer = browser.get(path)
        assert (path, answer.status_code, answer.headers["location"]) == (path, 303, browser.url("/sign-in"))


def test_signing_out_revokes_the_session(engine: Engine, browser: Browser) -> None:
    email = new_email()
    browser.api.member(email=email)
    browser.sign_in(email)
    cookie = browser.http.cookies.get(SESSION)
    assert cookie
    assert browser.get().status_code == 200
    out = browser.post("/sign-out", {"csrf": browser.csrf("/profile")})
    assert (out.status_code, out.headers["location"]) == (303, browser.url("/sign-in"))
    with unit_of_work(engine) as session:
        stored = session.execute(
            select(MemberSession).where(MemberSession.program_id == browser.api.program_id)
        ).scalar_one()
        assert stored.revoked_at == NOW
    browser.http.cookies.set(SESSION, cookie, path=browser.url())  # the old cookie, replayed
    assert browser.get().status_code == 303


def test_a_session_ends_after_thirty_days(browser: Browser) -> None:
    email = new_email()
    browser.api.member(email=email)
    browser.sign_in(email)
    browser.clock.set(NOW + timedelta(days=30) - timedelta(seconds=1))
    assert browser.get().status_code == 200
    browser.clock.set(NOW + timedelta(days=30))
    assert browser.get().status_code == 303


def test_a_blocked_member_is_signed_out_at_once(browser: Browser) -> None:
    email = new_email()
    member = browser.api.member(email=email)
    browser.sign_in(email)
    assert browser.api.patch(f"/api/v1/members/{member}", {"status": "blocked"}).status_code == 200
    assert browser.get().status_code == 303


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    engine: Engine, browser: Browser
) -> None:
    email = new_email()
    browser.api.member(email=email)
    browser.sign_in(email)
    refused = browser.post("/sign-out", {"csrf": "0" * 64})
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    assert browser.get().status_code == 200  # still signed in
    with unit_of_work(engine) as session:
        stored = session.execute(
            select(MemberSession).where(MemberSession.program_id == browser.api.program_id)
        ).scalar_one()
        assert stored.revoked_at is None


def test_the_sign_in_form_needs_its_csrf_token(engine: Engine, browser: Browser) -> None:
    email = new_email()
    browser.api.member(email=email)
    browser.get("/sign-in")
    refused = browser.post("/sign-in", {"email": email, "csrf": "forged"})
    assert refused.status_code == 400
    assert "The form had expired. Please send it again." in refused.text
    assert tokens_of(engine, browser.api.program_id) == 0


def test_cookies_are_secure_when_the_portal_is_served_over_https(database_url: str, api: ApiClient) -> None:
    app = create_app(Settings(fixed_now=NOW, database_url=database_url, public_url="https://rewards.example.com"))
    page = TestClient(app, base_url="https://rewards.example.com").get(f"/portal/{api.slug}/sign-in")
    cookie = page.headers["set-cookie"].lower()
    assert "punchcard_browser=" in cookie
    assert "; secure" in cookie
    assert "; httponly" in cookie
    assert f"path=/portal/{api.slug}" in cookie
