"""Stand-in wallet credentials for the demo and the tests, made on the spot: a test certificate authority in the
place of Apple's WWDR intermediate, a Pass Type ID certificate it issues, and a Google service account's RSA key.

They have the shape of the real ones, so every code path runs as it would with Apple's and Google's, and only
those services themselves would refuse them: Wallet trusts no pass that Apple's root did not sign, and Google knows
no such service account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PASS_TYPE_IDENTIFIER = "pass.dev.punchcard.demo"
TEAM_IDENTIFIER = "PUNCHCARD1"
ISSUER_ID = "3388000000012345678"
CLIENT_EMAIL = "wallet@punchcard-demo.iam.gserviceaccount.com"


@dataclass(frozen=True)
class AppleFiles:
    """What an operator has after Apple's steps (docs/wallet-passes.md): three PEM files."""

    certificate: bytes
    key: bytes
    wwdr: bytes


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def apple_files(now: datetime, pass_type_identifier: str = PASS_TYPE_IDENTIFIER) -> AppleFiles:
    """A test "WWDR" authority and a Pass Type ID certificate it issued (RSA, as Apple's are), valid from a day
    before ``now`` for two years."""
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Punchcard Test WWDR (not Apple)")])
    start, end = now - timedelta(days=1), now + timedelta(days=730)
    wwdr = (
        x509.CertificateBuilder()
        .subject_name(authority)
        .issuer_name(authority)
        .public_key(authority_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(authority_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.USER_ID, pass_type_identifier),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_identifier}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, TEAM_IDENTIFIER),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(authority_key, hashes.SHA256())
    )
    return AppleFiles(
        certificate.public_bytes(serialization.Encoding.PEM), _pem(key), wwdr.public_bytes(serialization.Encoding.PEM)
    )


def service_account(client_email: str = CLIENT_EMAIL, token_uri: str = "https://oauth2.googleapis.com/token") -> str:
    """A service account's JSON key file, as the Google Cloud console gives it (with a fresh RSA key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "punchcard-demo",
            "private_key_id": "stand-in",
            "private_key": _pem(key).decode(),
            "client_email": client_email,
            "token_uri": token_uri,
        }
    )
