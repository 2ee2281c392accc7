"""Signed links from the shop's account page: HMAC-SHA256 over "slug:member:expires" with the program's portal secret,
refused when the signature is wrong, the link has expired or reaches too far ahead; the secret comes from the CLI."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from punchcard.cli.main import app as cli
from punchcard.kit.db import unit_of_work
from punchcard.portal import service
from punchcard.portal.models import MemberSession, PortalSecret
from tests.portal.conftest import NOW, Browser


def sessions_of(engine: Engine, program_id: int) -> int:
    with unit_of_work(engine) as session:
        return int(session.execute(select(func.count()).where(MemberSession.program_id == program_id)).scalar_one())


def secret_of(engine: Engine, program_id: int) -> str:
    with unit_of_work(engine) as session:
        return service.portal_secret(session, program_id, NOW)


def shop_link(slug: str, secret: str, member: str, expires: int, *, sign_as: str | None = None) -> str:
    message = f"{slug}:{sign_as or member}:{expires}".encode()
    signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"/portal/{slug}/auth/shop?member={member}&expires={expires}&sig={signature}"


def test_a_shop_link_signs_the_member_in(engine: Engine, browser: Browser) -> None:
    browser.api.member("shop-7", email="shop7@example.com")
    expires = int((NOW + timedelta(minutes=5)).timestamp())
    opened = browser.http.get(
        shop_link(browser.api.slug, secret_of(engine, browser.api.program_id), "shop-7", expires),
        follow_redirects=False,
    )
    assert (opened.status_code, opened.headers["location"]) == (303, browser.url())
    assert browser.get().status_code == 200
    assert sessions_of(engine, browser.api.program_id) == 1


@pytest.mark.parametrize(
    ("case", "expires_in", "sign_as", "member"),
    [
        ("signature for another member", timedelta(minutes=5), "someone-else", "shop-7"),
        ("expired a second ago", timedelta(seconds=-1), None, "shop-7"),
        ("expires exactly now", timedelta(0), None, "shop-7"),
        ("more than 24 hours ahead", timedelta(hours=24, seconds=1), None, "shop-7"),
        ("no such member", timedelta(minutes=5), None, "nobody"),
    ],
)
def test_a_bad_shop_link_signs_no_one_in(
    engine: Engine, browser: Browser, case: str, expires_in: timedelta, sign_as: str | None, member: str
) -> None:
    browser.api.member("shop-7")
    expires = int((NOW + expires_in).timestamp())
    link = shop_link(browser.api.slug, secret_of(engine, browser.api.program_id), member, expires, sign_as=sign_as)
    opened = browser.http.get(link, follow_redirects=False)
    assert opened.status_code == 400, case
    assert "The link from the shop has expired or is not valid." in opened.text
    assert sessions_of(engine, browser.api.program_id) == 0
    assert browser.get().status_code == 303


def test_a_link_signed_with_another_programs_secret_is_refused(
    engine: Engine, browser: Browser, make_program: object
) -> None:
    browser.api.member("shop-7")
    other = make_program()  # type: ignore[operator]
    expires = int((NOW + timedelta(minutes=5)).timestamp())
    link = shop_link(browser.api.slug, secret_of(engine, other.program_id), "shop-7", expires)
    assert browser.http.get(link, follow_redirects=False).status_code == 400
    assert sessions_of(engine, browser.api.program_id) == 0


def test_a_malformed_expiry_is_refused(browser: Browser) -> None:
    browser.api.member("shop-7")
    opened = browser.get("/auth/shop?member=shop-7&expires=soon&sig=00")
    assert opened.status_code == 400
    assert "The link from the shop has expired or is not valid." in opened.text


def test_each_program_has_its_own_secret_made_once(engine: Engine, browser: Browser, make_program: object) -> None:
    other = make_program()  # type: ignore[operator]
    first = secret_of(engine, browser.api.program_id)
    assert secret_of(engine, browser.api.program_id) == first
    assert secret_of(engine, other.program_id) != first
    assert len(first) == 64


def test_the_cli_prints_the_programs_secret(
    engine: Engine, database_url: str, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)
    outcome = CliRunner().invoke(cli, ["portal", "secret", "--program", browser.api.slug])
    assert outcome.exit_code == 0, outcome.output
    printed = outcome.output.splitlines()[-1]
    assert printed == secret_of(engine, browser.api.program_id)
    with unit_of_work(engine) as session:
        assert (
            session.execute(select(func.count()).where(PortalSecret.program_id == browser.api.program_id)).scalar_one()
            == 1
        )


def test_the_cli_names_an_unknown_program(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)
    outcome = CliRunner().invoke(cli, ["portal", "secret", "--program", "no-such-program"])
    assert outcome.exit_code == 1
    assert "program_not_found" in outcome.output
