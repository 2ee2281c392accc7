"""After erasure nothing happens to the member again: an event for them, under the id they had or their pseudonym,
synchronous or accepted for later, is refused with ``member_erased`` and changes nothing; so are a redemption and a
profile change that would put personal data back. The shop may enrol the customer again: that is a new member."""

from __future__ import annotations

from typing import Any

from tests.clock import NOW
from tests.factories import ApiClient, earned, error_of, line, process_accepted, snapshot


def erased_member(api: ApiClient) -> tuple[str, str]:
    """A member with points, erased: their former id and their pseudonym."""
    member = api.member(email="gone@example.com", name="Gone Member")
    api.purchase(member, [line("BEANS", "coffee-beans", "30.00")], occurred_at=NOW.isoformat())
    answer = api.post(f"/api/v1/members/{member}/erase", {"reason": "the member asked"})
    assert answer.status_code == 200, answer.text
    return member, str(answer.json()["member"])


def purchase(api: ApiClient, member: str) -> dict[str, Any]:
    order = api.next_id("order")
    lines = [line("BEANS", "coffee-beans", "20.00")]
    return {
        "id": api.next_id("evt"),
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": NOW.isoformat(),
        "order_id": order,
        "currency": "EUR",
        "lines": lines,
    }


def test_an_event_for_an_erased_member_is_refused_under_either_name_and_changes_nothing(api: ApiClient) -> None:
    # Given an erased member
    former, pseudonym = erased_member(api)
    before = snapshot(api, pseudonym)

    # When the shop sends purchases for them, by the id it knows and by the pseudonym
    for name in (former, pseudonym):
        error = error_of(api.post("/api/v1/events", purchase(api, name)), 410, "member_erased")
        # Then each is refused without repeating the id it was sent with
        assert name not in error["message"]

    # and nothing changed
    assert snapshot(api, pseudonym) == before


def test_an_event_accepted_for_later_is_rejected_with_member_erased_when_processed(api: ApiClient) -> None:
    former, pseudonym = erased_member(api)
    before = snapshot(api, pseudonym)
    body = purchase(api, former)
    assert api.post("/api/v1/events", body, headers={"Prefer": "respond-async"}).status_code == 202

    assert process_accepted(api.client) == 1

    status = api.get(f"/api/v1/events/{body['id']}").json()
    assert (status["status"], status["error"]["code"]) == ("rejected", "member_erased")
    assert snapshot(api, pseudonym) == before


def test_nothing_else_happens_to_an_erased_member_either(api: ApiClient) -> None:
    former, pseudonym = erased_member(api)
    before = snapshot(api, pseudonym)

    redemption = api.post(
        f"/api/v1/members/{pseudonym}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "after"}
    )
    error_of(redemption, 410, "member_erased")
    error_of(api.patch(f"/api/v1/members/{pseudonym}", {"email": "back@example.com"}), 410, "member_erased")
    error_of(api.patch(f"/api/v1/members/{pseudonym}", {"status": "active"}), 410, "member_erased")
    error_of(api.get(f"/api/v1/members/{former}"), 410, "member_erased")

    assert snapshot(api, pseudonym) == before
    view = api.get(f"/api/v1/members/{pseudonym}").json()
    assert (view["status"], view["email"], view["name"], view["birth_date"]) == ("erased", None, None, None)


def test_a_customer_enrolled_again_under_an_erased_id_is_a_new_member(api: ApiClient) -> None:
    # Given an erased member
    former, pseudonym = erased_member(api)
    before = snapshot(api, pseudonym)

    # When the shop enrols the customer again under the same id, and they buy
    api.member(former, email="back-again@example.com")
    answer = api.purchase(former, [line("BEANS", "coffee-beans", "20.00")], occurred_at=NOW.isoformat())

    # Then the new member earns, and the erased one stays as they were
    assert earned(answer) > 0
    assert api.get(f"/api/v1/members/{former}").json()["email"] == "back-again@example.com"
    assert snapshot(api, pseudonym) == before

    # and erased in turn, they get a pseudonym of their own
    second = api.post(f"/api/v1/members/{former}/erase", {"reason": "asked again"}).json()["member"]
    assert second.startswith(f"{pseudonym}-")
