"""Events accepted now and processed later: ``Prefer: respond-async``, the batch endpoint and an event's status.

An accepted event is stored before the ``202``, processed exactly once by a worker through the same event path as a
synchronous request, and its status tells the same response (or error) the request would have got.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.api.test_events import BEANS_AND_MUG, purchase_body
from tests.factories import ApiClient, error_of, process_accepted

ASYNC = {"Prefer": "respond-async"}


def accept(api: ApiClient, body: dict[str, Any]) -> httpx.Response:
    return api.post("/api/v1/events", body, headers=ASYNC)


def status_of(api: ApiClient, event_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/events/{event_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_accepted_purchase_is_answered_202_and_processed_later_as_a_synchronous_one_would_be(
    make_program: Any,
) -> None:
    # Given two copies of the program, each with the same member
    later, now = make_program(), make_program()
    later.member("anna")
    now.member("anna")
    body = purchase_body(later, "anna", order_id="O-1")
    # When the purchase is sent with Prefer: respond-async to one, and synchronously to the other
    response = accept(later, body)
    synchronous = now.post("/api/v1/events", body)
    # Then the first is accepted, durably, and nothing is earned yet
    assert response.status_code == 202, response.text
    assert response.headers["Preference-Applied"] == "respond-async"
    accepted = response.json()
    assert accepted["status"] == "accepted"
    assert accepted["status_url"] == response.headers["Location"] == f"/api/v1/events/{body['id']}"
    assert status_of(later, body["id"])["status"] == "accepted"
    assert later.available("anna") == 50
    # When a worker runs
    assert process_accepted(later.client) == 1
    # Then it earned exactly what the synchronous request earned, and the status carries that response
    processed = status_of(later, body["id"])
    assert processed["status"] == "processed"
    assert processed["response"] == synchronous.json()
    assert later.available("anna") == now.available("anna") == 50 + 59
    # And processing again does nothing more
    assert process_accepted(later.client) == 0
    assert later.available("anna") == 109


def test_a_retry_of_an_accepted_event_is_answered_alike_and_a_changed_body_is_a_conflict(api: ApiClient) -> None:
    api.member("anna")
    body = purchase_body(api, "anna")
    assert accept(api, body).status_code == 202
    # The same body again: the same event, still accepted (not stored twice)
    again = accept(api, body)
    assert again.status_code == 202
    assert again.json()["status"] == "accepted"
    # Another body under the same id: refused at once, and the first body is what gets processed
    changed = accept(api, {**body, "shipping": "0"})
    error_of(changed, 409, "idempotency_conflict")
    assert process_accepted(api.client) == 1
    assert api.available("anna") == 50 + 59
    # Once processed, a retry is told the outcome; a synchronous retry replays the stored response
    assert accept(api, body).json()["status"] == "processed"
    replay = api.post("/api/v1/events", body)
    assert replay.status_code == 200
    assert replay.json() == status_of(api, body["id"])["response"]


def test_an_event_recorded_synchronously_is_not_accepted_again(api: ApiClient) -> None:
    api.member("anna")
    body = purchase_body(api, "anna")
    first = api.post("/api/v1/events", body)
    assert first.status_code == 201
    retried = accept(api, body)
    assert retried.status_code == 202
    assert retried.json()["status"] == "processed"
    assert retried.json()["response"] == first.json()
    error_of(accept(api, {**body, "shipping": "0"}), 409, "idempotency_conflict")
    assert process_accepted(api.client) == 0
    assert status_of(api, body["id"])["response"] == first.json()


def test_an_event_refused_when_processed_is_rejected_with_the_error_a_request_would_have_got(
    api: ApiClient,
) -> None:
    # Given an accepted purchase by a member that does not exist
    body = purchase_body(api, "nobody")
    assert accept(api, body).status_code == 202
    # When it is processed
    assert process_accepted(api.client) == 1
    # Then it is rejected with member_not_found, and wrote nothing
    rejected = status_of(api, body["id"])
    assert rejected["status"] == "rejected"
    assert rejected["error"]["code"] == "member_not_found"
    synchronous = api.post("/api/v1/events", {**purchase_body(api, "nobody")})
    assert synchronous.json()["error"]["code"] == "member_not_found"


def test_a_refusal_in_a_batch_leaves_the_other_events_of_the_batch_processed(api: ApiClient) -> None:
    # Given three accepted purchases, the middle one for an order id the first already used
    api.member("anna")
    first = purchase_body(api, "anna", order_id="O-1")
    twice = purchase_body(api, "anna", order_id="O-1")
    third = purchase_body(api, "anna", order_id="O-3")
    for body in (first, twice, third):
        assert accept(api, body).status_code == 202
    # When they are processed (in one transaction)
    assert process_accepted(api.client) == 3
    # Then the second is rejected and the others earned, once each
    assert [status_of(api, body["id"])["status"] for body in (first, twice, third)] == [
        "processed",
        "rejected",
        "processed",
    ]
    assert status_of(api, twice["id"])["error"]["code"] == "order_already_recorded"
    assert api.available("anna") == 50 + 59 + 59


def test_what_needs_no_member_is_checked_when_an_event_is_accepted(api: ApiClient) -> None:
    api.member("anna")
    error_of(accept(api, purchase_body(api, "anna", currency="USD")), 422, "currency_mismatch")
    error_of(
        accept(api, purchase_body(api, "anna", occurred_at="2030-01-01T00:00:00+00:00")), 422, "occurred_in_future"
    )
    error_of(accept(api, {**purchase_body(api, "anna"), "lines": []}), 422, "validation_error")
    assert process_accepted(api.client) == 0


def test_a_member_s_events_are_processed_in_the_order_they_were_accepted(api: ApiClient) -> None:
    # Given a purchase and then its refund, accepted one after the other
    api.member("anna")
    purchase = purchase_body(api, "anna", order_id="O-9")
    refund = {
        "id": api.next_id("refund"),
        "type": "refund",
        "member_external_id": "anna",
        "occurred_at": "2026-06-02T12:00:00+00:00",
        "order_id": "O-9",
        "currency": "EUR",
        "amount": "39.89",
    }
    assert accept(api, purchase).status_code == 202
    assert accept(api, refund).status_code == 202
    # When processed, the refund finds its order: it came after the purchase
    assert process_accepted(api.client) == 2
    assert status_of(api, refund["id"])["status"] == "processed"
    assert api.available("anna") == 50


# --- the batch endpoint ------------------------------------------------------------------------------------------


def test_a_batch_answers_each_event_on_its_own_and_a_bad_one_does_not_stop_the_others(api: ApiClient) -> None:
    api.member("anna")
    good = purchase_body(api, "anna")
    conflicting = purchase_body(api, "anna")
    assert accept(api, conflicting).status_code == 202
    invalid = {**purchase_body(api, "anna"), "lines": "many"}
    batch = [good, {**conflicting, "shipping": "1.00"}, invalid, good]
    response = api.post("/api/v1/events/batch", {"events": batch})
    assert response.status_code == 202, response.text
    results = response.json()["results"]
    assert [result.get("status") or result["error"]["code"] for result in results] == [
        "accepted",
        "idempotency_conflict",
        "validation_error",
        "accepted",  # the same event twice in a batch: a retry of the first
    ]
    assert results[2]["error"]["details"][0]["field"] == "lines"
    assert results[0]["status_url"] == f"/api/v1/events/{good['id']}"
    assert process_accepted(api.client) == 2
    assert api.available("anna") == 50 + 59 + 59


@pytest.mark.parametrize("events", [[], [{"id": "x"}] * 1001])
def test_a_batch_holds_one_to_a_thousand_events(api: ApiClient, events: list[dict[str, Any]]) -> None:
    error_of(api.post("/api/v1/events/batch", {"events": events}), 422, "validation_error")


def test_the_status_of_an_unknown_event_is_not_found_and_events_are_private_to_their_program(
    make_program: Any,
) -> None:
    mine, theirs = make_program(), make_program()
    mine.member("anna")
    body = purchase_body(mine, "anna")
    assert accept(mine, body).status_code == 202
    error_of(theirs.get(f"/api/v1/events/{body['id']}"), 404, "event_not_found")
    error_of(mine.get("/api/v1/events/no-such-event"), 404, "event_not_found")
    assert process_accepted(mine.client) == 1  # nothing is left for the other tests' workers


def test_an_event_processed_at_once_has_a_status_too(api: ApiClient) -> None:
    api.member("anna")
    response = api.purchase("anna", BEANS_AND_MUG, order_id="O-5")
    shown = status_of(api, response["event_id"])
    assert shown["status"] == "processed"
    assert shown["response"] == response


def test_workers_in_parallel_keep_each_member_s_events_in_order(api: ApiClient) -> None:
    # Given thirty members, each with a purchase and then its full refund, accepted interleaved with the others'
    members = [api.member() for _ in range(30)]
    bodies: list[dict[str, Any]] = []
    for member in members:
        order = api.next_id("order")
        bodies.append(purchase_body(api, member, order_id=order))
        bodies.append(
            {
                "id": api.next_id("refund"),
                "type": "refund",
                "member_external_id": member,
                "occurred_at": "2026-06-02T12:00:00+00:00",
                "order_id": order,
                "currency": "EUR",
                "amount": "39.89",
            }
        )
    assert api.post("/api/v1/events/batch", {"events": bodies[::2] + bodies[1::2]}).status_code == 202
    # When three workers process them at once
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: process_accepted(api.client), range(3)))
    # Then every refund came after its purchase: nothing rejected, every purchase taken back
    assert {status_of(api, body["id"])["status"] for body in bodies} == {"processed"}
    assert {api.available(member) for member in members} == {50}
