"""Turning notifications on and off from the portal: the program's public key, a device's subscription kept once
however often it is sent, and every bad request refused in the error envelope with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.push.models import PushSubscription
from tests.factories import ApiClient, error_of
from tests.push.conftest import Portal, sign_in
from tests.push.standin import PushService, b64url, unb64url
from tests.smtp import Mailbox


def kept(engine: Engine, api: ApiClient) -> list[tuple[int, str, str, str]]:
    """The program's subscriptions: (member id, endpoint, p256dh, auth)."""
    with Session(engine) as session:
        rows = session.execute(
            select(
                PushSubscription.member_id, PushSubscription.endpoint, PushSubscription.p256dh, PushSubscription.auth
            )
            .where(PushSubscription.program_id == api.program_id)
            .order_by(PushSubscription.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def member_id(engine: Engine, api: ApiClient) -> int:
    from punchcard.member.models import Member

    with Session(engine) as session:
        found = session.execute(select(func.max(Member.id)).where(Member.program_id == api.program_id)).scalar_one()
    return int(found)


@pytest.fixture
def portal(api: ApiClient, client: TestClient, mailbox: Mailbox) -> Portal:
    email = f"kai-{api.slug}@example.com"
    api.member(f"kai-{api.slug}", email=email, name="Kai")
    return sign_in(client, api, mailbox, email)


def test_the_portal_gets_the_programs_public_key_made_once(portal: Portal, api: ApiClient, client: TestClient) -> None:
    first = portal.key()
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    key = first.json()["public_key"]
    point = unb64url(key)
    assert (len(point), point[0]) == (65, 4)  # an uncompressed P-256 point, as applicationServerKey takes it
    assert "=" not in key
    assert portal.key().json() == {"public_key": key}
    signed_out = TestClient(client.app).get(f"/portal/{api.slug}/push/key")
    error_of(signed_out, 401, "sign_in_required")


def test_a_device_is_kept_once_however_often_it_subscribes(
    portal: Portal, pushes: PushService, engine: Engine, api: ApiClient
) -> None:
    device = pushes.subscribe()
    created = portal.subscribe(device.to_json())
    assert created.status_code == 201, created.text
    assert created.json()["endpoint"] == device.endpoint
    kai = member_id(engine, api)
    assert kept(engine, api) == [(kai, device.endpoint, device.p256dh, b64url(device.auth))]
    again = portal.subscribe(device.to_json())
    assert again.status_code == 200
    assert again.json() == created.json()
    # The browser renewed the keys of the same subscription: still one row, with the new keys
    renewed = pushes.subscribe()
    body = {**device.to_json(), "keys": renewed.to_json()["keys"]}
    assert portal.subscribe(body).status_code == 200
    assert kept(engine, api) == [(kai, device.endpoint, renewed.p256dh, b64url(renewed.auth))]


def test_turning_a_device_off_forgets_it_and_only_it(
    portal: Portal, pushes: PushService, engine: Engine, api: ApiClient, client: TestClient, mailbox: Mailbox
) -> None:
    phone, laptop = pushes.subscribe(), pushes.subscribe()
    portal.turn_on(phone)
    portal.turn_on(laptop)
    # Another member cannot turn Kai's device off by its endpoint
    email = f"eve-{api.slug}@example.com"
    api.member(f"eve-{api.slug}", email=email, name="Eve")
    eve = sign_in(client, api, mailbox, email)
    assert eve.turn_off(phone.endpoint).status_code == 204
    assert [row[1] for row in kept(engine, api)] == [phone.endpoint, laptop.endpoint]
    # Without the page's CSRF token nothing happens
    refused = portal.http.request("DELETE", portal.url("/push/subscriptions"), json={"endpoint": phone.endpoint})
    error_of(refused, 403, "csrf_token_invalid")
    assert [row[1] for row in kept(engine, api)] == [phone.endpoint, laptop.endpoint]
    assert portal.turn_off(phone.endpoint).status_code == 204
    assert [row[1] for row in kept(engine, api)] == [laptop.endpoint]
    assert portal.turn_off(phone.endpoint).status_code == 204  # done already: the same answer


def test_a_device_signed_in_to_by_another_member_moves_to_them(
    portal: Portal, pushes: PushService, engine: Engine, api: ApiClient, client: TestClient, mailbox: Mailbox
) -> None:
    device = pushes.subscribe()
    portal.turn_on(device)
    email = f"eve-{api.slug}@example.com"
    api.member(f"eve-{api.slug}", email=email, name="Eve")
    eve = sign_in(client, api, mailbox, email)
    assert eve.subscribe(device.to_json()).status_code == 201  # new to Eve
    assert kept(engine, api) == [(member_id(engine, api), device.endpoint, device.p256dh, b64url(device.auth))]


def _point_off_the_curve() -> str:
    return b64url(b"\x04" + b"\x01" * 64)


def _keys(**changed: str) -> dict[str, str]:
    return {"p256dh": b64url(b"\x04" + b"\x02" * 64), "auth": b64url(b"a" * 16), **changed}


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"keys": _keys()}, 422, "validation_error", "endpoint"),
        ({"endpoint": "ENDPOINT"}, 422, "validation_error", "keys"),
        ({"endpoint": "ENDPOINT", "keys": {"p256dh": "x"}}, 422, "validation_error", "keys.auth"),
        ({"endpoint": "not a url", "keys": "KEYS"}, 422, "validation_error", "endpoint"),
        ({"endpoint": "ftp://127.0.0.1/push/x", "keys": "KEYS"}, 422, "validation_error", "endpoint"),
        ({"endpoint": "https://user:pw@push.example/x", "keys": "KEYS"}, 422, "validation_error", "endpoint"),
        ({"endpoint": "ENDPOINT", "keys": "KEYS", "extra": 1}, 422, "validation_error", "extra"),
        ({"endpoint": "ENDPOINT", "keys": _keys(p256dh="not base64!")}, 422, "push_keys_invalid", "keys.p256dh"),
        ({"endpoint": "ENDPOINT", "keys": _keys(p256dh=b64url(b"\x04" * 33))}, 422, "push_keys_invalid", "keys.p256dh"),
        (
            {"endpoint": "ENDPOINT", "keys": _keys(p256dh=_point_off_the_curve())},
            422,
            "push_keys_invalid",
            "keys.p256dh",
        ),
        ({"endpoint": "ENDPOINT", "keys": _keys(auth=b64url(b"a" * 8))}, 422, "push_keys_invalid", "keys.auth"),
        # plain http only ever to a stand-in on a private address, and only where the operator allows that
        ({"endpoint": "http://93.184.215.14/push/x", "keys": "KEYS"}, 422, "push_endpoint_not_allowed", "endpoint"),
    ],
)
def test_a_bad_subscription_is_refused_and_nothing_is_kept(
    portal: Portal,
    pushes: PushService,
    engine: Engine,
    api: ApiClient,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    device = pushes.subscribe()
    filled = {
        name: device.endpoint if value == "ENDPOINT" else device.to_json()["keys"] if value == "KEYS" else value
        for name, value in body.items()
    }
    error = error_of(portal.subscribe(filled), status, code)
    assert error["details"][0]["field"] == field
    assert kept(engine, api) == []


@pytest.mark.parametrize(
    "endpoint",
    ["https://127.0.0.1:9/push/x", "https://10.1.2.3/push/x", "https://[::1]/push/x", "https://169.254.169.254/x"],
)
def test_an_endpoint_on_a_private_network_is_refused_unless_allowed(
    portal: Portal,
    pushes: PushService,
    engine: Engine,
    api: ApiClient,
    client: TestClient,
    endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client.app.state.settings, "push_allow_private", False)  # type: ignore[attr-defined]
    keys = pushes.subscribe().to_json()["keys"]
    error = error_of(portal.subscribe({"endpoint": endpoint, "keys": keys}), 422, "push_endpoint_not_allowed")
    assert error["message"].startswith("push endpoints may not reach private networks: ")
    assert error["details"] == [{"field": "endpoint", "message": error["message"].split(": ", 1)[1]}]
    # The stand-in's plain http is refused too
    error_of(portal.subscribe(pushes.subscribe().to_json()), 422, "push_endpoint_not_allowed")
    assert kept(engine, api) == []


def test_a_write_needs_the_signed_in_member_and_the_pages_csrf_token(
    portal: Portal, pushes: PushService, engine: Engine, api: ApiClient, client: TestClient
) -> None:
    body = pushes.subscribe().to_json()
    error_of(portal.subscribe(body, csrf=""), 403, "csrf_token_invalid")
    error_of(portal.subscribe(body, csrf="0" * 64), 403, "csrf_token_invalid")
    stranger = TestClient(client.app)
    signed_out = stranger.post(f"/portal/{api.slug}/push/subscriptions", json=body, headers={"X-CSRF-Token": "x"})
    error_of(signed_out, 401, "sign_in_required")
    as_form = stranger.post(f"/portal/{api.slug}/push/subscriptions", data={"endpoint": "x"})
    error_of(as_form, 401, "sign_in_required")  # who asks is checked before what was sent
    error_of(portal.http.post(portal.url("/push/subscriptions"), data={"endpoint": "x"}), 403, "csrf_token_invalid")
    error_of(
        portal.http.post(portal.url("/push/subscriptions"), content=b"{not json", headers=_json(portal)),
        400,
        "malformed_json",
    )
    error_of(
        portal.http.post(
            portal.url("/push/subscriptions"), data={"endpoint": "x"}, headers={"X-CSRF-Token": portal.csrf}
        ),
        415,
        "unsupported_media_type",
    )
    unknown = portal.http.post("/portal/no-such-program/push/subscriptions", json=body, headers=_json(portal))
    error_of(unknown, 404, "program_not_found")
    assert kept(engine, api) == []


def _json(portal: Portal) -> dict[str, str]:
    return {"X-CSRF-Token": portal.csrf, "Content-Type": "application/json"}


def test_the_profile_page_offers_the_switch_to_the_script(portal: Portal) -> None:
    page = portal.http.get(portal.url("/profile"))
    assert 'id="push" aria-labelledby="push-title" hidden' in page.text  # shown by push.js where Push works
    assert '<label for="push-toggle">Notifications on this device</label>' in page.text
    assert f'data-subscriptions="/portal/{portal.slug}/push/subscriptions"' in page.text
    assert '<script src="/portal-assets/push.js?v=' in page.text
    assert f'data-csrf="{portal.csrf}"' in page.text  # the session's token, which the script sends as a header
