"""Wallet pass fixtures: stand-in Apple and Google credentials (made once per session: RSA keys take a moment), a
fresh program that has them, its members signed in to the portal in browsers of their own, and the wallets' stand-in
servers with a sender pointed at them."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from punchcard.kit.db import unit_of_work
from punchcard.member import service as members
from punchcard.passes import service as passes
from punchcard.passes import signing, stand_in
from punchcard.passes.apns import Apns
from punchcard.passes.google_api import GoogleWalletApi
from punchcard.passes.sender import PassUpdates
from punchcard.portal import service as portal
from punchcard.portal.routes.common import SESSION_COOKIE
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, deliver_outbox
from tests.passes import fakes
from tests.passes.fakes import Server, serving

WEB_SERVICE = "/passes/apple/v1"


@dataclass(frozen=True)
class StandIns:
    apple: stand_in.AppleFiles
    service_account: dict[str, Any]
    google_key: RSAPublicKey


@pytest.fixture(scope="session")
def stand_ins() -> StandIns:
    account = json.loads(stand_in.service_account())
    key = load_pem_private_key(account["private_key"].encode(), None)
    public = key.public_key()
    assert isinstance(public, RSAPublicKey)
    return StandIns(stand_in.apple_files(NOW), account, public)


@dataclass(frozen=True)
class Member:
    external_id: str
    browser: TestClient
    """Signed in to the portal as this member, with cookies of its own."""


@dataclass(frozen=True)
class Pass:
    """A downloaded ``.pkpass``, opened."""

    response: httpx.Response
    files: dict[str, bytes]

    @property
    def json(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.files["pass.json"])
        return found

    @property
    def serial(self) -> str:
        return str(self.json["serialNumber"])

    @property
    def token(self) -> str:
        return str(self.json["authenticationToken"])

    @property
    def authorization(self) -> dict[str, str]:
        return {"Authorization": f"ApplePass {self.token}"}


def opened(response: httpx.Response) -> Pass:
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return Pass(response, {name: archive.read(name) for name in archive.namelist()})


@dataclass
class Wallets:
    """One program with wallet credentials, and what a test does with it."""

    api: ApiClient
    client: TestClient
    engine: Engine
    stand_ins: StandIns
    adapters: list[Apns | GoogleWalletApi] = field(default_factory=list)
    """What ``sender`` made, closed when the test ends."""

    def configure(self, *, apple: bool = True, google_token_uri: str | None = None) -> None:
        """Give the program Apple's credentials and, with a token endpoint, Google's."""
        with unit_of_work(self.engine) as session:
            if apple:
                files = self.stand_ins.apple
                credentials = signing.apple_credentials(
                    stand_in.PASS_TYPE_IDENTIFIER,
                    stand_in.TEAM_IDENTIFIER,
                    files.certificate,
                    files.key,
                    None,
                    files.wwdr,
                )
                passes.set_apple(session, self.api.program_id, credentials, NOW)
            if google_token_uri is not None:
                account = json.dumps({**self.stand_ins.service_account, "token_uri": google_token_uri})
                passes.set_google(
                    session, self.api.program_id, signing.google_credentials(stand_in.ISSUER_ID, account), NOW
                )

    def member(self, who: str, *, external_id: str | None = None, **fields: Any) -> Member:
        """A member enrolled through the API (numbered ``<who>-<slug>`` unless told) and signed in to the portal."""
        external_id = self.api.member(external_id or f"{who}-{self.api.slug}", email=f"{who}@example.com", **fields)
        with unit_of_work(self.engine) as session:
            token = portal.start_session(session, members.get(session, self.api.program_id, external_id), NOW)
        browser = TestClient(self.client.app)
        browser.cookies.set(SESSION_COOKIE, token)
        return Member(external_id, browser)

    def member_id(self, member: Member) -> int:
        with unit_of_work(self.engine) as session:
            return members.get(session, self.api.program_id, member.external_id).id

    def download(self, member: Member) -> Pass:
        return opened(member.browser.get(f"/portal/{self.api.slug}/card.pkpass", follow_redirects=False))

    def adjust(self, member: Member, points: int) -> None:
        """Change the member's points, and hand the event to the outbox's consumers, as a server would."""
        response = self.api.post(
            f"/api/v1/members/{member.external_id}/adjustments", {"points": points, "reason": "goodwill"}
        )
        assert response.status_code == 201, response.text
        deliver_outbox(self.client)

    def register(self, found: Pass, device: str, push_token: str = "ab12" * 16) -> httpx.Response:
        response: httpx.Response = self.client.post(
            f"{WEB_SERVICE}/devices/{device}/registrations/{stand_in.PASS_TYPE_IDENTIFIER}/{found.serial}",
            json={"pushToken": push_token},
            headers=found.authorization,
        )
        return response

    def sender(self, apns: Server, google: Server | None = None) -> PassUpdates:
        """A sender, on the app's clock, whose adapters talk to the stand-ins (APNs over HTTP/1.1 there)."""
        app = self.client.app
        apple, objects = Apns(apns.url, http2=False), GoogleWalletApi(google.url if google else "http://127.0.0.1:9")
        self.adapters += [apple, objects]
        return PassUpdates(app.state.sessions, app.state.clock, apple=apple, google=objects)  # type: ignore[attr-defined]


@pytest.fixture
def wallets(make_program: ProgramMaker, client: TestClient, engine: Engine, stand_ins: StandIns) -> Iterator[Wallets]:
    found = Wallets(make_program(), client, engine, stand_ins)
    yield found
    for adapter in found.adapters:
        adapter.close()


@pytest.fixture
def apns() -> Iterator[tuple[Server, fakes.Apns]]:
    behaviour = fakes.Apns()
    with serving(behaviour) as server:
        yield server, behaviour


@pytest.fixture
def google(stand_ins: StandIns) -> Iterator[tuple[Server, fakes.Google]]:
    behaviour = fakes.Google(stand_ins.google_key, stand_in.CLIENT_EMAIL)
    with serving(behaviour) as server:
        behaviour.url = server.url
        yield server, behaviour
