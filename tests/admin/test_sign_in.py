"""Signing in to the console: the form's anti-forgery token, the session cookie's flags, slowing down and locking after
failed attempts (recorded in the audit log), one-time passwords that must be changed, and signing out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.admin.conftest import NOW, Console, StaffLogin, audit_count, audit_entries
from tests.conftest import Clock
from tests.factories import ApiClient

from punchcard.api.app import create_app
from punchcard.kit.db import unit_of_work
from punchcard.kit.settings import Settings
from punchcard.staff.domain import LOCK_DURATION, MAX_FAILURES, Action, Role, retry_delay
from punchcard.staff.models import StaffAccount


def test_pages_send_a_signed_out_visitor_to_the_sign_in_form_and_back(
    api: ApiClient, new_console: Callable[[], Console], make_staff: Callable[..., StaffLogin]
) -> None:
    console = new_console()
    wanted = f"/admin/p/{api.slug}/members?q=ann"
    # When a signed-out visitor opens a console page
    response = console.get(f"/admin/p/{api.slug}/members", q="ann")
    # Then they are sent to the sign-in form, which will bring them back
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/sign-in?next=%2Fadmin%2Fp%2F" + api.slug + "%2Fmembers%3Fq%3Dann"
    login = make_staff(Role.VIEWER)
    signed = console.sign_in(login.email, login.password, next_path=wanted)
    assert (signed.status_code, signed.headers["location"]) == (303, wanted)


def test_the_session_cookie_is_httponly_samesite_strict_and_limited_to_the_console(
    new_console: Callable[[], Console], make_staff: Callable[..., StaffLogin]
) -> None:
    login = make_staff(Role.VIEWER)
    response = new_console().sign_in(login.email, login.password)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("punchcard_admin="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/admin", "max-age=43200"} <= flags
    assert "secure" not in flags  # the test server's public URL is plain http


def test_over_https_the_session_cookie_is_also_secure(database_url: str, make_staff: Callable[..., StaffLogin]) -> None:
    app = create_app(Settings(fixed_now=NOW, database_url=database_url, public_url="https://loyalty.example.com"))
    console = Console(TestClient(app, base_url="https://testserver", follow_redirects=False))
    login = make_staff(Role.VIEWER)
    response = console.sign_in(login.email, login.password)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("punchcard_admin="))
    assert "secure" in {part.strip().lower() for part in cookie.split(";")[1:]}


def test_a_sign_in_without_the_forms_token_is_refused(
    new_console: Callable[[], Console], make_staff: Callable[..., StaffLogin], engine: Engine
) -> None:
    login = make_staff(Role.OWNER)
    console = new_console()
    data = {"email": login.email, "password": login.password, "form_token": "forged", "next": "/admin"}
    response = console.http.post("/admin/sign-in", data=data)
    assert response.status_code == 400
    assert "This sign-in form has expired" in response.text
    assert console.session_token is None
    assert audit_count(engine, staff_id=login.id, action=Action.SIGN_IN.value) == 0


def test_a_wrong_password_is_answered_without_saying_whether_the_address_exists(
    new_console: Callable[[], Console], make_staff: Callable[..., StaffLogin]
) -> None:
    login = make_staff(Role.OWNER)
    wrong = new_console().sign_in(login.email, "not the password")
    unknown = new_console().sign_in("nobody-at-all@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.text
    assert "Wrong e-mail or password." in unknown.text


def test_repeated_failures_are_slowed_down_then_locked_and_recorded(
    new_console: Callable[[], Console], make_staff: Callable[..., StaffLogin], clock: Clock, engine: Engine
) -> None:
    login = make_staff(Role.SUPPORT)
    console = new_console()
    moment = NOW
    clock.set(moment)
    # Given a first wrong password (no wait after one typo)
    assert console.sign_in(login.email, "wrong password").status_code == 401
    # When a second one fails, the answer asks to wait 2 seconds
    second = console.sign_in(login.email, "wrong password")
    assert (second.status_code, second.headers["retry-after"]) == (429, "2")
    assert "Please wait 2 seconds" in second.text
    # And an attempt within those 2 seconds is not even checked, although the password is right
    clock.set(moment + timedelta(seconds=1))
    assert console.sign_in(login.email, login.password).status_code == 429
    assert console.session_token is None
    # When failures go on after each wait up to five, the account is locked for 15 minutes
    for failures in range(2, MAX_FAILURES):
        moment += retry_delay(failures)
        clock.set(moment)
        last = console.sign_in(login.email, "wrong password")
    assert last.status_code == 429
    assert "this account is locked until" in last.text
    clock.set(moment + LOCK_DURATION - timedelta(seconds=1))
    assert console.sign_in(login.email, login.password).status_code == 429
    # Then the failures and the lock are in the audit log
    assert audit_count(engine, staff_id=login.id, action=Action.SIGN_IN_FAILED.value) == MAX_FAILURES
    [locked] = audit_entries(engine, staff_id=login.id, action=Action.LOCKED.value)
    assert locked.details == {"locked_until": (moment + LOCK_DURATION).isoformat()}
    # And once the lock has run out, the right password signs in
    clock.set(moment + LOCK_DURATION)
    assert console.sign_in(login.email, login.password).status_code == 303
    assert console.session_token is not None


def test_a_one_time_password_leads_only_to_choosing_a_new_one(
    api: ApiClient, new_console: Callable[[], Console], make_staff: Callable[..., StaffLogin], engine: Engine
) -> None:
    login = make_staff(Role.OWNER, one_time=True)
    console = new_console()
    # Given a sign-in with the one-time password, the console asks for a new one first
    signed = console.sign_in(login.email, login.password)
    assert (signed.status_code, signed.headers["location"]) == (303, "/admin/account")
    blocked = console.get(f"/admin/p/{api.slug}/dashboard")
    assert (blocked.status_code, blocked.headers["location"]) == (303, "/admin/account")
    # When the new password is too short, or repeated wrongly, or the current one is wrong, nothing changes
    too_short = console.post("/admin/account/password", {"current": login.password, "new": "short", "repeat": "short"})
    assert too_short.status_code == 422
    assert "must be at least 12 characters long" in too_short.text
    mismatch = {"current": login.password, "new": "a brand new password", "repeat": "another new password"}
    assert "does not match the new password" in console.post("/admin/account/password", mismatch).text
    wrong_current = {"current": "not it at all", "new": "a brand new password", "repeat": "a brand new password"}
    assert "is not your current password" in console.post("/admin/account/password", wrong_current).text
    # When a good one is chosen
    chosen = {"current": login.password, "new": "a brand new password", "repeat": "a brand new password"}
    changed = console.post("/admin/account/password", chosen)
    assert (changed.status_code, changed.headers["location"]) == (303, "/admin/account?notice=password_changed")
    # Then the console opens, and only the new password signs in from now on
    assert console.get(f"/admin/p/{api.slug}/dashboard").status_code == 200
    assert new_console().sign_in(login.email, login.password).status_code == 401
    assert new_console().sign_in(login.email, "a brand new password").status_code == 303
    with unit_of_work(engine) as session:
        account = session.get(StaffAccount, login.id)
        assert account is not None
        assert not account.must_change_password
    assert audit_count(engine, staff_id=login.id, action=Action.PASSWORD_CHANGED.value) == 1


def test_signing_out_ends_the_session_for_good(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.VIEWER)
    token = console.session_token
    assert token is not None
    response = console.post("/admin/sign-out")
    assert (response.status_code, response.headers["location"]) == (303, "/admin/sign-in")
    # A copy of the old cookie no longer opens anything
    console.http.cookies.set("punchcard_admin", token, path="/admin")
    assert console.get(f"/admin/p/{api.slug}/dashboard").status_code == 303


def test_a_form_without_this_sessions_csrf_token_changes_nothing(
    api: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    member = api.member()
    console = signed_in(Role.SUPPORT)
    for token in (None, "forged", "0" * 64):
        data = {"points": "100", "reason": "a forged form", "form_key": "a" * 32}
        if token is not None:
            data["csrf_token"] = token
        response = console.post(f"/admin/p/{api.slug}/members/{member}/adjustments", data, csrf=False)
        assert response.status_code == 403
        assert "this form has expired" in response.text
    assert api.available(member) == 50


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/admin", "/portal/x", "/admin\\@evil"])
def test_after_signing_in_only_console_pages_are_followed(
    next_path: str, new_console: Callable[[], Console], make_staff: Callable[..., StaffLogin]
) -> None:
    login = make_staff(Role.VIEWER)
    response = new_console().sign_in(login.email, login.password, next_path=next_path)
    assert (response.status_code, response.headers["location"]) == (303, "/admin")
