"""A member's ``.pkpass``: ``pass.json``, the images, a ``pass.strings`` per catalogue language, the manifest of
their SHA-1s and its signature, zipped (Apple's "Building a Pass")."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.passes import apple, images, signing
from punchcard.passes.domain import Card
from punchcard.passes.signing import AppleCredentials

MEDIA_TYPE = "application/vnd.apple.pkpass"


def files(card: Card, credentials: AppleCredentials, web_service_url: str, token: str) -> dict[str, bytes]:
    """Every file of the bundle but the manifest and the signature."""
    identity = apple.Identity(credentials.pass_type_identifier, credentials.team_identifier)
    found = {
        "pass.json": json.dumps(
            apple.pass_json(card, identity, web_service_url, token), ensure_ascii=False, indent=2
        ).encode("utf-8")
    }
    found |= images.pass_images(card.colour)
    found |= {f"{language}.lproj/pass.strings": apple.strings(card, language) for language in LANGUAGES}
    return found


def pkpass(card: Card, credentials: AppleCredentials, web_service_url: str, token: str, modified_at: datetime) -> bytes:
    """The signed pass, zipped; its entries are dated ``modified_at`` (the pass's, not the clock's)."""
    bundle = files(card, credentials, web_service_url, token)
    manifest = apple.manifest(bundle)
    bundle["manifest.json"] = manifest
    bundle["signature"] = signing.sign_manifest(manifest, credentials)
    stamp = modified_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in bundle.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
