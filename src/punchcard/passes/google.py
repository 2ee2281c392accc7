"""Google Wallet's form of a member's card, per the Wallet API's REST reference: the program's ``loyaltyClass``, the
member's ``loyaltyObject``, and the claims of the "Add to Google Wallet" link's JWT (``typ: savetowallet``). Pure:
``signing`` signs the claims, ``google_api`` sends an object's update.

Ids are ``<issuer id>.<suffix>``: the class's suffix is the program's slug, the object's the pass's serial number,
so the same member's card is one object however often they save it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from punchcard.passes.domain import Card, Word

SAVE_URL = "https://pay.google.com/gp/v/save/"
AUDIENCE = "google"
TOKEN_TYPE = "savetowallet"
DEFAULT_LANGUAGE = "en"


def class_id(issuer_id: str, slug: str) -> str:
    return f"{issuer_id}.punchcard-{slug}"


def object_id(issuer_id: str, serial_number: str) -> str:
    return f"{issuer_id}.{serial_number}"


def localized(word: Word) -> dict[str, Any]:
    """A ``LocalizedString``: English by default, each catalogue language as a translation."""
    return {
        "defaultValue": {"language": DEFAULT_LANGUAGE, "value": word.english},
        "translatedValues": [
            {"language": language, "value": text} for language, text in word.by_language if language != DEFAULT_LANGUAGE
        ],
    }


def loyalty_class(card: Card, issuer_id: str, logo_url: str) -> dict[str, Any]:
    """The program's class: what every member's card of it shares (issuer, the card's name, logo, colour, the
    labels of the holder and the number)."""
    labels = card.labels
    return {
        "id": class_id(issuer_id, card.program_slug),
        "issuerName": card.program.english,
        "localizedIssuerName": localized(card.program),
        "programName": labels.description.english,
        "localizedProgramName": localized(labels.description),
        "programLogo": {"sourceUri": {"uri": logo_url}, "contentDescription": localized(card.program)},
        "hexBackgroundColor": card.colour,
        "accountNameLabel": labels.holder.english,
        "localizedAccountNameLabel": localized(labels.holder),
        "accountIdLabel": labels.number.english,
        "localizedAccountIdLabel": localized(labels.number),
        "reviewStatus": "UNDER_REVIEW",
    }


def loyalty_object(card: Card, issuer_id: str) -> dict[str, Any]:
    """The member's object: their number (as a QR code, the portal card's), name, points to spend and tier. The
    same body saves it (in the link) and updates it (``PATCH``)."""
    labels = card.labels
    found: dict[str, Any] = {
        "id": object_id(issuer_id, card.serial_number),
        "classId": class_id(issuer_id, card.program_slug),
        "state": "ACTIVE",
        "accountId": card.number,
        "accountName": card.holder,
        "loyaltyPoints": {
            "label": labels.balance.english,
            "localizedLabel": localized(labels.balance),
            "balance": {"int": card.balance},
        },
        "barcode": {"type": "QR_CODE", "value": card.number, "alternateText": card.number},
    }
    if card.tier is not None:
        found["textModulesData"] = [
            {
                "id": "tier",
                "header": labels.tier.english,
                "localizedHeader": localized(labels.tier),
                "body": card.tier.english,
                "localizedBody": localized(card.tier),
            }
        ]
    return found


def save_claims(
    card: Card, issuer_id: str, issuer_email: str, origins: Sequence[str], logo_url: str, now: datetime
) -> dict[str, Any]:
    """The claims of the "Add to Google Wallet" JWT: issued by the service account, for Google, with the class and
    the member's object inline (Google creates what does not exist yet when the member saves it)."""
    return {
        "iss": issuer_email,
        "aud": AUDIENCE,
        "typ": TOKEN_TYPE,
        "iat": int(now.timestamp()),
        "origins": list(origins),
        "payload": {
            "loyaltyClasses": [loyalty_class(card, issuer_id, logo_url)],
            "loyaltyObjects": [loyalty_object(card, issuer_id)],
        },
    }
