"""The "Add to Google Wallet" link: a JWT signed RS256 by the program's service account, which verifies with its
public key and carries the program's loyalty class and the signed-in member's loyalty object, and nobody else's."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from punchcard.passes.google import SAVE_URL
from punchcard.passes.stand_in import CLIENT_EMAIL, ISSUER_ID
from tests.clock import NOW
from tests.passes.conftest import Member, Wallets


def claims_of(wallets: Wallets, member: Member, key: RSAPublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the verified claims of the member's link (time claims are not judged: the test's clock is not
    today's)."""
    answer = member.browser.get(f"/portal/{wallets.api.slug}/card/google-wallet", follow_redirects=False)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(SAVE_URL)
    token = location.removeprefix(SAVE_URL)
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="google", options={"verify_iat": False})
    return jwt.get_unverified_header(token), claims


def test_the_link_carries_the_members_object_signed_by_the_service_account(wallets: Wallets) -> None:
    wallets.configure(google_token_uri="https://oauth2.googleapis.com/token")
    mari = wallets.member("mari", name="Mari Tamm", language="fi")
    wallets.adjust(mari, 30)
    points = wallets.api.available(mari.external_id)

    header, claims = claims_of(wallets, mari, wallets.stand_ins.google_key)

    assert (header["alg"], header["kid"]) == ("RS256", "stand-in")
    assert {key: claims[key] for key in ("iss", "aud", "typ", "iat", "origins")} == {
        "iss": CLIENT_EMAIL,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(NOW.timestamp()),
        "origins": ["http://127.0.0.1:8000"],
    }
    [loyalty_class] = claims["payload"]["loyaltyClasses"]
    [loyalty_object] = claims["payload"]["loyaltyObjects"]
    class_id = f"{ISSUER_ID}.punchcard-{wallets.api.slug}"
    assert (loyalty_class["id"], loyalty_class["issuerName"], loyalty_class["reviewStatus"]) == (
        class_id,
        "Bean There Coffee Roasters",
        "UNDER_REVIEW",
    )
    logo = loyalty_class["programLogo"]["sourceUri"]["uri"]
    assert logo == f"http://127.0.0.1:8000/passes/{wallets.api.slug}/logo.png"
    served = wallets.client.get(logo.removeprefix("http://127.0.0.1:8000"))
    assert (served.status_code, served.headers["content-type"], served.content[:4]) == (200, "image/png", b"\x89PNG")
    assert loyalty_object["id"].startswith(f"{ISSUER_ID}.")
    assert {key: loyalty_object[key] for key in ("classId", "state", "accountId", "accountName")} == {
        "classId": class_id,
        "state": "ACTIVE",
        "accountId": mari.external_id,
        "accountName": "Mari Tamm",
    }
    assert loyalty_object["loyaltyPoints"]["balance"] == {"int": points}
    assert loyalty_object["barcode"] == {
        "type": "QR_CODE",
        "value": mari.external_id,
        "alternateText": mari.external_id,
    }
    tier = loyalty_object["textModulesData"][0]
    assert (tier["header"], tier["body"]) == ("Your tier", "Bronze")
    assert {"language": "fi", "value": "Pronssi"} in tier["localizedBody"]["translatedValues"]


def test_each_member_gets_only_their_own_object(wallets: Wallets) -> None:
    wallets.configure(google_token_uri="https://oauth2.googleapis.com/token")
    mari, jaan = wallets.member("mari"), wallets.member("jaan")

    _, hers = claims_of(wallets, mari, wallets.stand_ins.google_key)
    _, his = claims_of(wallets, jaan, wallets.stand_ins.google_key)
    _, hers_again = claims_of(wallets, mari, wallets.stand_ins.google_key)

    [her_object], [his_object] = hers["payload"]["loyaltyObjects"], his["payload"]["loyaltyObjects"]
    assert (her_object["accountId"], his_object["accountId"]) == (mari.external_id, jaan.external_id)
    assert her_object["id"] != his_object["id"]
    assert hers_again["payload"]["loyaltyObjects"][0]["id"] == her_object["id"]


def test_without_google_credentials_there_is_no_link(wallets: Wallets) -> None:
    wallets.configure()
    mari = wallets.member("mari")

    assert mari.browser.get(f"/portal/{wallets.api.slug}/card/google-wallet", follow_redirects=False).status_code == 404
