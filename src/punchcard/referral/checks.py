"""The referral fraud checks, pure: what identifies a person (signals, compared as digests of their normalised
values, never the values themselves), and which checks a sign-up or a qualifying purchase trips, each with its reason.
What a tripped check does (hold for review, reject) is the program's (``FraudChecks``, ``verdict``)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from punchcard.referral.domain import Action, Check, FraudChecks, Purchase, Status

VELOCITY_DAYS = 7
"""Referrals by one referrer are counted over this many days (the issue's "more than N in 7 days")."""
SIGNUP_HOURS = 24
"""Sign-ups from one IP address or device are counted over this many hours."""


# --- signals: who a person is, as far as a shop tells us, compared without keeping the raw values ------------------

SIGNAL_ATTRIBUTES = ("phone", "shipping_address", "payment_fingerprint", "ip", "device_id")
"""Event and enrolment ``attributes`` the checks read, besides the member's e-mail and external id."""
IDENTITY = ("email", "phone", "shipping_address", "payment_fingerprint")
"""Signals that say two members are one person (self-referral). An IP address or a device is shared by households
and offices, so it only counts sign-ups (``signups_from_one_source``)."""
SOURCES = ("ip", "device_id")

_DOTLESS = {"gmail.com", "googlemail.com"}
"""Providers that ignore dots in the local part (Gmail); ``googlemail.com`` is the same mailbox as ``gmail.com``."""
_PLUS_TAGS = {
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "protonmail.com",
    "proton.me",
    "fastmail.com",
}
"""Providers that deliver ``name+anything@`` to ``name@``."""
_HYPHEN_TAGS = {"yahoo.com"}
"""Yahoo's disposable addresses are ``name-anything@``."""


def normalise_email(address: str) -> str:
    """The mailbox an address reaches: lower case, Gmail's dots and the providers' tags removed, so that
    ``A.n.n.a+friend@GoogleMail.com`` and ``anna@gmail.com`` compare equal."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in _HYPHEN_TAGS:
        local = local.split("-", 1)[0]
    if domain in _DOTLESS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def normalise(kind: str, value: str) -> str:
    """A signal as compared: e-mail by its mailbox, a phone by its digits (a leading 00 read as +), an address
    without case, accents, punctuation or repeated spaces; the rest trimmed."""
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        return digits.removeprefix("00") if value.strip().startswith("00") else digits
    if kind == "shipping_address":
        plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
        return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())
    return value.strip()


def digest(kind: str, value: str) -> str:
    """What is stored of a signal: a hash of its normalised value, so the checks compare people without keeping a
    second copy of their address or card fingerprint."""
    return hashlib.sha256(f"{kind}:{normalise(kind, value)}".encode()).hexdigest()


def signals_of(email: str | None, attributes: Mapping[str, object]) -> dict[str, str]:
    """The signals an enrolment or an event carries, by kind, as digests (empty values ignored)."""
    found = {"email": email} if email else {}
    found |= {kind: str(attributes[kind]) for kind in SIGNAL_ATTRIBUTES if attributes.get(kind) not in (None, "")}
    return {kind: digest(kind, value) for kind, value in found.items() if value.strip()}


# --- the checks ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    check: Check
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"check": self.check.value, "reason": self.reason}


_SAME = {
    "email": "the same e-mail address (after normalising)",
    "phone": "the same phone number",
    "shipping_address": "the same shipping address",
    "payment_fingerprint": "the same payment card",
}


@dataclass(frozen=True)
class Joining:
    """What is known when a friend joins with a code."""

    referrer_external_id: str
    referee_external_id: str
    referrer_signals: Collection[tuple[str, str]]
    """The referrer's stored signals (kind, digest)."""
    referee_signals: Mapping[str, str]
    referrals_this_week: int
    """The referrer's referrals in the last ``VELOCITY_DAYS`` days, before this one."""
    signups_from_source: int
    """Referred sign-ups in the last ``SIGNUP_HOURS`` from this sign-up's IP address or device, before this one."""
    known_person: bool
    """Another member of the program (not the referrer) has this person's e-mail or phone: a customer already."""
    orders_before: int
    """Orders the shop says the person had before joining (``orders_count`` attribute)."""


def self_referral(
    referrer_external_id: str,
    referee_external_id: str,
    referrer: Collection[tuple[str, str]],
    referee: Mapping[str, str],
) -> list[Flag]:
    """One flag per signal the two share (identity signals only)."""
    flags = []
    if referrer_external_id == referee_external_id:
        flags.append(Flag(Check.SELF_REFERRAL, "the same external id"))
    for kind in IDENTITY:
        if kind in referee and (kind, referee[kind]) in referrer:
            flags.append(Flag(Check.SELF_REFERRAL, _SAME[kind]))
    return flags


def screen_joining(checks: FraudChecks, joining: Joining) -> list[Flag]:
    """The flags a sign-up with a code raises, among the checks that are on."""
    flags = self_referral(
        joining.referrer_external_id,
        joining.referee_external_id,
        joining.referrer_signals,
        joining.referee_signals,
    )
    limit = checks.referrals_per_week
    if limit is not None and joining.referrals_this_week + 1 > limit:
        flags.append(Flag(Check.VELOCITY, f"more than {limit} referrals by this member in {VELOCITY_DAYS} days"))
    per_source = checks.signups_per_source_per_day
    if per_source is not None and joining.signups_from_source + 1 > per_source:
        flags.append(
            Flag(
                Check.SIGNUPS_FROM_ONE_SOURCE,
                f"more than {per_source} referred sign-ups from one IP address or device in a day",
            )
        )
    if joining.known_person:
        flags.append(Flag(Check.EXISTING_CUSTOMER, "another member has this e-mail address or phone number"))
    if joining.orders_before > 0:
        flags.append(Flag(Check.EXISTING_CUSTOMER, f"the shop says they had {joining.orders_before} orders before"))
    return [flag for flag in flags if checks.action(flag.check) is not Action.OFF]


def screen_purchase(
    checks: FraudChecks, referred_at: datetime, purchase: Purchase, referrer: Collection[tuple[str, str]]
) -> list[Flag]:
    """The flags a qualifying purchase raises: placed before the friend was referred (they were a customer), or
    paid or shipped as the referrer's own (the same card or address)."""
    flags = []
    if purchase.occurred_at < referred_at:
        flags.append(Flag(Check.EXISTING_CUSTOMER, "the qualifying order was placed before the referral"))
    for kind in ("payment_fingerprint", "shipping_address"):
        if kind in purchase.signals and (kind, purchase.signals[kind]) in referrer:
            flags.append(Flag(Check.REFERRERS_OWN_ORDER, f"the order has the referrer's {kind.replace('_', ' ')}"))
    return [flag for flag in flags if checks.action(flag.check) is not Action.OFF]


def verdict(checks: FraudChecks, flags: Sequence[Flag]) -> Status | None:
    """What the flags decide: ``REJECTED`` if any check that matched rejects, ``HELD`` if any holds, else ``None``."""
    actions = {checks.action(flag.check) for flag in flags}
    if Action.REJECT in actions:
        return Status.REJECTED
    return Status.HELD if Action.HOLD in actions else None
