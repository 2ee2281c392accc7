"""Deliveries that really overlap, against a real server: one Stripe payment delivered ten times at once renews the
membership once, and ten renewals told with one payment reference (Stripe's and the shop's own) renew it once."""

from __future__ import annotations

import json
from collections import Counter

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.membership.models import MembershipChange
from punchcard.membership.stripe import sign
from tests.clock import NOW
from tests.factories import ApiClient
from tests.invariants.test_races import at_once, auth
from tests.membership.conftest import SECRET
from tests.membership.test_memberships_api import membership_of, start
from tests.membership.test_stripe_endpoint import sample


def renewals(engine: Engine, api: ApiClient) -> int:
    with Session(engine) as session:
        return int(
            session.execute(
                select(func.count()).where(
                    MembershipChange.program_id == api.program_id, MembershipChange.kind == "membership.renewed"
                )
            ).scalar_one()
        )


def test_ten_deliveries_of_one_paid_invoice_at_once_renew_once(
    api: ApiClient, http: httpx.Client, engine: Engine
) -> None:
    anna = api.member("anna")
    start(api, anna, started_at="2026-11-20T10:00:00+00:00", period="month", payment_ref="in_first")
    invoice = sample("invoice_paid_2023_10_16.json", anna, billing_reason="subscription_cycle", amount_paid=499)
    payload = json.dumps(invoice).encode()
    headers = {"Stripe-Signature": sign(payload, SECRET, NOW), "Content-Type": "application/json"}

    responses = at_once(
        10, lambda _: http.post(f"/integrations/stripe/{api.slug}/webhooks", content=payload, headers=headers)
    )

    assert Counter(response.status_code for response in responses) == {200: 10}, [r.text for r in responses]
    assert len({response.text for response in responses}) == 1
    assert renewals(engine, api) == 1
    assert membership_of(api, anna)["status"] == "active"


def test_ten_renewals_told_with_one_payment_reference_renew_once(
    api: ApiClient, http: httpx.Client, engine: Engine
) -> None:
    anna = api.member("anna")
    start(api, anna, started_at="2026-11-20T10:00:00+00:00", period="month", payment_ref="in_first")

    def renew(index: int) -> httpx.Response:
        body = {
            "id": f"renewal-{index}",
            "type": "membership_renewed",
            "member_external_id": anna,
            "occurred_at": "2026-11-24T10:00:00+00:00",
            "attributes": {"payment_ref": "in_second"},
        }
        return http.post("/api/v1/events", json=body, headers=auth(api))

    responses = at_once(10, renew)

    assert Counter(response.status_code for response in responses) == {201: 10}, [r.text for r in responses]
    assert sum(bool(response.json()["effects"]) for response in responses) == 1
    assert renewals(engine, api) == 1
