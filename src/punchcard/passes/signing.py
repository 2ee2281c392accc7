"""The wallets' credentials and signatures, through ``cryptography`` and PyJWT: an Apple pass's detached PKCS#7
signature of its manifest by the Pass Type ID certificate (with Apple's WWDR intermediate in it), and the RS256 JWTs
a Google service account signs.

Credentials are read and checked when an operator sets them (``punchcard wallet``), so a pass never fails to sign
for a reason that could have been told then.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from punchcard.passes.errors import WalletCredentialsInvalid

PASS_TYPE = re.compile(r"^pass\.[A-Za-z0-9][A-Za-z0-9.-]{0,200}$")
TEAM = re.compile(r"^[A-Z0-9]{10}$")
ISSUER = re.compile(r"^[0-9]{1,30}$")


@dataclass(frozen=True)
class AppleCredentials:
    """A program's Apple Wallet identity, as PEM: the Pass Type ID certificate, its key (unencrypted), and the WWDR
    intermediate that issued the certificate."""

    pass_type_identifier: str
    team_identifier: str
    certificate: str
    private_key: str
    wwdr: str


@dataclass(frozen=True)
class GoogleCredentials:
    """A program's Google Wallet issuer and the service account that acts for it."""

    issuer_id: str
    client_email: str
    private_key: str
    private_key_id: str
    token_uri: str


def _refused(message: str, field: str) -> WalletCredentialsInvalid:
    return WalletCredentialsInvalid(message, [{"field": field, "message": message}])


def _certificate(pem: bytes, field: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise _refused("is not a PEM certificate", field) from None


def _subject(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    found = certificate.subject.get_attributes_for_oid(oid)
    return str(found[0].value) if found else None


def apple_credentials(
    pass_type_identifier: str,
    team_identifier: str,
    certificate_pem: bytes,
    key_pem: bytes,
    key_password: str | None,
    wwdr_pem: bytes,
) -> AppleCredentials:
    """Check what an operator gave for Apple Wallet and keep it in one form: the key is unlocked with its password
    once and kept as unencrypted PKCS#8 (the password is not kept; docs/decisions.md)."""
    if not PASS_TYPE.fullmatch(pass_type_identifier):
        raise _refused("a Pass Type ID looks like pass.com.example.loyalty", "pass_type_id")
    if not TEAM.fullmatch(team_identifier):
        raise _refused("a Team ID is ten capital letters and digits", "team_id")
    certificate = _certificate(certificate_pem, "certificate")
    wwdr = _certificate(wwdr_pem, "wwdr")
    try:
        key = serialization.load_pem_private_key(key_pem, key_password.encode() if key_password else None)
    except (ValueError, TypeError):
        raise _refused("is not a PEM private key, or its password is wrong or missing", "key") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise _refused("is neither an RSA nor an EC key", "key")
    public = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*public) != certificate.public_key().public_bytes(*public):
        raise _refused("is not the certificate's private key", "key")
    try:
        certificate.verify_directly_issued_by(wwdr)
    except (ValueError, TypeError, InvalidSignature):
        raise _refused("did not issue the certificate (give the WWDR intermediate that did)", "wwdr") from None
    for oid, given, field in (
        (NameOID.USER_ID, pass_type_identifier, "pass_type_id"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, team_identifier, "team_id"),
    ):
        found = _subject(certificate, oid)
        if found is not None and found != given:
            raise _refused(f"the certificate is for {found}, not {given}", field)
    unlocked = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return AppleCredentials(
        pass_type_identifier,
        team_identifier,
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
        unlocked.decode(),
        wwdr.public_bytes(serialization.Encoding.PEM).decode(),
    )


@cache
def _signer(certificate: str, private_key: str, wwdr: str) -> pkcs7.PKCS7SignatureBuilder:
    """A builder with the signer and the intermediate set: parsing the PEMs once per process and credentials."""
    key = serialization.load_pem_private_key(private_key.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return (
        pkcs7.PKCS7SignatureBuilder()
        .add_signer(x509.load_pem_x509_certificate(certificate.encode()), key, hashes.SHA256())
        .add_certificate(x509.load_pem_x509_certificate(wwdr.encode()))
    )


def sign_manifest(manifest: bytes, credentials: AppleCredentials) -> bytes:
    """The pass's ``signature``: a detached PKCS#7 (CMS) signature of ``manifest.json`` in DER, by the Pass Type ID
    certificate, carrying the WWDR intermediate so that a device can follow the chain to Apple's root."""
    builder = _signer(credentials.certificate, credentials.private_key, credentials.wwdr).set_data(manifest)
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)


def google_credentials(issuer_id: str, service_account: str) -> GoogleCredentials:
    """Check a Google Cloud service account's JSON key file (and the Wallet issuer id it acts for)."""
    if not ISSUER.fullmatch(issuer_id):
        raise _refused("an issuer ID is the number the Google Pay & Wallet Console shows", "issuer_id")
    try:
        found: dict[str, Any] = json.loads(service_account)
        email, key_pem = str(found["client_email"]), str(found["private_key"])
        key = serialization.load_pem_private_key(key_pem.encode(), None)
    except (ValueError, KeyError, TypeError):
        raise _refused("is not a service account's JSON key file", "service_account") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise _refused("the service account's key is not an RSA key", "service_account")
    token_uri = str(found.get("token_uri") or "https://oauth2.googleapis.com/token")
    return GoogleCredentials(issuer_id, email, key_pem, str(found.get("private_key_id", "")), token_uri)


def sign_jwt(claims: dict[str, Any], credentials: GoogleCredentials) -> str:
    """``claims`` as a JWT signed RS256 by the service account (its key id in the header, as Google asks)."""
    headers = {"kid": credentials.private_key_id} if credentials.private_key_id else None
    return jwt.encode(claims, credentials.private_key, algorithm="RS256", headers=headers)
