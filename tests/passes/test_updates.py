"""Keeping passes current: a change of a member's points pushes each device registered for their Apple pass once,
through a stand-in APNs that keeps every request (a device APNs calls gone is forgotten, a failure is tried again
later), and updates their saved Google Wallet object through a stand-in of Google's token endpoint and Wallet API,
which check the service account's assertion and the access token."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from punchcard.kit.db import unit_of_work
from punchcard.passes.models import MemberPass, PassRegistration
from punchcard.passes.stand_in import ISSUER_ID, PASS_TYPE_IDENTIFIER
from tests.clock import NOW
from tests.conftest import Clock
from tests.passes.conftest import Member, Wallets
from tests.passes.fakes import ACCESS_TOKEN, Apns, Google, Server

PHONE, WATCH = "ab" * 32, "cd" * 32


def pushed(apns: Server) -> list[str]:
    """The push tokens APNs was asked to push to, in order."""
    return [request.path.removeprefix("/3/device/") for request in apns.received("POST")]


def registered(wallets: Wallets) -> list[str]:
    with unit_of_work(wallets.engine) as session:
        query = (
            select(PassRegistration.push_token)
            .join(MemberPass, MemberPass.id == PassRegistration.pass_id)
            .where(MemberPass.program_id == wallets.api.program_id)
            .order_by(PassRegistration.id)
        )
        return list(session.execute(query).scalars())


def serial_of(wallets: Wallets, member: Member) -> str:
    with unit_of_work(wallets.engine) as session:
        query = select(MemberPass.serial_number).where(MemberPass.member_id == wallets.member_id(member))
        return str(session.execute(query).scalar_one())


def test_a_points_change_pushes_each_registered_device_once(wallets: Wallets, apns: tuple[Server, Apns]) -> None:
    server, _ = apns
    wallets.configure()
    mari, jaan = wallets.member("mari"), wallets.member("jaan")
    found = wallets.download(mari)
    assert wallets.register(found, f"phone-{wallets.api.slug}", PHONE).status_code == 201
    assert wallets.register(found, f"watch-{wallets.api.slug}", WATCH).status_code == 201
    sender = wallets.sender(server)
    assert sender.drain() == 0  # registering is no change: the devices have the pass as it is

    wallets.adjust(mari, 40)
    wallets.adjust(jaan, 40)  # no pass of his: no push
    assert sender.drain() == 2
    assert sender.drain() == 0

    assert pushed(server) == [PHONE, WATCH]
    request = server.received("POST")[0]
    assert (request.headers["apns-topic"], request.headers["content-type"], request.body) == (
        PASS_TYPE_IDENTIFIER,
        "application/json",
        b"{}",
    )
    wallets.adjust(mari, -10)
    assert sender.drain() == 2
    assert pushed(server) == [PHONE, WATCH, PHONE, WATCH]


def test_a_gone_device_is_forgotten_and_a_failed_push_is_tried_again_later(
    wallets: Wallets, apns: tuple[Server, Apns], clock: Clock
) -> None:
    server, behaviour = apns
    wallets.configure()
    mari = wallets.member("mari")
    found = wallets.download(mari)
    wallets.register(found, f"phone-{wallets.api.slug}", PHONE)
    wallets.register(found, f"watch-{wallets.api.slug}", WATCH)
    behaviour.statuses = {PHONE: [410], WATCH: [503]}
    sender = wallets.sender(server)

    wallets.adjust(mari, 40)
    assert sender.drain() == 0
    assert registered(wallets) == [WATCH]
    assert sender.drain() == 0  # the watch waits its turn
    assert pushed(server) == [PHONE, WATCH]

    clock.set(NOW + timedelta(minutes=1))
    assert sender.drain() == 1
    assert sender.drain() == 0
    assert pushed(server) == [PHONE, WATCH, WATCH]


def test_a_points_change_updates_the_members_saved_google_object(
    wallets: Wallets, apns: tuple[Server, Apns], google: tuple[Server, Google]
) -> None:
    server, behaviour = google
    wallets.configure(google_token_uri=f"{server.url}/token")
    mari, jaan = wallets.member("mari", name="Mari Tamm"), wallets.member("jaan")
    saved = mari.browser.get(f"/portal/{wallets.api.slug}/card/google-wallet", follow_redirects=False)
    assert saved.status_code == 303
    sender = wallets.sender(apns[0], server)
    before = wallets.api.available(mari.external_id)

    wallets.adjust(mari, 25)
    wallets.adjust(jaan, 25)  # he never asked for the link: nothing to update
    assert sender.drain() == 1
    assert sender.drain() == 0

    assert behaviour.problems == []
    token, patch = server.received("POST"), server.received("PATCH")
    assert [request.path for request in token] == ["/token"]
    serial = serial_of(wallets, mari)
    assert [request.path for request in patch] == [f"/walletobjects/v1/loyaltyObject/{ISSUER_ID}.{serial}"]
    assert patch[0].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    body: dict[str, Any] = json.loads(patch[0].body)
    assert {key: body[key] for key in ("id", "classId", "state", "accountId", "accountName", "barcode")} == {
        "id": f"{ISSUER_ID}.{serial}",
        "classId": f"{ISSUER_ID}.punchcard-{wallets.api.slug}",
        "state": "ACTIVE",
        "accountId": mari.external_id,
        "accountName": "Mari Tamm",
        "barcode": {"type": "QR_CODE", "value": mari.external_id, "alternateText": mari.external_id},
    }
    assert body["loyaltyPoints"]["balance"] == {"int": before + 25}
    assert body["loyaltyPoints"]["label"] == "Points to spend"
    assert {"language": "et", "value": "Kasutatavad punktid"} in body["loyaltyPoints"]["localizedLabel"][
        "translatedValues"
    ]
    assert body["textModulesData"][0]["body"] == "Bronze"

    wallets.adjust(mari, 5)
    assert sender.drain() == 1
    assert len(server.received("POST")) == 1  # the access token is kept until it nearly expires


def test_an_object_the_member_never_saved_is_not_updated_again_until_the_next_change(
    wallets: Wallets, apns: tuple[Server, Apns], google: tuple[Server, Google]
) -> None:
    server, behaviour = google
    wallets.configure(google_token_uri=f"{server.url}/token")
    mari = wallets.member("mari")
    saved = mari.browser.get(f"/portal/{wallets.api.slug}/card/google-wallet", follow_redirects=False)
    assert saved.status_code == 303
    behaviour.unsaved.add(f"{ISSUER_ID}.{serial_of(wallets, mari)}")
    sender = wallets.sender(apns[0], server)

    wallets.adjust(mari, 25)
    assert sender.drain() == 0
    assert sender.drain() == 0

    assert len(server.received("PATCH")) == 1
    with unit_of_work(wallets.engine) as session:
        row = session.execute(select(MemberPass).where(MemberPass.member_id == wallets.member_id(mari))).scalar_one()
        assert (row.google_sent_tag == row.update_tag, row.google_error) == (True, "Google Wallet API answered 404")
