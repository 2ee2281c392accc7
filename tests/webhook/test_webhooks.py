"""Outbound webhooks against a real HTTP receiver on 127.0.0.1: each subscribed event is POSTed once it is committed,
signed so the receiver verifies it as it verifies Stripe's, retried with backoff when the receiver fails, in order per
member, given up after 72 hours, and an endpoint that fails for three days is disabled. Only admin keys manage
webhooks, and a webhook cannot be pointed into private networks unless the operator allows it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.staff.domain import Role
from punchcard.webhook import domain
from punchcard.webhook.service import check_url
from tests.admin.conftest import Console
from tests.clock import NOW
from tests.conftest import Clock
from tests.factories import ApiClient, deliver_outbox, error_of, line
from tests.receiver import Receiver, receiving


def send(client: TestClient) -> int:
    """What a server does in the background: hand the outbox to its consumers, then post what is due."""
    deliver_outbox(client)
    sent: int = client.app.state.webhooks.drain()  # type: ignore[attr-defined]
    return sent


def subscribe(api: ApiClient, url: str, events: list[str]) -> dict[str, Any]:
    response = api.post("/api/v1/webhooks", {"url": url, "events": events, "description": "the CRM"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def deliveries(api: ApiClient, webhook: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/webhooks/{webhook['id']}/deliveries")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def test_a_receiver_gets_each_subscribed_event_signed_and_verifies_it(
    api: ApiClient, client: TestClient, receiver: Receiver
) -> None:
    webhook = subscribe(api, receiver.url, ["points.earned"])
    assert webhook["secret"].startswith("whsec_")
    assert "secret" not in api.get(f"/api/v1/webhooks/{webhook['id']}").json()  # shown once
    member = api.member()
    api.purchase(member, [line("BEANS", "coffee-beans", "20.00")], order_id="o-1")
    send(client)
    # Then the two points.earned events arrived, the welcome bonus's and the purchase's (member.enrolled was not
    # subscribed to)
    welcome, request = receiver.requests
    assert [
        json.loads(welcome.body)["data"]["payload"]["points"],
        json.loads(request.body)["data"]["payload"]["points"],
    ] == [50, 40]
    body = json.loads(request.body)
    assert (body["type"], request.headers["punchcard-event-type"]) == ("points.earned", "points.earned")
    assert body["id"] == request.headers["punchcard-event-id"] == str(body["data"]["id"])
    assert body["data"]["member"] == member
    # And the signature verifies with the secret, the way a receiver checks Stripe's
    header = request.headers["punchcard-signature"]
    assert domain.verify(webhook["secret"], header, request.body, now=int(NOW.timestamp()))
    assert not domain.verify("whsec_wrong", header, request.body, now=int(NOW.timestamp()))
    assert not domain.verify(webhook["secret"], header, request.body + b" ", now=int(NOW.timestamp()))
    # And the delivery log says so
    delivery = deliveries(api, webhook)[0]  # newest first
    assert (delivery["status"], delivery["attempts"], delivery["event_id"]) == ("delivered", 1, body["id"])
    assert [entry["status_code"] for entry in delivery["log"]] == [200]
    # And nothing is sent again
    assert send(client) == 0


def test_a_receiver_that_fails_twice_gets_the_event_three_times(
    api: ApiClient, client: TestClient, receiver: Receiver, clock: Clock
) -> None:
    receiver.answers = [500, 503]
    webhook = subscribe(api, receiver.url, ["member.enrolled"])
    api.member("m-fails")
    send(client)
    assert len(receiver.requests) == 1
    clock.set(NOW + timedelta(seconds=30))  # the first retry is due 30 s after the failure
    send(client)
    clock.set(NOW + timedelta(seconds=90))  # then 60 s later
    send(client)
    event_ids = {request.headers["punchcard-event-id"] for request in receiver.requests}
    assert (len(receiver.requests), len(event_ids)) == (3, 1)  # the same event three times: dedupe on its id
    [delivery] = deliveries(api, webhook)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 3)
    assert [entry["status_code"] for entry in delivery["log"]] == [500, 503, 200]
    assert [entry["at"] for entry in delivery["log"]] == [
        "2026-11-25T12:00:00+00:00",
        "2026-11-25T12:00:30+00:00",
        "2026-11-25T12:01:30+00:00",
    ]


def test_a_members_events_arrive_in_order_even_when_the_first_is_retried(
    api: ApiClient, client: TestClient, receiver: Receiver, clock: Clock
) -> None:
    subscribe(api, receiver.url, ["member.enrolled", "points.earned"])
    receiver.answers = [500]  # the enrolment's first attempt fails
    member = api.member()
    api.purchase(member, [line("BEANS", "coffee-beans", "20.00")])
    send(client)
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["member.enrolled"]  # the purchase waits
    clock.set(NOW + timedelta(seconds=30))
    send(client)
    # the enrolment again, then the welcome bonus's points and the purchase's, in the order they happened
    sent = [
        (json.loads(r.body)["type"], json.loads(r.body)["data"]["payload"].get("points")) for r in receiver.requests
    ]
    assert sent == [("member.enrolled", None), ("member.enrolled", None), ("points.earned", 50), ("points.earned", 40)]


def test_a_delivery_is_given_up_after_72_hours_and_the_endpoint_disabled_after_3_days(
    api: ApiClient, client: TestClient, receiver: Receiver, clock: Clock, signed_in: Callable[[Role], Console]
) -> None:
    receiver.answers = [500] * 1000
    webhook = subscribe(api, receiver.url, ["member.enrolled"])
    api.member()
    send(client)
    moment = NOW
    while moment < NOW + timedelta(hours=73):
        moment += timedelta(hours=1)
        clock.set(moment)
        send(client)
    [delivery] = deliveries(api, webhook)
    assert delivery["status"] == "failed"
    assert delivery["log"][-1]["at"] == "2026-11-28T12:00:00+00:00"  # the last try at the end of the 72 hours
    assert 10 <= delivery["attempts"] < 30  # backoff: 30 s doubling, at most 6 hours apart
    # Failing for three days disabled the endpoint: a new event is not even queued for it
    shown = api.get(f"/api/v1/webhooks/{webhook['id']}").json()
    assert (shown["status"], shown["disabled_reason"]) == ("disabled", "every attempt failed for 3 days")
    console = signed_in(Role.OWNER)  # and the console says so
    row = re.search(
        rf'<tr data-webhook="{webhook["id"]}">(.*?)</tr>', console.page(f"/admin/p/{api.slug}/api-keys"), re.S
    )
    assert row is not None
    assert "every attempt failed for 3 days" in row.group(1)
    asked = len(receiver.requests)
    api.member()
    send(client)
    assert len(receiver.requests) == asked
    # Enabled again, and asked to retry the failed delivery, it is sent once more and delivered
    receiver.answers = []
    assert api.post(f"/api/v1/webhooks/{webhook['id']}/enable").json()["status"] == "enabled"
    retried = api.post(f"/api/v1/webhooks/{webhook['id']}/deliveries/{delivery['id']}/retry")
    assert (retried.status_code, retried.json()["status"]) == (202, "pending")
    send(client)
    assert deliveries(api, webhook)[0]["status"] == "delivered"


def test_a_deleted_webhook_is_sent_nothing_more(api: ApiClient, client: TestClient, receiver: Receiver) -> None:
    webhook = subscribe(api, receiver.url, ["*"])
    assert api.request("DELETE", f"/api/v1/webhooks/{webhook['id']}").status_code == 204
    api.member()
    send(client)
    assert receiver.requests == []
    error_of(api.get(f"/api/v1/webhooks/{webhook['id']}"), 404, "webhook_not_found")
    assert api.get("/api/v1/webhooks").json()["items"] == []


def test_only_admin_keys_manage_webhooks(api: ApiClient, receiver: Receiver) -> None:
    integration = api.as_integration()
    error_of(integration.post("/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}), 403, "forbidden")
    error_of(integration.get("/api/v1/webhooks"), 403, "forbidden")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/hooks", "events": ["*"]}, "url"),
        ({"url": "https://example.com/hooks", "events": ["points.earnt"]}, "events"),
        ({"url": "https://example.com/hooks", "events": []}, "events"),
    ],
)
def test_a_webhook_needs_an_http_url_and_known_event_types(api: ApiClient, body: dict[str, Any], field: str) -> None:
    error = error_of(api.post("/api/v1/webhooks", body), 422, "validation_error")
    assert error["details"][0]["field"] == field


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/"]
)
def test_a_webhook_cannot_reach_private_networks_unless_allowed(api: ApiClient, url: str) -> None:
    with pytest.raises(Exception, match="webhooks may not reach private networks") as refused:
        check_url(url, allow_private=False)
    assert getattr(refused.value, "code", None) == "webhook_url_not_allowed"
    check_url(url, allow_private=True)  # the operator's choice (tests, the demo)
