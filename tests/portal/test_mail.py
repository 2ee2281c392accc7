"""Mail: the sender talks SMTP as the settings say and never fails a request when the server is down; the demo's
catcher keeps what it receives and lists its links on /demo/mail, which exists only when the setting is on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from punchcard.api.app import create_app
from punchcard.kit.settings import Settings
from punchcard.mail import catcher, compose, sender
from tests.clock import NOW
from tests.smtp import free_port


def sign_in_mail(to: str, link: str) -> compose.Mail:
    def say(key: str, **params: object) -> str:
        return f"{key} {params}"

    return compose.render(
        "sign_in_link", to=to, subject="Your link", language="en", t=say, program="Bean There", link=link, name=None
    )


def test_the_sign_in_mail_has_the_link_in_both_parts_and_escapes_html() -> None:
    mail = sign_in_mail("a@example.com", "https://portal.test/portal/x/auth/link?token=abc&x=<1>")
    assert "https://portal.test/portal/x/auth/link?token=abc&x=<1>" in mail.text
    assert 'href="https://portal.test/portal/x/auth/link?token=abc&amp;x=&lt;1&gt;"' in mail.html
    assert '<html lang="en">' in mail.html
    message = sender.to_message(mail, "Shop <shop@example.com>")
    assert (message["From"], message["To"], message["Content-Language"]) == (
        "Shop <shop@example.com>",
        "a@example.com",
        "en",
    )
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


def test_a_mail_server_that_is_down_raises_so_the_outbox_tries_again() -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=free_port())
    with pytest.raises(sender.MailNotSent, match=r"could not send mail to down@example\.com"):
        sender.send(settings, [sign_in_mail("down@example.com", "https://x.test/")])


def test_the_catcher_lists_caught_mail_with_its_links(database_url: str, engine: object) -> None:
    port = free_port()
    controller = catcher.start(port=port)
    try:
        link = "http://127.0.0.1:8000/portal/bean-there/auth/link?token=t0k3n"
        sender.send(Settings(smtp_port=port), [sign_in_mail("anna@example.com", link)])
    finally:
        controller.stop()
    app = create_app(Settings(fixed_now=NOW, database_url=database_url, demo_mail_catcher=True))
    page = TestClient(app).get("/demo/mail")
    assert page.status_code == 200
    assert "To anna@example.com" in page.text
    assert f'<a class="button" href="{link}">Open link</a>' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_without_the_setting_there_is_no_catcher_page(database_url: str, engine: object) -> None:
    assert (
        TestClient(create_app(Settings(fixed_now=NOW, database_url=database_url))).get("/demo/mail").status_code == 404
    )
