"""The Stripe adapter end to end: Stripe's deliveries (its sample payloads, made to name this test's member, plan,
currency and time) signed with the program's secret start, renew, fail and end a membership once each; a delivery
that does not verify or is too old is refused with 400 and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from punchcard.cli.main import app as cli
from punchcard.integration import service as integrations
from punchcard.integration.service import Provider
from punchcard.kit.db import unit_of_work
from punchcard.membership.stripe import sign
from tests.clock import NOW
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, error_of
from tests.membership.conftest import SECRET
from tests.membership.test_memberships_api import BEAN_CLUB, membership_of

SAMPLES = Path(__file__).parent / "stripe"
CREATED = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
"""Stripe's ``created`` for the deliveries: an hour before the tests' clock."""


def sample(name: str, member: str | None, **invoice: Any) -> dict[str, Any]:
    """Stripe's sample ``name``, as a delivery to this program: its member and plan in the subscription's metadata,
    euros, created just now, for the month from then."""
    event: dict[str, Any] = json.loads((SAMPLES / name).read_text())
    event["created"] = int(CREATED.timestamp())
    body = event["data"]["object"]
    metadata = {"punchcard_member": member, "punchcard_plan": "bean-club"} if member else {}
    if body["object"] == "subscription":
        body["metadata"] = metadata
    else:
        body["currency"] = "eur"
        details = body.get("parent", {}).get("subscription_details") if body.get("parent") else None
        if details is not None:
            details["metadata"] = metadata
        else:
            body["subscription_details"] = {"metadata": metadata}
        for item in body["lines"]["data"]:
            item["metadata"] = {}
            item["period"] = {"start": event["created"], "end": event["created"] + 31 * 86400}
    body.update(invoice)
    return event


def deliver(api: ApiClient, event: dict[str, Any], *, secret: str = SECRET, at: datetime = NOW) -> httpx.Response:
    payload = json.dumps(event).encode()
    headers = {"Stripe-Signature": sign(payload, secret, at), "Content-Type": "application/json"}
    response: httpx.Response = api.client.post(
        f"/integrations/stripe/{api.slug}/webhooks", content=payload, headers=headers
    )
    return response


def first_invoice(member: str | None, **invoice: Any) -> dict[str, Any]:
    return sample("invoice_paid_2025_05_28_basil.json", member, amount_paid=499, **invoice)


def test_a_subscriptions_first_paid_invoice_starts_the_membership(api: ApiClient) -> None:
    anna = api.member("anna")
    response = deliver(api, first_invoice(anna))
    assert response.status_code == 200, response.text
    assert response.json()["effects"][0]["type"] == "membership_started"
    membership = membership_of(api, anna)
    assert (
        membership["status"] == "trialing"
    )  # the plan's trial: the shop's Stripe price has its own, ours says 14 days
    assert membership["plan"] == "bean-club"


def test_a_delivery_repeated_is_decided_once(api: ApiClient) -> None:
    anna = api.member("anna")
    event = first_invoice(anna)
    first, again = deliver(api, event), deliver(api, event)
    assert again.status_code == 200
    assert again.json() == first.json()


def test_a_cycle_renews_a_failure_starts_the_grace_and_a_deletion_ends_it(api: ApiClient, clock: Clock) -> None:
    anna = api.member("anna")
    deliver(api, first_invoice(anna))
    old = sample("invoice_paid_2023_10_16.json", anna, billing_reason="subscription_cycle", amount_paid=499)
    old["id"] = "evt_cycle_1"
    old["data"]["object"]["id"] = "in_cycle_1"
    old["data"]["object"]["subscription"] = "sub_1RopD708MTe1bJmc4Z0NpbeM"
    renewed = deliver(api, old)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["effects"][0]["type"] == "membership_renewed"
    assert membership_of(api, anna)["status"] == "active"
    failed = sample("invoice_payment_failed_2023_10_16.json", anna, billing_reason="subscription_cycle")
    assert deliver(api, failed).json()["effects"][0]["status"] == "past_due"
    deleted = sample("customer_subscription_deleted_2025_05_28_basil.json", anna)
    ended = deliver(api, deleted)
    assert ended.json()["effects"][0]["status"] == "cancelled"
    assert membership_of(api, anna)["status"] == "cancelled"


def test_a_subscription_seen_before_names_its_member_without_metadata(api: ApiClient) -> None:
    anna = api.member("anna")
    deliver(api, first_invoice(anna, subscription_details=None))
    deleted = sample("customer_subscription_deleted_2025_05_28_basil.json", None, id="sub_1RopD708MTe1bJmc4Z0NpbeM")
    response = deliver(api, deleted)
    assert response.status_code == 200, response.text
    assert membership_of(api, anna)["status"] == "cancelled"


def test_a_subscription_naming_no_known_member_is_refused_for_stripe_to_retry(api: ApiClient) -> None:
    error_of(deliver(api, first_invoice(None)), 422, "stripe_member_unknown")
    error_of(deliver(api, first_invoice("nobody")), 404, "member_not_found")


def test_other_event_types_and_invoices_for_other_things_are_acknowledged_and_ignored(api: ApiClient) -> None:
    anna = api.member("anna")
    other = {**first_invoice(anna), "type": "invoice.finalized"}
    manual = first_invoice(anna, billing_reason="manual")
    for event in (other, manual):
        response = deliver(api, event)
        assert response.status_code == 200
        assert response.json() == {"received": True, "ignored": True}
    assert api.get(f"/api/v1/members/{anna}").json()["membership"] is None


@pytest.mark.parametrize(
    ("secret", "at", "reason"),
    [
        ("whsec_someone_elses_secret_000000", NOW, "no_matching_signature"),
        (SECRET, datetime(2026, 11, 25, 11, 54, 59, tzinfo=UTC), "timestamp_out_of_tolerance"),
    ],
)
def test_a_delivery_that_does_not_verify_or_is_too_old_changes_nothing(
    api: ApiClient, secret: str, at: datetime, reason: str
) -> None:
    anna = api.member("anna")
    error = error_of(deliver(api, first_invoice(anna), secret=secret, at=at), 400, "stripe_signature_invalid")
    assert error["details"] == [{"reason": reason}]
    assert api.get(f"/api/v1/members/{anna}").json()["membership"] is None


def test_a_delivery_without_a_signature_or_to_a_program_without_a_secret_is_refused(
    api: ApiClient, make_program: ProgramMaker
) -> None:
    anna = api.member("anna")
    unsigned = api.client.post(f"/integrations/stripe/{api.slug}/webhooks", json=first_invoice(anna))
    error_of(unsigned, 400, "stripe_signature_invalid")
    bare = make_program({"membership_plans": [BEAN_CLUB]})
    error_of(deliver(bare, first_invoice(bare.member("anna"))), 400, "stripe_not_configured")
    error_of(api.client.post("/integrations/stripe/no-such-program/webhooks", content=b"{}"), 404, "program_not_found")


def test_the_cli_sets_the_secret_and_keeps_the_previous_while_stripe_rolls_it(
    api: ApiClient, database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)
    rolled = "whsec_rolled_0000000000000000000000"
    result = CliRunner().invoke(
        cli, ["integration", "stripe", "--program", api.slug, "--secret", rolled, "--keep-previous"]
    )
    assert result.exit_code == 0, result.output
    assert "2 secrets" in result.output
    with unit_of_work(engine) as session:
        assert integrations.secrets(session, api.program_id, Provider.STRIPE) == [rolled, SECRET]
    anna = api.member("anna")
    assert deliver(api, first_invoice(anna), secret=SECRET).status_code == 200
