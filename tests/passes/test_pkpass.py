"""The member's Apple Wallet pass as the portal hands it out: every file of the bundle, a manifest whose SHA-1s match
them, a detached PKCS#7 signature that OpenSSL and ``cryptography`` both verify against the (stand-in) WWDR
certificate, and pass.json and pass.strings showing the member's points, tier, name and number in their language."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from fastapi.testclient import TestClient
from sqlalchemy import select

from punchcard.kit.db import unit_of_work
from punchcard.passes.models import MemberPass, PassToken
from punchcard.passes.stand_in import PASS_TYPE_IDENTIFIER, TEAM_IDENTIFIER
from tests.clock import NOW
from tests.passes.conftest import Pass, Wallets

LANGUAGES = ("en", "et", "fi", "sv", "ru")
IMAGES = ("icon.png", "icon@2x.png", "logo.png", "logo@2x.png")
MESSAGE_DIGEST = bytes.fromhex("06092a864886f70d010904")
"""The DER of the object identifier 1.2.840.113549.1.9.4 (CMS ``messageDigest``)."""


def strings(found: Pass, language: str) -> dict[str, str]:
    """A pass.strings file as a dict (our files put one ``"key" = "value";`` on each line)."""
    text = found.files[f"{language}.lproj/pass.strings"].decode("utf-8")
    pairs = [line[1:-2].split('" = "', 1) for line in text.splitlines() if line.startswith('"')]
    return dict(pairs)


# --- a minimal DER reader: enough to find the signer's signed attributes and signature in a CMS SignedData ---------


def element(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, where its value starts, where it ends) of the DER element at ``at``."""
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        length, at = int.from_bytes(data[at : at + count], "big"), at + count
    return tag, at, at + length


def children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, value start, value end) of each element between ``start`` and ``end``."""
    found = []
    while start < end:
        tag, value, after = element(data, start)
        found.append((tag, start, value, after))
        start = after
    return found


def signer(signature: bytes) -> tuple[bytes, bytes, bytes]:
    """The only signer's signed attributes (as they are signed: a DER SET), its signature value, and the message
    digest among the attributes; asserting on the way that the content is detached."""
    _, value, end = element(signature, 0)  # ContentInfo
    _, _, explicit, _ = children(signature, value, end)[1]  # [0] EXPLICIT SignedData
    _, data_start, data_end = element(signature, explicit)
    parts = children(signature, data_start, data_end)
    encapsulated = parts[2]
    assert len(children(signature, encapsulated[2], encapsulated[3])) == 1, "the content is not detached"
    info = children(signature, parts[-1][2], parts[-1][3])[0]
    fields = children(signature, info[2], info[3])
    attributes = next(found for found in fields if found[0] == 0xA0)
    signed = b"\x31" + signature[attributes[1] + 1 : attributes[3]]
    digest = b""
    for _, _, start, stop in children(signature, attributes[2], attributes[3]):
        oid, values = children(signature, start, stop)
        if signature[oid[1] : oid[3]] == MESSAGE_DIGEST:
            octets = children(signature, values[2], values[3])[0]
            digest = signature[octets[2] : octets[3]]
    return signed, signature[fields[-1][2] : fields[-1][3]], digest


def test_the_pass_is_a_signed_bundle_of_the_members_card_in_their_language(wallets: Wallets, tmp_path: Path) -> None:
    wallets.configure()
    mari = wallets.member("mari", name="Mari Tamm", language="et")
    wallets.adjust(mari, 120)
    points = wallets.api.available(mari.external_id)

    found = wallets.download(mari)

    assert set(found.files) == {
        "pass.json",
        "manifest.json",
        "signature",
        *IMAGES,
        *(f"{language}.lproj/pass.strings" for language in LANGUAGES),
    }
    manifest = json.loads(found.files["manifest.json"])
    signed_files = {name for name in found.files if name not in ("manifest.json", "signature")}
    assert manifest == {name: hashlib.sha1(found.files[name]).hexdigest() for name in signed_files}
    assert all(found.files[name].startswith(b"\x89PNG\r\n\x1a\n") for name in IMAGES)
    assert found.response.headers["content-type"] == "application/vnd.apple.pkpass"
    assert found.response.headers["last-modified"] == "Wed, 25 Nov 2026 12:00:00 GMT"

    content = found.json
    assert {key: content[key] for key in ("formatVersion", "passTypeIdentifier", "teamIdentifier")} == {
        "formatVersion": 1,
        "passTypeIdentifier": PASS_TYPE_IDENTIFIER,
        "teamIdentifier": TEAM_IDENTIFIER,
    }
    assert content["webServiceURL"] == "http://127.0.0.1:8000/passes/apple"
    assert content["organizationName"] == "Bean There Coffee Roasters"
    assert content["barcodes"] == [
        {"format": kind, "message": mari.external_id, "messageEncoding": "iso-8859-1", "altText": mari.external_id}
        for kind in ("PKBarcodeFormatQR", "PKBarcodeFormatCode128")
    ]
    card = content["storeCard"]
    assert card["primaryFields"] == [
        {"key": "balance", "label": "Points to spend", "value": points, "changeMessage": "Points to spend: %@"}
    ]
    assert card["headerFields"] == [{"key": "tier", "label": "Your tier", "value": "Bronze"}]
    assert card["secondaryFields"] == [{"key": "holder", "label": "Member", "value": "Mari Tamm"}]
    assert card["auxiliaryFields"] == [{"key": "number", "label": "Member number", "value": mari.external_id}]
    estonian = strings(found, "et")
    assert {english: estonian[english] for english in ("Points to spend", "Your tier", "Bronze", "Member")} == {
        "Points to spend": "Kasutatavad punktid",
        "Your tier": "Sinu tase",
        "Bronze": "Pronks",
        "Member": "Liige",
    }
    assert estonian["Points to spend: %@"] == "Kasutatavad punktid: %@"
    assert estonian["Member number"] == "Liikmenumber"
    assert estonian["Member card"] == "Liikmekaart"
    assert strings(found, "ru")["Bronze"] == "Бронза"


def test_the_signature_verifies_with_openssl_and_with_cryptography(wallets: Wallets, tmp_path: Path) -> None:
    wallets.configure()
    found = wallets.download(wallets.member("jaan"))
    signature, manifest = found.files["signature"], found.files["manifest.json"]
    (tmp_path / "signature").write_bytes(signature)
    (tmp_path / "manifest.json").write_bytes(manifest)
    (tmp_path / "wwdr.pem").write_bytes(wallets.stand_ins.apple.wwdr)

    verified = subprocess.run(
        [
            "openssl",
            "smime",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "signature",
            "-content",
            "manifest.json",
            "-CAfile",
            "wwdr.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
            "-attime",
            str(int(NOW.timestamp())),  # the certificates are judged at the test's moment, not today's
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (verified.returncode, verified.stderr.strip()) == (0, "Verification successful")

    certificates = pkcs7.load_der_pkcs7_certificates(signature)
    wwdr = x509.load_pem_x509_certificate(wallets.stand_ins.apple.wwdr)
    pass_certificate = x509.load_pem_x509_certificate(wallets.stand_ins.apple.certificate)
    assert sorted(certificate.subject.rfc4514_string() for certificate in certificates) == sorted(
        [pass_certificate.subject.rfc4514_string(), wwdr.subject.rfc4514_string()]
    )
    pass_certificate.verify_directly_issued_by(wwdr)
    signed, value, digest = signer(signature)
    public = pass_certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(value, signed, padding.PKCS1v15(), hashes.SHA256())  # raises if it does not verify
    assert digest == hashlib.sha256(manifest).digest()

    (tmp_path / "manifest.json").write_bytes(manifest.replace(b"pass.json", b"pass.JSON"))
    tampered = subprocess.run(
        ["openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in", "signature", "-content", "manifest.json",
         "-CAfile", "wwdr.pem", "-purpose", "any", "-out", "/dev/null", "-attime", str(int(NOW.timestamp()))],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert tampered.returncode != 0


def test_each_download_is_the_same_pass_with_a_token_of_its_own(wallets: Wallets) -> None:
    wallets.configure()
    mari = wallets.member("mari")

    first, second = wallets.download(mari), wallets.download(mari)

    assert first.serial == second.serial
    assert first.token != second.token
    assert len(first.token) >= 16
    with unit_of_work(wallets.engine) as session:
        kept = set(session.execute(select(PassToken.token_hash)).scalars())
        rows = session.execute(select(MemberPass).where(MemberPass.program_id == wallets.api.program_id)).all()
    assert {hashlib.sha256(found.token.encode()).hexdigest() for found in (first, second)} <= kept
    assert not {first.token, second.token} & kept  # only hashes are kept
    assert len(rows) == 1


def test_a_number_that_code_128_cannot_carry_gets_only_the_qr_code(wallets: Wallets) -> None:
    wallets.configure()
    mari = wallets.member("mari", external_id="мари-1")

    found = wallets.download(mari)

    assert found.json["barcodes"] == [
        {"format": "PKBarcodeFormatQR", "message": "мари-1", "messageEncoding": "utf-8", "altText": "мари-1"}
    ]


def test_only_a_signed_in_member_of_a_program_with_apple_credentials_gets_a_pass(wallets: Wallets) -> None:
    mari = wallets.member("mari")
    assert mari.browser.get(f"/portal/{wallets.api.slug}/card.pkpass").status_code == 404  # not configured
    wallets.configure()
    signed_out = TestClient(wallets.client.app)

    answer = signed_out.get(f"/portal/{wallets.api.slug}/card.pkpass", follow_redirects=False)

    assert (answer.status_code, answer.headers["location"]) == (303, f"/portal/{wallets.api.slug}/sign-in")
    with unit_of_work(wallets.engine) as session:
        made = session.execute(select(MemberPass).where(MemberPass.program_id == wallets.api.program_id)).all()
    assert made == []
