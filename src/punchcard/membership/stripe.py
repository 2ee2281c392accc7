"""Stripe webhook deliveries for paid memberships, pure: whether a delivery is Stripe's (``verify``, the
``Stripe-Signature`` header) and what a membership event in it says (``read``).

The endpoint hands in the raw body, the header, the endpoint's secrets and the time; nothing here reads a clock, a
setting or the network. What a payment does to a membership is ``punchcard.membership.domain``'s; this module only
turns Stripe's shapes (which moved between API versions, see ``read``) into one ``StripeMembershipEvent``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TOLERANCE = timedelta(minutes=5)
"""How far a signature's time may be from ours, either way: Stripe's own libraries default to five minutes."""
SCHEME = "v1"
"""The one signature scheme Stripe uses for live deliveries (HMAC-SHA256). ``v0`` and any later scheme are ignored."""

MEMBER_KEY = "punchcard_member"
"""The subscription metadata key the shop sets to the member's external id."""
PLAN_KEY = "punchcard_plan"
"""The subscription metadata key the shop sets to the membership plan's code."""

KINDS = {"invoice.paid": "paid", "invoice.payment_failed": "failed", "customer.subscription.deleted": "ended"}
"""The Stripe event types a membership listens to, and what each is called here. Any other type is acknowledged
and ignored (``read`` returns ``None``): Stripe sends every type an endpoint subscribes to, and more may be added."""

REASONS = ("missing", "malformed", "timestamp_out_of_tolerance", "no_matching_signature")
"""Why a delivery is refused, in the order they are checked."""

_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP_DIGITS_MAX = 15
"""More digits than this is millions of years away: out of tolerance without converting it (and Python refuses to
convert integers of thousands of digits at all)."""
_LATEST_MOMENT = 253402300799
"""23:59:59 UTC on 31 December 9999, the last second a ``datetime`` holds."""


# --- signatures ---------------------------------------------------------------------------------------------------


class SignatureRefused(Exception):
    """A delivery whose ``Stripe-Signature`` does not prove it came from Stripe, just now. ``reason`` is one of
    ``REASONS``; the endpoint answers 400 with it, and Stripe retries (and shows the answer in its dashboard)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def signature(payload: bytes, secret: str, timestamp: str) -> str:
    """Stripe's ``v1`` signature: hex HMAC-SHA256 of ``"<t>." + body``, keyed with the whole endpoint secret
    (``whsec_...``) as UTF-8 bytes, as stripe-python's ``WebhookSignature._compute_signature`` does. The body is
    the raw bytes Stripe sent: parsed and serialised again, it would no longer be what was signed."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256).hexdigest()


def sign(payload: bytes, secret: str, at: datetime) -> str:
    """A ``Stripe-Signature`` header value for ``payload`` signed with ``secret`` at ``at``, as Stripe sends it:
    for tests and the demo, which deliver real signed events."""
    timestamp = str(math.floor(_epoch_seconds(at, "at")))
    return f"t={timestamp},{SCHEME}={signature(payload, secret, timestamp)}"


def verify(
    header: str | None,
    payload: bytes,
    secrets: Sequence[str],
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> None:
    """Accept the delivery if one of its ``v1`` signatures is ``payload``'s under one of ``secrets`` and was made
    within ``tolerance`` of ``now``; otherwise raise ``SignatureRefused``.

    - Several secrets: while an endpoint's secret is rolled, Stripe signs each delivery with the old and the new one
      (two ``v1`` values) until the old one expires, and either may be the one configured here.
    - Signatures are compared with ``hmac.compare_digest``, whose time does not depend on where the strings differ,
      so an attacker cannot find a valid signature a character at a time by timing the answers.
    - The signed timestamp bounds a replay: a delivery captured on the way (a log, a proxy) is refused once it is
      ``tolerance`` old. A timestamp as far in the future is refused too: a signature cannot have been made later
      than now, so that is a forgery or a clock gone wrong, and both are worth hearing about.
    - The signature is checked before the time, as Stripe's libraries do: a forgery is always called
      ``no_matching_signature``, and ``timestamp_out_of_tolerance`` means Stripe's signature with a stale or early
      time (a replay, or one of the two clocks is wrong).
    - Empty secrets are skipped: an unset setting must not accept bodies signed with the empty key.
    """
    if header is None or not header.strip():
        raise SignatureRefused("missing", "the request has no Stripe-Signature header")
    timestamp, signatures = _parse(header)
    keys = [secret for secret in secrets if secret]
    expected = [signature(payload, key, timestamp) for key in keys]
    # Every pair is compared (no early exit on a mismatch): the work done does not depend on the signatures' values.
    matched = False
    for given in signatures:
        for candidate in expected:
            matched |= hmac.compare_digest(given, candidate)
    if not matched:
        raise SignatureRefused(
            "no_matching_signature", "no v1 signature in the Stripe-Signature header matches the body and a secret"
        )
    if _skew_seconds(timestamp, now) > tolerance.total_seconds():
        shown = timestamp if len(timestamp) <= _TIMESTAMP_DIGITS_MAX else f"{timestamp[:_TIMESTAMP_DIGITS_MAX]}..."
        raise SignatureRefused(
            "timestamp_out_of_tolerance",
            f"the signature was made at t={shown}, more than {tolerance.total_seconds():g} seconds from now",
        )


def _parse(header: str) -> tuple[str, list[str]]:
    """The timestamp (its digits, as signed) and the ``v1`` values a header carries. Items of other schemes (``v0``)
    or of no ``key=value`` shape are skipped, as Stripe's libraries skip them; a header without exactly one integer
    ``t`` or without a ``v1`` is malformed."""
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator:
            continue
        if key == "t":
            timestamps.append(value.strip())
        elif key == SCHEME:
            signatures.append(value.strip())
    if len(timestamps) != 1:
        found = "no t" if not timestamps else "more than one t"
        raise SignatureRefused("malformed", f"the Stripe-Signature header has {found}")
    timestamp = timestamps[0]
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise SignatureRefused("malformed", "the Stripe-Signature header's t is not an integer of seconds")
    if not signatures:
        raise SignatureRefused("malformed", f"the Stripe-Signature header has no {SCHEME} signature")
    # A value that is not 64 lower-case hex digits can never equal a signature; dropping it keeps the comparison to
    # ASCII strings of equal length (``compare_digest`` refuses other strings), and says nothing about the secret.
    return timestamp, [value for value in signatures if _HEX_SIGNATURE.fullmatch(value)]


def _skew_seconds(timestamp: str, now: datetime) -> float:
    if len(timestamp) > _TIMESTAMP_DIGITS_MAX:
        return math.inf
    return abs(int(timestamp) - _epoch_seconds(now, "now"))


def _epoch_seconds(moment: datetime, name: str) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.timestamp()


# --- reading an event ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StripeMembershipEvent:
    """What a Stripe event says about a membership, whatever the API version of the endpoint."""

    event_id: str
    """Stripe's ``evt_...`` id: the idempotency key, since Stripe delivers an event more than once (retries after a
    timeout or an error answer, and at least once by design), and not necessarily in order."""
    kind: str
    """``paid`` (``invoice.paid``), ``failed`` (``invoice.payment_failed``) or ``ended``
    (``customer.subscription.deleted``)."""
    occurred_at: datetime
    """The event's ``created``, in UTC: when it happened at Stripe, not when it arrived."""
    subscription_id: str | None
    member_external_id: str | None
    """The subscription's ``punchcard_member`` metadata."""
    plan: str | None
    """The subscription's ``punchcard_plan`` metadata."""
    period: str | None
    """``month`` or ``year``, from the price's recurring interval when the payload has it (API versions before
    2025-03-31 "basil" put the price on the invoice line; basil's lines name only its id). ``None`` for any other
    interval or an ``interval_count`` other than 1."""
    period_start: datetime | None
    """The paid subscription line's period (invoice events)."""
    period_end: datetime | None
    amount_minor: int | None
    """``amount_paid`` for ``paid``, ``amount_due`` for ``failed``: Stripe's amounts are already minor units."""
    currency: str | None
    """Upper-case ISO 4217 code (Stripe sends lower case)."""
    billing_reason: str | None
    """The invoice's ``billing_reason``: ``subscription_create``, ``subscription_cycle``, ``subscription_update``,
    ``manual``, ..."""
    payment_ref: str | None
    """The invoice id (``in_...``) for invoice events, the subscription id for ``ended``."""


def read(event: Mapping[str, object]) -> StripeMembershipEvent | None:
    """The membership event a Stripe event is, or ``None`` for a type memberships do not listen to.

    Raises ``ValueError`` (the endpoint answers 400) for a payload that is not an event: not an object, no string
    ``id``/``type``, no integer ``created``, no ``data.object``, or a field this reads holding the wrong type.
    Fields that are absent or ``null`` read as ``None``. Nothing else is raised, whatever the JSON.

    Where Stripe puts things moved between API versions; both places are read:

    - the subscription id: ``invoice.subscription`` (before 2025-03-31 "basil"), ``invoice.parent
      .subscription_details.subscription`` (basil and later), else the subscription line's own reference;
    - the subscription's metadata: ``invoice.parent.subscription_details.metadata`` (basil),
      ``invoice.subscription_details.metadata`` (2022 to 2024 versions; Stripe fills it only on invoices created
      from 29 June 2023), then each line's ``metadata``; for ``customer.subscription.deleted`` the subscription's own;
    - the subscription line: ``type == "subscription"`` before basil, ``parent.type == "subscription_item_details"``
      since; a proration line is used only when there is no other.
    """
    if not isinstance(event, Mapping):
        raise ValueError("a Stripe event must be a JSON object")
    event_id = _required_text(event.get("id"), "id")
    event_type = _required_text(event.get("type"), "type")
    occurred_at = _moment(event.get("created"), "created")
    if occurred_at is None:
        raise ValueError("created must be an integer of Unix seconds")
    data = _mapping(event.get("data"), "data")
    body = _mapping(data.get("object"), "data.object") if data is not None else None
    if body is None:
        raise ValueError("data.object must be an object")
    kind = KINDS.get(event_type)
    if kind is None:
        return None
    if kind == "ended":
        return _ended(event_id, occurred_at, body)
    return _invoice_event(event_id, kind, occurred_at, body)


def _invoice_event(
    event_id: str, kind: str, occurred_at: datetime, invoice: Mapping[str, object]
) -> StripeMembershipEvent:
    where = "data.object"
    _expect_object(invoice, "invoice", where)
    invoice_id = _required_text(invoice.get("id"), f"{where}.id")
    parent = _mapping(invoice.get("parent"), f"{where}.parent")
    details_where = f"{where}.parent.subscription_details"
    details = _mapping(parent.get("subscription_details"), details_where) if parent is not None else None
    legacy = _mapping(invoice.get("subscription_details"), f"{where}.subscription_details")
    lines = _lines(invoice, where)
    chosen = _subscription_line(lines)

    subscription_id = _reference(invoice.get("subscription"), f"{where}.subscription")
    if subscription_id is None and details is not None:
        subscription_id = _reference(details.get("subscription"), f"{details_where}.subscription")
    if subscription_id is None and chosen is not None:
        subscription_id = _line_subscription(*chosen)

    sources = []
    if details is not None:
        sources.append(_metadata(details.get("metadata"), f"{details_where}.metadata"))
    if legacy is not None:
        sources.append(_metadata(legacy.get("metadata"), f"{where}.subscription_details.metadata"))
    # The subscription line's own metadata first, then the other lines' in order.
    by_preference = sorted(enumerate(lines), key=lambda pair: chosen is None or pair[0] != chosen[0])
    for index, line in by_preference:
        if line is not None:
            sources.append(_metadata(line.get("metadata"), f"{where}.lines.data[{index}].metadata"))

    period_start = period_end = None
    interval = None
    if chosen is not None:
        index, line = chosen
        line_where = f"{where}.lines.data[{index}]"
        period = _mapping(line.get("period"), f"{line_where}.period")
        if period is not None:
            period_start = _moment(period.get("start"), f"{line_where}.period.start")
            period_end = _moment(period.get("end"), f"{line_where}.period.end")
        interval = _interval(line, line_where)

    amount_field = "amount_paid" if kind == "paid" else "amount_due"
    currency = _text(invoice.get("currency"), f"{where}.currency")
    return StripeMembershipEvent(
        event_id=event_id,
        kind=kind,
        occurred_at=occurred_at,
        subscription_id=subscription_id,
        member_external_id=_first(sources, MEMBER_KEY),
        plan=_first(sources, PLAN_KEY),
        period=interval,
        period_start=period_start,
        period_end=period_end,
        amount_minor=_amount(invoice.get(amount_field), f"{where}.{amount_field}"),
        currency=currency.upper() if currency else None,
        billing_reason=_text(invoice.get("billing_reason"), f"{where}.billing_reason"),
        payment_ref=invoice_id,
    )


def _ended(event_id: str, occurred_at: datetime, subscription: Mapping[str, object]) -> StripeMembershipEvent:
    """``customer.subscription.deleted``: the subscription is over (cancelled now, at its period's end, or by
    Stripe after the last failed retry). It carries no payment, so the money fields are ``None``."""
    where = "data.object"
    _expect_object(subscription, "subscription", where)
    subscription_id = _required_text(subscription.get("id"), f"{where}.id")
    metadata = [_metadata(subscription.get("metadata"), f"{where}.metadata")]
    interval = None
    items = _mapping(subscription.get("items"), f"{where}.items")
    if items is not None:
        listed = _list(items.get("data"), f"{where}.items.data")
        if listed:
            item = _mapping(listed[0], f"{where}.items.data[0]")
            interval = _interval(item, f"{where}.items.data[0]") if item else None
    return StripeMembershipEvent(
        event_id=event_id,
        kind="ended",
        occurred_at=occurred_at,
        subscription_id=subscription_id,
        member_external_id=_first(metadata, MEMBER_KEY),
        plan=_first(metadata, PLAN_KEY),
        period=interval,
        period_start=None,
        period_end=None,
        amount_minor=None,
        currency=None,
        billing_reason=None,
        payment_ref=subscription_id,
    )


def _lines(invoice: Mapping[str, object], where: str) -> list[Mapping[str, object] | None]:
    lines = _mapping(invoice.get("lines"), f"{where}.lines")
    if lines is None:
        return []
    listed = _list(lines.get("data"), f"{where}.lines.data")
    return [_mapping(line, f"{where}.lines.data[{index}]") for index, line in enumerate(listed)]


def _subscription_line(lines: list[Mapping[str, object] | None]) -> tuple[int, Mapping[str, object]] | None:
    """The line of the subscription's period (index and line): the first subscription line that is not a
    proration, else the first subscription line (a mid-period plan change may bill prorations only)."""
    found: list[tuple[int, Mapping[str, object], bool]] = []
    for index, line in enumerate(lines):
        if line is None:
            continue
        item = _item_details(line, index)
        if item is not None:  # basil and later
            found.append((index, line, item.get("proration") is True))
        elif line.get("type") == "subscription":  # before basil
            found.append((index, line, line.get("proration") is True))
    for index, line, is_proration in found:
        if not is_proration:
            return index, line
    return (found[0][0], found[0][1]) if found else None


def _item_details(line: Mapping[str, object], index: int) -> Mapping[str, object] | None:
    """A basil line's ``parent.subscription_item_details``, when the line's parent is a subscription item."""
    where = f"data.object.lines.data[{index}].parent"
    parent = _mapping(line.get("parent"), where)
    if parent is None or parent.get("type") != "subscription_item_details":
        return None
    return _mapping(parent.get("subscription_item_details"), f"{where}.subscription_item_details") or {}


def _line_subscription(index: int, line: Mapping[str, object]) -> str | None:
    where = f"data.object.lines.data[{index}]"
    own = _reference(line.get("subscription"), f"{where}.subscription")
    if own is not None:
        return own
    item = _item_details(line, index)
    if item is None:
        return None
    return _reference(item.get("subscription"), f"{where}.parent.subscription_item_details.subscription")


def _interval(holder: Mapping[str, object], where: str) -> str | None:
    """``month`` or ``year`` from a line's or a subscription item's ``price.recurring``, else from its legacy
    ``plan``; ``None`` when neither is there (basil's lines) or the interval is another or counts more than one."""
    price = _mapping(holder.get("price"), f"{where}.price")
    recurring = _mapping(price.get("recurring"), f"{where}.price.recurring") if price is not None else None
    if recurring is not None:
        source, path = recurring, f"{where}.price.recurring"
    else:
        plan = _mapping(holder.get("plan"), f"{where}.plan")
        if plan is None:
            return None
        source, path = plan, f"{where}.plan"
    interval = _text(source.get("interval"), f"{path}.interval")
    count = _amount(source.get("interval_count"), f"{path}.interval_count")
    return interval if interval in ("month", "year") and count == 1 else None


def _first(metadata: list[Mapping[str, object]], key: str) -> str | None:
    """A metadata key's value from the first source that sets it. Stripe metadata values are strings; an empty
    one is how a key is unset."""
    for source in metadata:
        value = source.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise ValueError(f"metadata {key} must be a string")
        return value
    return None


def _metadata(value: object, where: str) -> Mapping[str, object]:
    # An empty list stands for empty metadata in some re-serialised copies of Stripe's objects (PHP's empty array).
    if value is None or value == []:
        return {}
    found = _mapping(value, where)
    return found if found is not None else {}


def _expect_object(body: Mapping[str, object], expected: str, where: str) -> None:
    found = body.get("object")
    if found is not None and found != expected:
        raise ValueError(f"{where} must be a Stripe {expected}")


# --- typed access to JSON: absent or null is None, a wrong type is a ValueError ----------------------------------


def _mapping(value: object, where: str) -> Mapping[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be an object")
    return value


def _list(value: object, where: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(f"{where} must be a list")
    return list(value)


def _text(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string")
    return value


def _required_text(value: object, where: str) -> str:
    found = _text(value, where)
    if not found:
        raise ValueError(f"{where} must be a non-empty string")
    return found


def _reference(value: object, where: str) -> str | None:
    """An expandable reference: the id, or the expanded object's ``id``."""
    if isinstance(value, Mapping):
        return _text(value.get("id"), f"{where}.id") or None
    return _text(value, where) or None


def _amount(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where} must be a non-negative integer")
    return value


def _moment(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _LATEST_MOMENT:
        raise ValueError(f"{where} must be an integer of Unix seconds")
    return datetime.fromtimestamp(value, UTC)
