"""Wallet passes: each program's credentials, a member's card as the wallets show it, the signed ``.pkpass`` a member
downloads and the "Add to Google Wallet" link. Never commits: the portal, the web service and the CLI do."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.text import Text
from punchcard.i18n.translator import Translator
from punchcard.ledger import service as ledger
from punchcard.member.service import Member
from punchcard.passes import google, package, repository, signing
from punchcard.passes.domain import Card, Labels, Word, next_modified
from punchcard.passes.models import AppleCredentialsRow, GoogleCredentialsRow, MemberPass
from punchcard.passes.signing import AppleCredentials, GoogleCredentials
from punchcard.program.domain import ProgramVersion

WEB_SERVICE_PATH = "/passes/apple"
"""Apple's web service, under the installation's public URL: the pass's ``webServiceURL``."""
LABELS = {
    "description": "card.title",
    "balance": "home.available",
    "tier": "tier.title",
    "holder": "leaderboard.name",
    "number": "card.member_id",
}
"""The portal's words for what the pass shows (the catalogue's keys)."""


@dataclass(frozen=True)
class Offered:
    """Which wallets a program's members may add their card to."""

    apple: bool
    google: bool


def offered(session: Session, program_id: int) -> Offered:
    """The wallets the program has credentials for: the card page offers those."""
    return Offered(
        repository.apple(session, program_id) is not None, repository.google(session, program_id) is not None
    )


def set_apple(session: Session, program_id: int, credentials: AppleCredentials, now: datetime) -> None:
    """Make ``credentials`` (checked: ``signing.apple_credentials``) the program's Apple Wallet identity. Passes
    made before keep their serial numbers; a new Pass Type ID makes them new passes on devices."""
    row = repository.apple(session, program_id, for_update=True) or AppleCredentialsRow(program_id=program_id)
    row.pass_type_identifier, row.team_identifier = credentials.pass_type_identifier, credentials.team_identifier
    row.certificate, row.private_key, row.wwdr = credentials.certificate, credentials.private_key, credentials.wwdr
    row.updated_at = now
    session.add(row)
    session.flush()


def set_google(session: Session, program_id: int, credentials: GoogleCredentials, now: datetime) -> None:
    """Make ``credentials`` (checked: ``signing.google_credentials``) the program's Google Wallet issuer."""
    row = repository.google(session, program_id, for_update=True) or GoogleCredentialsRow(program_id=program_id)
    row.issuer_id, row.client_email, row.token_uri = (
        credentials.issuer_id,
        credentials.client_email,
        credentials.token_uri,
    )
    row.private_key, row.private_key_id = credentials.private_key, credentials.private_key_id
    row.updated_at = now
    session.add(row)
    session.flush()


def apple_of(session: Session, program_id: int) -> AppleCredentials | None:
    """The program's Apple Wallet identity, as a value that outlives the session; ``None`` when it has none."""
    row = repository.apple(session, program_id)
    if row is None:
        return None
    return AppleCredentials(row.pass_type_identifier, row.team_identifier, row.certificate, row.private_key, row.wwdr)


def google_of(session: Session, program_id: int) -> GoogleCredentials | None:
    """The program's Google Wallet issuer and service account; ``None`` when it has none."""
    row = repository.google(session, program_id)
    if row is None:
        return None
    return GoogleCredentials(row.issuer_id, row.client_email, row.private_key, row.private_key_id, row.token_uri)


# --- the card ------------------------------------------------------------------------------------------------------


@cache
def _catalogue_word(key: str) -> Word:
    return Word(Translator("en").t(key), tuple((language, Translator(language).t(key)) for language in LANGUAGES))


def program_word(text: Text) -> Word:
    """A program's text (its name, a tier's) in every catalogue language; English is the program's first language
    where it has no English."""
    return Word(text.in_language("en"), tuple((language, text.in_language(language)) for language in LANGUAGES))


def labels() -> Labels:
    """The pass's labels in every catalogue language."""
    return Labels(**{name: _catalogue_word(key) for name, key in LABELS.items()})


def card(session: Session, version: ProgramVersion, member: Member, serial_number: str) -> Card:
    """What the member's pass shows now: the points they can spend (as the portal and the API count them), their
    tier, and who and which number it is for."""
    program = version.program
    tier = None
    if program.tiers is not None and member.tier_code is not None:
        tier = program_word(program.tiers.by_code(member.tier_code).name)
    return Card(
        serial_number=serial_number,
        number=member.external_id,
        holder=member.name or member.email or member.external_id,
        balance=ledger.balances(session, member.id).available,
        tier=tier,
        program=program_word(program.name),
        program_slug=program.slug,
        colour=program.email.colour,
        labels=labels(),
    )


def pass_of(session: Session, program_id: int, member_id: int, now: datetime) -> MemberPass:
    """The member's pass, made on first use with a random serial number."""
    found = repository.of_member(session, member_id)
    if found is None:
        values = {
            "program_id": program_id,
            "member_id": member_id,
            "serial_number": secrets.token_urlsafe(24),
            "update_tag": 0,
            "modified_at": next_modified(None, now),
            "created_at": now,
            "google_sent_tag": 0,
            "google_attempts": 0,
            "google_error": "",
        }
        repository.add_pass(session, values)
        found = repository.of_member(session, member_id)
        assert found is not None
    return found


def token_hash(token: str) -> str:
    """What is kept of a copy's authentication token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def web_service_url(public_url: str) -> str:
    """The pass's ``webServiceURL``: Apple's web service, under the installation's public URL."""
    return public_url.rstrip("/") + WEB_SERVICE_PATH


@dataclass(frozen=True)
class Download:
    """A signed pass, and when what it shows last changed (its ``Last-Modified``)."""

    content: bytes
    modified_at: datetime
    filename: str


def signed_pass(
    session: Session,
    version: ProgramVersion,
    member: Member,
    found: MemberPass,
    credentials: AppleCredentials,
    public_url: str,
    token: str,
) -> Download:
    """The member's pass as it is now, carrying ``token`` (which a device then authenticates with)."""
    shown = card(session, version, member, found.serial_number)
    content = package.pkpass(shown, credentials, web_service_url(public_url), token, found.modified_at)
    return Download(content, found.modified_at, f"{version.program.slug}.pkpass")


def download(
    session: Session, version: ProgramVersion, member: Member, public_url: str, now: datetime
) -> Download | None:
    """A new copy of the member's Apple Wallet pass, with a token of its own (kept only as a hash); ``None`` when the
    program has no Apple Wallet identity."""
    credentials = apple_of(session, version.program_id)
    if credentials is None:
        return None
    found = pass_of(session, version.program_id, member.id, now)
    token = secrets.token_urlsafe(32)
    repository.add_token(session, found.id, token_hash(token), now)
    return signed_pass(session, version, member, found, credentials, public_url, token)


def logo_url(public_url: str, slug: str) -> str:
    """Where Google fetches the program's logo (``endpoints.logo``)."""
    return f"{public_url.rstrip('/')}/passes/{slug}/logo.png"


def google_link(
    session: Session, version: ProgramVersion, member: Member, public_url: str, now: datetime
) -> str | None:
    """The member's "Add to Google Wallet" link (the class and their object in a JWT the service account signs);
    ``None`` when the program has no Google Wallet issuer. From now on, changes of the card go to Google too."""
    credentials = google_of(session, version.program_id)
    if credentials is None:
        return None
    found = pass_of(session, version.program_id, member.id, now)
    found.google_saved_at = now
    found.google_sent_tag = found.update_tag  # the link carries the card as it is now
    session.flush()
    parts = urlsplit(public_url)
    claims = google.save_claims(
        card(session, version, member, found.serial_number),
        credentials.issuer_id,
        credentials.client_email,
        [f"{parts.scheme}://{parts.netloc}"],
        logo_url(public_url, version.program.slug),
        now,
    )
    return google.SAVE_URL + signing.sign_jwt(claims, credentials)
