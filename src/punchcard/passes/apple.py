"""Apple Wallet's form of a member's card: ``pass.json`` (a store card), each language's ``pass.strings``, and the
manifest of every file's SHA-1 that the signature covers (Apple's "Wallet Passes" reference: ``Pass``,
``PassFields``, ``Barcodes``; "Building a Pass"). Pure: ``package`` signs and zips.

Every text in ``pass.json`` is English, and each ``<language>.lproj/pass.strings`` maps it to that language: the
device shows the language it is set to, and English where we have no catalogue for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from punchcard.passes.domain import Card, Word, code128_encodable, rgb

FORMAT_VERSION = 1
CHANGE_PLACEHOLDER = "%@"
"""Where Wallet puts a field's new value in the notification it shows when the field changes."""


@dataclass(frozen=True)
class Identity:
    """Who issues a program's passes: the Pass Type ID (the signing certificate's) and the Apple team it belongs to."""

    pass_type_identifier: str
    team_identifier: str


def change_message(label: Word) -> Word:
    """ "Points to spend: %@", in every language: Wallet's lock-screen notice when the balance changes."""
    return Word(
        f"{label.english}: {CHANGE_PLACEHOLDER}",
        tuple((language, f"{text}: {CHANGE_PLACEHOLDER}") for language, text in label.by_language),
    )


def _barcode(kind: str, number: str) -> dict[str, str]:
    encoding = "iso-8859-1" if all(ord(char) < 256 for char in number) else "utf-8"
    return {"format": kind, "message": number, "messageEncoding": encoding, "altText": number}


def _colour(colour: tuple[int, int, int]) -> str:
    return "rgb({}, {}, {})".format(*colour)


def _text_on(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """White on a dark colour, black on a light one (relative luminance, as WCAG weighs it)."""
    red, green, blue = background
    return (0, 0, 0) if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 160 else (255, 255, 255)


def pass_json(card: Card, identity: Identity, web_service_url: str, token: str) -> dict[str, Any]:
    """The pass's ``pass.json``: its identity, where and how the device asks for updates, the barcodes (QR, and
    Code 128 when the number fits it: the portal card's), and the fields."""
    labels = card.labels
    background = rgb(card.colour)
    barcodes = [_barcode("PKBarcodeFormatQR", card.number)]
    if code128_encodable(card.number):
        barcodes.append(_barcode("PKBarcodeFormatCode128", card.number))
    balance = {
        "key": "balance",
        "label": labels.balance.english,
        "value": card.balance,
        "changeMessage": change_message(labels.balance).english,
    }
    fields: dict[str, list[dict[str, Any]]] = {
        "headerFields": [],
        "primaryFields": [balance],
        "secondaryFields": [{"key": "holder", "label": labels.holder.english, "value": card.holder}],
        "auxiliaryFields": [{"key": "number", "label": labels.number.english, "value": card.number}],
    }
    if card.tier is not None:
        fields["headerFields"].append({"key": "tier", "label": labels.tier.english, "value": card.tier.english})
    return {
        "formatVersion": FORMAT_VERSION,
        "passTypeIdentifier": identity.pass_type_identifier,
        "teamIdentifier": identity.team_identifier,
        "serialNumber": card.serial_number,
        "webServiceURL": web_service_url,
        "authenticationToken": token,
        "organizationName": card.program.english,
        "description": labels.description.english,
        "logoText": card.program.english,
        "backgroundColor": _colour(background),
        "foregroundColor": _colour(_text_on(background)),
        "labelColor": _colour(_text_on(background)),
        "barcodes": barcodes,
        "storeCard": {name: found for name, found in fields.items() if found},
    }


def words(card: Card) -> list[Word]:
    """Every text of the pass that a language changes (not the member's name or number)."""
    labels = card.labels
    found = [
        card.program,
        labels.description,
        labels.balance,
        change_message(labels.balance),
        labels.holder,
        labels.number,
    ]
    if card.tier is not None:
        found += [labels.tier, card.tier]
    return found


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def strings(card: Card, language: str) -> bytes:
    """``<language>.lproj/pass.strings``: each English text of the pass, and what it is in ``language`` (UTF-8,
    which Wallet reads as it reads UTF-16)."""
    lines = [f"/* The member card of {card.program_slug}, in {language} */"]
    seen: set[str] = set()
    for word in words(card):
        if word.english in seen:
            continue  # two texts that read the same in English (a tier named as a label) share one line
        seen.add(word.english)
        lines.append(f"{_quoted(word.english)} = {_quoted(word.in_language(language))};")
    return ("\n".join(lines) + "\n").encode("utf-8")


def manifest(files: Mapping[str, bytes]) -> bytes:
    """``manifest.json``: the SHA-1 of every file of the pass, by its path in the bundle."""
    digests = {name: hashlib.sha1(content).hexdigest() for name, content in sorted(files.items())}
    return json.dumps(digests, indent=2).encode("utf-8")
