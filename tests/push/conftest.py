"""Push fixtures: a stand-in push service on the test app's clock, and a member signed in to the portal in a browser
of their own (its own cookies), holding the page's CSRF token as the portal's script does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.factories import ApiClient, deliver_outbox
from tests.portal.conftest import link_in
from tests.push.standin import BrowserSubscription, PushService, push_service
from tests.smtp import Mailbox

CSRF = re.compile(r'data-csrf="([0-9a-f]+)"')


@pytest.fixture
def pushes(client: TestClient) -> Iterator[PushService]:
    """The stand-in push service; it judges VAPID tokens by the app's clock, which tests set."""
    with push_service(lambda: client.app.state.clock.now()) as service:  # type: ignore[attr-defined]
        yield service


@dataclass
class Portal:
    """One signed-in browser on one program's portal."""

    http: TestClient
    slug: str
    csrf: str

    def url(self, path: str) -> str:
        return f"/portal/{self.slug}{path}"

    def key(self) -> httpx.Response:
        response: httpx.Response = self.http.get(self.url("/push/key"))
        return response

    def subscribe(self, body: Any, *, csrf: str | None = None) -> httpx.Response:
        response: httpx.Response = self.http.post(
            self.url("/push/subscriptions"), json=body, headers={"X-CSRF-Token": self.csrf if csrf is None else csrf}
        )
        return response

    def turn_on(self, device: BrowserSubscription) -> None:
        response = self.subscribe(device.to_json())
        assert response.status_code == 201, response.text

    def turn_off(self, endpoint: str) -> httpx.Response:
        response: httpx.Response = self.http.request(
            "DELETE",
            self.url("/push/subscriptions"),
            json={"endpoint": endpoint},
            headers={"X-CSRF-Token": self.csrf},
        )
        return response


def sign_in(client: TestClient, api: ApiClient, mailbox: Mailbox, email: str) -> Portal:
    """Sign in by the e-mailed link, as a member does, in a new browser; the CSRF token is the profile page's."""
    http = TestClient(client.app)
    page = http.get(f"/portal/{api.slug}/sign-in")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert token is not None
    asked = http.post(f"/portal/{api.slug}/sign-in", data={"email": email, "csrf": token.group(1)})
    assert asked.status_code == 200, asked.text
    deliver_outbox(client)
    link = link_in(mailbox.wait_for(email))
    signed_in = http.get(link.split("127.0.0.1:8000", 1)[1], follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    profile = http.get(f"/portal/{api.slug}/profile")
    found = CSRF.search(profile.text)
    assert found is not None, "the profile page has no notification switch"
    return Portal(http, api.slug, found.group(1))
