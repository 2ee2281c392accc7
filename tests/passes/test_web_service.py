"""Apple's PassKit web service as a device uses it: register a pass, ask what changed since the last tag, fetch the
pass (304 while unchanged), log, unregister; and every request about a pass refused without that pass's own token,
with nothing changed: another member's token, another program's, a wrong pass type, none at all."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from punchcard.kit.db import unit_of_work
from punchcard.passes import updates
from punchcard.passes.models import MemberPass, PassRegistration
from punchcard.passes.stand_in import PASS_TYPE_IDENTIFIER
from tests.clock import NOW
from tests.factories import ProgramMaker
from tests.passes.conftest import WEB_SERVICE, Pass, Wallets, opened


def registrations(wallets: Wallets) -> list[tuple[str, str]]:
    """The program's registrations: (device, push token), oldest first."""
    with unit_of_work(wallets.engine) as session:
        query = (
            select(PassRegistration.device_library_identifier, PassRegistration.push_token)
            .join(MemberPass, MemberPass.id == PassRegistration.pass_id)
            .where(MemberPass.program_id == wallets.api.program_id)
            .order_by(PassRegistration.id)
        )
        return [(device, token) for device, token in session.execute(query)]


def listing(wallets: Wallets, device: str, since: str | None = None) -> httpx.Response:
    query = "" if since is None else f"?passesUpdatedSince={since}"
    response: httpx.Response = wallets.client.get(
        f"{WEB_SERVICE}/devices/{device}/registrations/{PASS_TYPE_IDENTIFIER}{query}"
    )
    return response


def latest(wallets: Wallets, found: Pass, headers: dict[str, str]) -> httpx.Response:
    response: httpx.Response = wallets.client.get(
        f"{WEB_SERVICE}/passes/{PASS_TYPE_IDENTIFIER}/{found.serial}", headers=headers
    )
    return response


def unregister(wallets: Wallets, found: Pass, headers: dict[str, str], device: str) -> httpx.Response:
    response: httpx.Response = wallets.client.delete(
        f"{WEB_SERVICE}/devices/{device}/registrations/{PASS_TYPE_IDENTIFIER}/{found.serial}", headers=headers
    )
    return response


def test_a_device_registers_hears_of_changes_fetches_and_unregisters(wallets: Wallets) -> None:
    wallets.configure()
    device = f"device-{wallets.api.slug}"  # the same device in another test would list that test's passes too
    mari = wallets.member("mari")
    found = wallets.download(mari)

    assert wallets.register(found, device, "ab" * 32).status_code == 201
    assert wallets.register(found, device, "cd" * 32).status_code == 200  # again: the push token is updated
    assert registrations(wallets) == [(device, "cd" * 32)]

    first = listing(wallets, device)
    assert first.status_code == 200
    assert first.json() == {"lastUpdated": "0", "serialNumbers": [found.serial]}
    assert listing(wallets, device, since="0").status_code == 204

    modified = found.response.headers["last-modified"]
    unchanged = latest(wallets, found, {**found.authorization, "If-Modified-Since": modified})
    assert (unchanged.status_code, unchanged.content) == (304, b"")

    before = wallets.api.available(mari.external_id)
    wallets.adjust(mari, 75)

    changed = listing(wallets, device, since="0")
    assert changed.status_code == 200
    tag = changed.json()["lastUpdated"]
    assert int(tag) > 0
    assert changed.json()["serialNumbers"] == [found.serial]
    assert listing(wallets, device, since=tag).status_code == 204

    fetched = latest(wallets, found, {**found.authorization, "If-Modified-Since": modified})
    assert fetched.headers["last-modified"] == "Wed, 25 Nov 2026 12:00:01 GMT"  # a second on: never the same
    newer = opened(fetched)
    assert newer.serial == found.serial
    assert newer.token == found.token  # the device keeps authenticating with its own copy's token
    assert newer.json["storeCard"]["primaryFields"][0]["value"] == before + 75
    assert (
        latest(
            wallets, found, {**found.authorization, "If-Modified-Since": fetched.headers["last-modified"]}
        ).status_code
        == 304
    )

    log = wallets.client.post(f"{WEB_SERVICE}/log", json={"logs": ["Web service error for pass.dev: 500"]})
    assert log.status_code == 200

    assert unregister(wallets, found, found.authorization, device).status_code == 200
    assert registrations(wallets) == []
    assert listing(wallets, device).status_code == 204


def test_a_later_change_committed_first_does_not_hide_an_earlier_one(wallets: Wallets) -> None:
    """Two dispatchers at once: the change with the lower tag commits after the device was told the higher one."""
    wallets.configure()
    device = f"device-{wallets.api.slug}"  # the same device in another test would list that test's passes too
    mari, jaan = wallets.member("mari"), wallets.member("jaan")
    mine, his = wallets.download(mari), wallets.download(jaan)
    assert wallets.register(mine, device).status_code == 201
    assert wallets.register(his, device).status_code == 201
    with unit_of_work(wallets.engine) as session:
        updates.mark_changed(session, {wallets.member_id(jaan): 900}, NOW)
    told = listing(wallets, device, since="0")
    assert told.json() == {"lastUpdated": "900", "serialNumbers": [his.serial]}
    with unit_of_work(wallets.engine) as session:
        updates.mark_changed(session, {wallets.member_id(mari): 899}, NOW)

    late = listing(wallets, device, since="900")

    assert late.json() == {"lastUpdated": "900", "serialNumbers": [mine.serial]}
    assert listing(wallets, device, since="900").status_code == 204


def test_requests_without_the_pass_s_own_token_are_refused_and_change_nothing(
    wallets: Wallets, make_program: ProgramMaker
) -> None:
    wallets.configure()
    device = f"device-{wallets.api.slug}"  # the same device in another test would list that test's passes too
    mari, jaan = wallets.member("mari"), wallets.member("jaan")
    mine, his = wallets.download(mari), wallets.download(jaan)
    assert wallets.register(mine, device).status_code == 201
    other = Wallets(make_program(), wallets.client, wallets.engine, wallets.stand_ins)
    other.configure()
    theirs = other.download(other.member("liis"))
    wrong_type = f"{WEB_SERVICE}/passes/pass.dev.someone.else/{mine.serial}"

    refusals = {
        "no token": latest(wallets, mine, {}),
        "not ApplePass": latest(wallets, mine, {"Authorization": f"Bearer {mine.token}"}),
        "another member's token": latest(wallets, mine, his.authorization),
        "another program's token": latest(wallets, mine, theirs.authorization),
        "a made-up serial": wallets.client.get(
            f"{WEB_SERVICE}/passes/{PASS_TYPE_IDENTIFIER}/nope", headers=mine.authorization
        ),
        "another pass type": wallets.client.get(wrong_type, headers=mine.authorization),
        "register with his token": wallets.client.post(
            f"{WEB_SERVICE}/devices/other-device/registrations/{PASS_TYPE_IDENTIFIER}/{mine.serial}",
            json={"pushToken": "ef" * 32},
            headers=his.authorization,
        ),
        "unregister with his token": unregister(wallets, mine, his.authorization, device),
        "unregister with no token": unregister(wallets, mine, {}, device),
    }

    assert {case: answer.status_code for case, answer in refusals.items()} == dict.fromkeys(refusals, 401)
    assert refusals["another program's token"].json()["error"]["code"] == "pass_authorization_invalid"
    assert registrations(wallets) == [(device, "ab12" * 16)]
