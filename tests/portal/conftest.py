"""Portal fixtures: the app with its SMTP settings pointed at a real SMTP server in the test, a browser-like client
per test (its own cookies) whose clock the test sets, and a signed-in member."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from punchcard.api.app import create_app
from punchcard.kit.clock import FixedClock
from punchcard.kit.settings import Settings
from tests.factories import ApiClient, deliver_outbox, line
from tests.smtp import Mailbox

NOW = datetime.fromisoformat("2026-06-10T09:00:00+00:00")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
KEY = re.compile(r'name="key" value="([A-Za-z0-9_-]+)"')
LINK = re.compile(r"https?://\S+/auth/link\?token=[A-Za-z0-9_-]+(?:&lang=[a-z]+)?")


@pytest.fixture(scope="session")
def portal_app(database_url: str, engine: object, mailbox: Mailbox) -> FastAPI:
    settings = Settings(
        fixed_now=NOW,
        database_url=database_url,
        outbox_poll_seconds=0,  # tests deliver the outbox themselves (``deliver_outbox``), at a known moment
        webhook_poll_seconds=0,
        mail_poll_seconds=0,
        public_url="http://portal.test",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
    )
    return create_app(settings)


@dataclass
class Browser:
    """One browser on the portal of one program: its own cookies, the portal's clock and the program's API client."""

    http: TestClient
    clock: FixedClock
    api: ApiClient
    smtp: Mailbox

    def url(self, path: str = "") -> str:
        return f"/portal/{self.api.slug}{path}"

    def get(self, path: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
        response: httpx.Response = self.http.get(self.url(path), headers=headers, follow_redirects=False)
        return response

    def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        response: httpx.Response = self.http.post(self.url(path), data=data, follow_redirects=False)
        return response

    def csrf(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found is not None, "the page has no form with a CSRF token"
        return found.group(1)

    def ask_for_link(self, email: str) -> httpx.Response:
        return self.post("/sign-in", {"email": email, "csrf": self.csrf("/sign-in")})

    def link_for(self, email: str) -> str:
        """Ask for a sign-in link and take it from the mail the SMTP server received."""
        before = self.mails_to(email)
        assert self.ask_for_link(email).status_code == 200
        deliver_outbox(self.http)
        assert self.mails_to(email) == before + 1, "no mail was sent"
        return link_in(self.smtp.wait_for(email))

    def mails_to(self, email: str) -> int:
        return sum(email in str(message["To"]) for message in self.smtp.messages)

    def sign_in(self, email: str) -> httpx.Response:
        link = self.link_for(email)
        response: httpx.Response = self.http.get(link.split("portal.test", 1)[1], follow_redirects=False)
        return response


def link_in(message: Message) -> str:
    found = LINK.search(text_of(message))
    assert found is not None, "the mail holds no sign-in link"
    return found.group(0)


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(str(message["Subject"]))))


def text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("the mail has no plain-text part")


@pytest.fixture
def browser(portal_app: FastAPI, api: ApiClient, mailbox: Mailbox) -> Iterator[Browser]:
    clock: FixedClock = portal_app.state.clock  # what the app and its outbox dispatcher read; tests move it
    clock.set(NOW)
    with TestClient(portal_app) as http:
        yield Browser(http, clock, api, mailbox)
    clock.set(NOW)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "svg", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(page: str) -> str:
    """The text a member reads on ``page``, whitespace collapsed (no markup, scripts, styles or drawings)."""
    parser = _Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


@dataclass(frozen=True)
class Anna:
    """A member with a welcome bonus (50, 1 January 2026) and two orders of coffee beans: O-1 (29.50 €, 59 points,
    1 June) and O-2 (2 × 25.00 €, 100 points, 2 June): 209 points to spend, 159 towards tiers."""

    external_id: str
    email: str


def enrol_anna(api: ApiClient) -> Anna:
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    api.member("anna", email=email, name="Anna Tamm", enrolled_at="2026-01-01T10:00:00+00:00")
    api.purchase(
        "anna", [line("BEANS-1", "coffee-beans", "29.50")], order_id="O-1", occurred_at="2026-06-01T12:00:00+00:00"
    )
    api.purchase(
        "anna", [line("BEANS-2", "coffee-beans", "25.00", 2)], order_id="O-2", occurred_at="2026-06-02T12:00:00+00:00"
    )
    return Anna("anna", email)


@pytest.fixture
def anna(browser: Browser) -> Anna:
    """Anna, signed in on ``browser``."""
    member = enrol_anna(browser.api)
    assert browser.sign_in(member.email).status_code == 303
    return member
