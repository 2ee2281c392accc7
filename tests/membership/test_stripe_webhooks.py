"""Stripe webhook deliveries for memberships: which signatures are accepted, and what Stripe's own event payloads
(tests/membership/stripe/, see its README) read as, across the API versions that moved the fields."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchcard.membership.stripe import REASONS, SignatureRefused, StripeMembershipEvent, read, sign, verify
from tests.clock import NOW

FIXTURES = Path(__file__).parent / "stripe"
SECRET = "whsec_punchcard_test_secret"
OLD_SECRET = "whsec_punchcard_old_secret"
FIVE_MINUTES = timedelta(minutes=5)


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(raw(name))
    return loaded


def invoice_of(event: dict[str, object]) -> dict[str, object]:
    data = cast("dict[str, object]", event["data"])
    return cast("dict[str, object]", data["object"])


def first_line(event: dict[str, object]) -> dict[str, object]:
    lines = cast("dict[str, list[dict[str, object]]]", invoice_of(event)["lines"])
    return lines["data"][0]


def refusal(header: str | None, payload: bytes, secrets: list[str], now: datetime = NOW) -> str:
    with pytest.raises(SignatureRefused) as refused:
        verify(header, payload, secrets, now)
    return refused.value.reason


# --- signatures ---------------------------------------------------------------------------------------------------

BODY = raw("invoice_paid_2023_10_16.json")


def test_a_delivery_signed_with_the_secret_just_now_is_accepted() -> None:
    verify(sign(BODY, SECRET, NOW), BODY, [SECRET], NOW)


def test_the_signature_is_stripes_hmac_sha256_keyed_with_the_whole_whsec_secret() -> None:
    payload = b'{"id": "evt_1"}'
    at = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # 1700000000

    header = sign(payload, SECRET, at)

    # As stripe-python's WebhookSignature computes it: the "whsec_" prefix is part of the key.
    expected = hmac.new(SECRET.encode(), b"1700000000." + payload, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert expected == "5ad0b28b92e7f75de938665bbc09baa5c79366a48adf34a4063343f7263777ab"


def test_a_body_with_one_byte_changed_is_refused() -> None:
    header = sign(BODY, SECRET, NOW)
    changed = BODY.replace(b'"amount_paid": 70000', b'"amount_paid": 70001')
    assert changed != BODY

    assert refusal(header, changed, [SECRET]) == "no_matching_signature"


def test_the_same_json_serialised_again_is_refused() -> None:
    header = sign(BODY, SECRET, NOW)
    reserialised = json.dumps(json.loads(BODY)).encode()

    assert refusal(header, reserialised, [SECRET]) == "no_matching_signature"


def test_a_signature_with_another_secret_is_refused() -> None:
    assert refusal(sign(BODY, "whsec_someone_else", NOW), BODY, [SECRET]) == "no_matching_signature"


def test_no_secret_configured_accepts_nothing() -> None:
    assert refusal(sign(BODY, SECRET, NOW), BODY, []) == "no_matching_signature"
    # An empty setting is not the empty key: a body signed with "" is still refused.
    assert refusal(sign(BODY, "", NOW), BODY, [""]) == "no_matching_signature"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_header_is_missing(header: str | None) -> None:
    assert refusal(header, BODY, [SECRET]) == "missing"


VALID = sign(BODY, SECRET, NOW)
T, V1 = VALID.split(",")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(V1, id="no t"),
        pytest.param(T, id="no v1"),
        pytest.param(f"{T},v0={V1.removeprefix('v1=')}", id="only v0"),
        pytest.param(f"t=soon,{V1}", id="t not an integer"),
        pytest.param(f"t=-1,{V1}", id="t negative"),
        pytest.param(f"t=1.5,{V1}", id="t not whole"),
        pytest.param(f"t=,{V1}", id="t empty"),
        pytest.param(f"t=١٧٠٠,{V1}", id="t in other digits"),
        pytest.param(f"{T},{T},{V1}", id="two t"),
        pytest.param("garbage", id="no key=value at all"),
    ],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    assert refusal(header, BODY, [SECRET]) == "malformed"


def test_other_schemes_and_unknown_items_are_ignored() -> None:
    header = f"{T},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39,{V1},scheme=later,junk"

    verify(header, BODY, [SECRET], NOW)


def test_a_v1_value_that_is_not_a_signature_does_not_match() -> None:
    assert refusal(f"{T},v1=not-hex-é", BODY, [SECRET]) == "no_matching_signature"
    assert refusal(f"{T},v1={V1.removeprefix('v1=').upper()}", BODY, [SECRET]) == "no_matching_signature"


@pytest.mark.parametrize(
    ("signed_at", "reason"),
    [
        pytest.param(NOW - timedelta(seconds=301), "timestamp_out_of_tolerance", id="301 s old"),
        pytest.param(NOW + timedelta(seconds=301), "timestamp_out_of_tolerance", id="301 s in the future"),
        pytest.param(NOW - timedelta(days=365), "timestamp_out_of_tolerance", id="a year old"),
    ],
)
def test_a_signature_made_too_long_before_or_after_now_is_refused(signed_at: datetime, reason: str) -> None:
    assert refusal(sign(BODY, SECRET, signed_at), BODY, [SECRET]) == reason


@pytest.mark.parametrize(
    "signed_at",
    [
        pytest.param(NOW - timedelta(seconds=299), id="299 s old"),
        pytest.param(NOW - FIVE_MINUTES, id="exactly 5 min old"),
        pytest.param(NOW + timedelta(seconds=299), id="299 s ahead (clock skew)"),
    ],
)
def test_a_signature_within_the_tolerance_is_accepted(signed_at: datetime) -> None:
    verify(sign(BODY, SECRET, signed_at), BODY, [SECRET], NOW)


def test_the_tolerance_is_the_callers() -> None:
    header = sign(BODY, SECRET, NOW - timedelta(minutes=20))

    verify(header, BODY, [SECRET], NOW, tolerance=timedelta(minutes=30))
    with pytest.raises(SignatureRefused):
        verify(header, BODY, [SECRET], NOW, tolerance=timedelta(minutes=10))


def test_a_timestamp_of_absurd_length_is_out_of_tolerance_not_an_error() -> None:
    timestamp = "9" * 5000
    digest = hmac.new(SECRET.encode(), timestamp.encode() + b"." + BODY, hashlib.sha256).hexdigest()

    assert refusal(f"t={timestamp},v1={digest}", BODY, [SECRET]) == "timestamp_out_of_tolerance"


def test_a_forgery_is_called_a_forgery_even_when_its_time_is_also_wrong() -> None:
    header = sign(BODY, "whsec_someone_else", NOW - timedelta(hours=1))

    assert refusal(header, BODY, [SECRET]) == "no_matching_signature"


def test_during_a_secret_rotation_either_secret_accepts_a_delivery_signed_with_both() -> None:
    old, new = sign(BODY, OLD_SECRET, NOW), sign(BODY, SECRET, NOW)
    both = f"{old},{new.split(',')[1]}"  # t=...,v1=<old>,v1=<new>, as Stripe sends while the old secret is valid

    verify(both, BODY, [SECRET], NOW)
    verify(both, BODY, [OLD_SECRET], NOW)
    verify(both, BODY, [OLD_SECRET, SECRET], NOW)
    verify(new, BODY, [OLD_SECRET, SECRET], NOW)
    assert refusal(both, BODY, ["whsec_third"]) == "no_matching_signature"


HEADER_PARTS = st.sampled_from([T, V1, "v0=abc", "t=", "v1=", "=", "t=12", "t=99999999999999999999", ""]) | st.text(
    max_size=12
)


@given(st.lists(HEADER_PARTS, max_size=6).map(",".join) | st.text())
def test_any_header_is_accepted_or_refused_with_a_reason(header: str) -> None:
    reasons = []
    try:
        verify(header, BODY, [SECRET], NOW)
    except SignatureRefused as refused:
        reasons.append(refused.reason)
    assert set(reasons) <= set(REASONS)


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(VALID, BODY, [SECRET], NOW.replace(tzinfo=None))


# --- reading Stripe's payloads ------------------------------------------------------------------------------------


def test_an_invoice_paid_before_basil_reads_as_a_payment() -> None:
    event = read(fixture("invoice_paid_2023_10_16.json"))

    assert event == StripeMembershipEvent(
        event_id="evt_1PBXo9RxqlZt79sDnw7dd5cs",
        kind="paid",
        occurred_at=datetime(2024, 5, 1, 7, 42, 27, tzinfo=UTC),
        subscription_id="sub_1PBXo5RxqlZt79sD3kdxoDVi",  # invoice.subscription
        member_external_id="member-1042",  # invoice.subscription_details.metadata
        plan="gold",
        period="month",  # lines.data[0].price.recurring
        period_start=datetime(2024, 5, 1, 7, 42, 25, tzinfo=UTC),
        period_end=datetime(2024, 6, 1, 7, 42, 25, tzinfo=UTC),
        amount_minor=70000,  # amount_paid: 7 × $100.00
        currency="USD",
        billing_reason="subscription_create",
        payment_ref="in_1PBXo5RxqlZt79sDAbGhMpyk",
    )


def test_an_invoice_payment_failed_reads_the_amount_due() -> None:
    event = read(fixture("invoice_payment_failed_2023_10_16.json"))

    assert event == StripeMembershipEvent(
        event_id="evt_1PBXo8RxqlZt79sDD91Aiatr",
        kind="failed",
        occurred_at=datetime(2024, 5, 1, 7, 42, 25, tzinfo=UTC),
        subscription_id="sub_1PBXo5RxqlZt79sD3kdxoDVi",
        member_external_id="member-1042",
        plan="gold",
        period="month",
        period_start=datetime(2024, 5, 1, 7, 42, 25, tzinfo=UTC),
        period_end=datetime(2024, 6, 1, 7, 42, 25, tzinfo=UTC),
        amount_minor=70000,  # amount_due; amount_paid is 0
        currency="USD",
        billing_reason="subscription_create",
        payment_ref="in_1PBXo5RxqlZt79sDAbGhMpyk",
    )


def test_an_invoice_paid_on_basil_reads_the_parent_and_has_no_interval() -> None:
    event = read(fixture("invoice_paid_2025_05_28_basil.json"))

    assert event == StripeMembershipEvent(
        event_id="evt_1RopDA08MTe1bJmcbY5Ypfl3",
        kind="paid",
        occurred_at=datetime(2025, 7, 25, 17, 15, 11, tzinfo=UTC),
        subscription_id="sub_1RopD708MTe1bJmc4Z0NpbeM",  # parent.subscription_details.subscription
        member_external_id="member-2077",  # parent.subscription_details.metadata
        plan="silver",
        period=None,  # basil's line names its price by id only (pricing.price_details.price)
        period_start=datetime(2025, 7, 25, 17, 15, 9, tzinfo=UTC),
        period_end=datetime(2025, 8, 25, 17, 15, 9, tzinfo=UTC),
        amount_minor=1500,
        currency="USD",
        billing_reason="subscription_create",
        payment_ref="in_1RopD708MTe1bJmcHAXjEg2o",
    )


def test_a_deleted_subscription_reads_as_ended_with_no_payment() -> None:
    event = read(fixture("customer_subscription_deleted_2025_05_28_basil.json"))

    assert event == StripeMembershipEvent(
        event_id="evt_1RopE908MTe1bJmcZNPg8DL1",
        kind="ended",
        occurred_at=datetime(2025, 7, 25, 17, 16, 13, tzinfo=UTC),
        subscription_id="sub_1RopE508MTe1bJmcVyjGTTHz",
        member_external_id="member-3105",  # the subscription's metadata
        plan="silver",
        period="month",  # items.data[0].price.recurring
        period_start=None,
        period_end=None,
        amount_minor=None,
        currency=None,
        billing_reason=None,
        payment_ref="sub_1RopE508MTe1bJmcVyjGTTHz",
    )


def test_metadata_on_the_line_is_read_when_the_invoice_has_none() -> None:
    event = fixture("invoice_paid_2025_05_28_basil.json")
    parent = cast("dict[str, dict[str, object]]", invoice_of(event)["parent"])
    metadata = parent["subscription_details"].pop("metadata")
    first_line(event)["metadata"] = metadata

    read_event = read(event)

    assert read_event is not None
    assert (read_event.member_external_id, read_event.plan) == ("member-2077", "silver")


def test_the_invoices_subscription_metadata_wins_over_a_lines() -> None:
    event = fixture("invoice_paid_2023_10_16.json")
    first_line(event)["metadata"] = {"punchcard_member": "someone-else", "punchcard_plan": "bronze"}

    read_event = read(event)

    assert read_event is not None
    assert (read_event.member_external_id, read_event.plan) == ("member-1042", "gold")


def test_no_metadata_reads_as_unknown_member_and_plan() -> None:
    event = fixture("invoice_paid_2023_10_16.json")
    invoice_of(event)["subscription_details"] = {"metadata": {"punchcard_member": ""}}  # "" unsets a key

    read_event = read(event)

    assert read_event is not None
    assert (read_event.member_external_id, read_event.plan) == (None, None)


@pytest.mark.parametrize(
    ("recurring", "period"),
    [
        pytest.param({"interval": "year", "interval_count": 1}, "year", id="yearly"),
        pytest.param({"interval": "month", "interval_count": 3}, None, id="quarterly"),
        pytest.param({"interval": "week", "interval_count": 1}, None, id="weekly"),
        pytest.param({"interval": "month"}, None, id="no count"),
    ],
)
def test_the_period_is_month_or_year_once(recurring: dict[str, object], period: str | None) -> None:
    event = fixture("invoice_paid_2023_10_16.json")
    price = cast("dict[str, object]", first_line(event)["price"])
    price["recurring"] = recurring

    read_event = read(event)

    assert read_event is not None
    assert read_event.period == period


def test_the_legacy_plan_gives_the_interval_when_the_line_has_no_price() -> None:
    event = fixture("invoice_paid_2023_10_16.json")
    del first_line(event)["price"]

    read_event = read(event)

    assert read_event is not None
    assert read_event.period == "month"


def test_a_proration_line_gives_way_to_the_periods_line() -> None:
    event = fixture("invoice_paid_2023_10_16.json")
    proration = copy.deepcopy(first_line(event))
    proration |= {"proration": True, "period": {"start": 1714000000, "end": 1714549345}}
    lines = cast("dict[str, list[dict[str, object]]]", invoice_of(event)["lines"])
    lines["data"].insert(0, proration)

    read_event = read(event)

    assert read_event is not None
    assert (read_event.period_start, read_event.period_end) == (
        datetime(2024, 5, 1, 7, 42, 25, tzinfo=UTC),
        datetime(2024, 6, 1, 7, 42, 25, tzinfo=UTC),
    )


def test_the_subscription_id_comes_from_the_line_when_the_invoice_does_not_say() -> None:
    event = fixture("invoice_paid_2025_05_28_basil.json")
    invoice_of(event)["parent"] = None

    read_event = read(event)

    assert read_event is not None
    assert read_event.subscription_id == "sub_1RopD708MTe1bJmc4Z0NpbeM"  # parent.subscription_item_details


def test_an_expanded_subscription_is_read_by_its_id() -> None:
    event = fixture("invoice_paid_2023_10_16.json")
    invoice_of(event)["subscription"] = {"id": "sub_expanded", "object": "subscription"}

    read_event = read(event)

    assert read_event is not None
    assert read_event.subscription_id == "sub_expanded"


@pytest.mark.parametrize(
    "event_type",
    [
        "invoice.payment_succeeded",  # sent alongside invoice.paid for charged invoices: reading both would count twice
        "invoice.finalized",
        "customer.subscription.updated",
        "customer.subscription.created",
        "charge.succeeded",
        "v2.core.event_destination.ping",
    ],
)
def test_other_event_types_read_as_nothing(event_type: str) -> None:
    event = fixture("invoice_paid_2023_10_16.json")
    event["type"] = event_type

    assert read(event) is None


DELETE = object()
"""Stands for "remove this key" where a test replaces a value."""


def replaced(name: str, path: tuple[str | int, ...], value: object) -> dict[str, object]:
    event = fixture(name)
    holder: object = event
    for step in path[:-1]:
        holder = holder[step]  # type: ignore[index]
    if value is DELETE:
        del holder[path[-1]]  # type: ignore[attr-defined]
    else:
        holder[path[-1]] = value  # type: ignore[index]
    return event


PAID = "invoice_paid_2023_10_16.json"
BASIL = "invoice_paid_2025_05_28_basil.json"
ENDED = "customer_subscription_deleted_2025_05_28_basil.json"


@pytest.mark.parametrize(
    ("name", "path", "value", "message"),
    [
        pytest.param(PAID, ("id",), DELETE, "id must be", id="no id"),
        pytest.param(PAID, ("id",), 42, "id must be", id="id not a string"),
        pytest.param(PAID, ("id",), "", "id must be", id="id empty"),
        pytest.param(PAID, ("type",), DELETE, "type must be", id="no type"),
        pytest.param(PAID, ("type",), ["invoice.paid"], "type must be", id="type not a string"),
        pytest.param(PAID, ("created",), DELETE, "created must be", id="no created"),
        pytest.param(PAID, ("created",), "1714549347", "created must be", id="created a string"),
        pytest.param(PAID, ("created",), 1714549347.5, "created must be", id="created a float"),
        pytest.param(PAID, ("created",), True, "created must be", id="created a boolean"),
        pytest.param(PAID, ("created",), 10**30, "created must be", id="created past year 9999"),
        pytest.param(PAID, ("created",), -1, "created must be", id="created before 1970"),
        pytest.param(PAID, ("data",), DELETE, "data.object must be", id="no data"),
        pytest.param(PAID, ("data",), "invoice", "data must be", id="data not an object"),
        pytest.param(PAID, ("data", "object"), DELETE, "data.object must be", id="no data.object"),
        pytest.param(PAID, ("data", "object"), [], "data.object must be", id="data.object a list"),
        pytest.param(PAID, ("data", "object", "object"), "charge", "must be a Stripe invoice", id="not an invoice"),
        pytest.param(PAID, ("data", "object", "id"), None, "data.object.id must be", id="invoice without id"),
        pytest.param(PAID, ("data", "object", "amount_paid"), "700.00", "amount_paid must be", id="amount a string"),
        pytest.param(PAID, ("data", "object", "amount_paid"), -5, "amount_paid must be", id="amount negative"),
        pytest.param(PAID, ("data", "object", "currency"), 840, "currency must be", id="currency a number"),
        pytest.param(PAID, ("data", "object", "lines", "data"), {}, "lines.data must be", id="lines not a list"),
        pytest.param(
            PAID,
            ("data", "object", "subscription_details", "metadata", "punchcard_member"),
            1042,
            "punchcard_member must be",
            id="member id a number",
        ),
        pytest.param(
            BASIL,
            ("data", "object", "lines", "data", 0, "period", "end"),
            "2025-08-25",
            "period.end must be",
            id="period end a string",
        ),
        pytest.param(BASIL, ("data", "object", "parent"), "sub", "parent must be", id="parent a string"),
        pytest.param(ENDED, ("data", "object", "object"), "invoice", "a Stripe subscription", id="not a subscription"),
        pytest.param(ENDED, ("data", "object", "metadata"), "member-3105", "metadata must be", id="metadata a string"),
    ],
)
def test_a_payload_that_is_not_a_stripe_event_is_a_value_error(
    name: str, path: tuple[str | int, ...], value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        read(replaced(name, path, value))


@pytest.mark.parametrize("payload", [[], "evt_1", None, 42])
def test_a_payload_that_is_not_an_object_is_a_value_error(payload: object) -> None:
    with pytest.raises(ValueError, match="JSON object"):
        read(cast("Mapping[str, object]", payload))


# --- robustness: any JSON reads as an event, nothing, or a ValueError ----------------------------------------------

KEYS = st.sampled_from(
    [
        "id",
        "type",
        "created",
        "data",
        "object",
        "lines",
        "parent",
        "subscription",
        "subscription_details",
        "subscription_item_details",
        "metadata",
        "punchcard_member",
        "period",
        "price",
        "recurring",
        "plan",
        "items",
        "amount_paid",
    ]
) | st.text(max_size=6)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["invoice.paid", "invoice.payment_failed", "customer.subscription.deleted", "subscription"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=25,
)


def read_or_refuse(value: object) -> None:
    try:
        result = read(cast("Mapping[str, object]", value))
    except ValueError:
        return
    assert result is None or isinstance(result, StripeMembershipEvent)


@given(JSON_VALUES)
def test_any_json_reads_or_is_a_value_error(value: object) -> None:
    read_or_refuse(value)


def paths(value: object, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from paths(child, (*prefix, index))


NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))


@given(st.sampled_from(NAMES), st.data())
def test_a_stripe_payload_with_any_value_anywhere_reads_or_is_a_value_error(name: str, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(list(paths(fixture(name)))))
    value = data.draw(st.just(DELETE) | JSON_VALUES)

    read_or_refuse(replaced(name, path, value))
