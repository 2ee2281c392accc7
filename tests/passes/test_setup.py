"""Setting wallets up: ``punchcard wallet apple|google`` checks the operator's files before keeping them (a key that
is not the certificate's, or a certificate the WWDR did not issue, is refused and nothing kept), the portal's card
page offers the wallets a program has, in the member's language, and the demo's stand-in credentials offer both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from typer.testing import CliRunner

from punchcard.cli.main import app as cli
from punchcard.demo import passes as demo_passes
from punchcard.kit.db import unit_of_work
from punchcard.passes import stand_in
from punchcard.passes.models import AppleCredentialsRow, GoogleCredentialsRow
from tests.clock import NOW
from tests.passes.conftest import Wallets, opened


def kept(wallets: Wallets) -> tuple[str | None, str | None]:
    """The program's Pass Type ID and Google issuer, as stored."""
    with unit_of_work(wallets.engine) as session:
        apple = session.execute(
            select(AppleCredentialsRow.pass_type_identifier).where(
                AppleCredentialsRow.program_id == wallets.api.program_id
            )
        ).scalar_one_or_none()
        google = session.execute(
            select(GoogleCredentialsRow.issuer_id).where(GoogleCredentialsRow.program_id == wallets.api.program_id)
        ).scalar_one_or_none()
    return apple, google


def apple_files(wallets: Wallets, folder: Path, *, password: str | None) -> list[str]:
    """The three PEM files, the key locked with ``password``, as CLI options."""
    files = wallets.stand_ins.apple
    key = serialization.load_pem_private_key(files.key, None)
    locking = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    locked = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, locking)
    for name, content in (("pass.pem", files.certificate), ("key.pem", locked), ("wwdr.pem", files.wwdr)):
        (folder / name).write_bytes(content)
    return [
        "--certificate",
        str(folder / "pass.pem"),
        "--key",
        str(folder / "key.pem"),
        "--wwdr",
        str(folder / "wwdr.pem"),
    ]


def test_the_cli_keeps_checked_credentials(
    wallets: Wallets, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)
    identity = ["--program", wallets.api.slug, "--pass-type-id", stand_in.PASS_TYPE_IDENTIFIER, "--team-id"]
    files = apple_files(wallets, tmp_path, password="correct horse")
    (tmp_path / "account.json").write_text(json.dumps(wallets.stand_ins.service_account))

    apple = CliRunner().invoke(
        cli, ["wallet", "apple", *identity, stand_in.TEAM_IDENTIFIER, *files, "--key-password", "correct horse"]
    )
    google = CliRunner().invoke(
        cli,
        ["wallet", "google", "--program", wallets.api.slug, "--issuer-id", stand_in.ISSUER_ID,
         "--service-account", str(tmp_path / "account.json")],
    )  # fmt: skip

    assert (apple.exit_code, google.exit_code) == (0, 0), apple.output + google.output
    assert kept(wallets) == (stand_in.PASS_TYPE_IDENTIFIER, stand_in.ISSUER_ID)
    with unit_of_work(wallets.engine) as session:
        row = session.get(AppleCredentialsRow, wallets.api.program_id)
        assert row is not None
        assert row.private_key.startswith("-----BEGIN PRIVATE KEY-----")  # unlocked once, kept without the password


@pytest.mark.parametrize(
    ("case", "change", "field"),
    [
        ("a wrong password", ["--key-password", "wrong"], "key"),
        ("another team", ["--team-id", "OTHERTEAM1"], "team_id"),
        ("another pass type", ["--pass-type-id", "pass.dev.someone.else"], "pass_type_id"),
        ("a certificate authority that did not issue it", ["--wwdr", "pass.pem"], "wwdr"),
    ],
)
def test_the_cli_refuses_what_cannot_sign_and_keeps_nothing(
    wallets: Wallets,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    change: list[str],
    field: str,
) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)
    options = {
        "--program": wallets.api.slug,
        "--pass-type-id": stand_in.PASS_TYPE_IDENTIFIER,
        "--team-id": stand_in.TEAM_IDENTIFIER,
        "--key-password": "right",
    }
    files = apple_files(wallets, tmp_path, password="right")
    options |= dict(zip(files[::2], files[1::2], strict=True))
    options[change[0]] = str(tmp_path / change[1]) if change[0] == "--wwdr" else change[1]

    outcome = CliRunner().invoke(cli, ["wallet", "apple", *[part for pair in options.items() for part in pair]])

    assert outcome.exit_code == 1, case
    assert "error [wallet_credentials_invalid]" in outcome.output
    assert f"field: {field}" in outcome.output
    assert kept(wallets) == (None, None)


def test_the_card_page_offers_the_programs_wallets_in_the_members_language(wallets: Wallets) -> None:
    mari = wallets.member("mari", language="et")
    card = f"/portal/{wallets.api.slug}/card"
    assert "Walletisse" not in mari.browser.get(card).text

    wallets.configure()
    only_apple = mari.browser.get(card).text
    wallets.configure(google_token_uri="https://oauth2.googleapis.com/token")
    both = mari.browser.get(card).text

    assert "Lisa Apple Walletisse" in only_apple
    assert "Lisa Google Walletisse" not in only_apple
    assert f'href="/portal/{wallets.api.slug}/card.pkpass">Lisa Apple Walletisse</a>' in both
    assert f'href="/portal/{wallets.api.slug}/card/google-wallet">Lisa Google Walletisse</a>' in both


def test_the_demos_stand_in_credentials_offer_both_wallets(wallets: Wallets) -> None:
    with unit_of_work(wallets.engine) as session:
        demo_passes.configure(session, wallets.api.program_id, NOW)
    mari = wallets.member("mari")

    page = mari.browser.get(f"/portal/{wallets.api.slug}/card").text
    found = opened(mari.browser.get(f"/portal/{wallets.api.slug}/card.pkpass"))
    link = mari.browser.get(f"/portal/{wallets.api.slug}/card/google-wallet", follow_redirects=False)

    assert "Add to Apple Wallet" in page
    assert "Add to Google Wallet" in page
    assert found.json["passTypeIdentifier"] == stand_in.PASS_TYPE_IDENTIFIER
    assert link.headers["location"].startswith("https://pay.google.com/gp/v/save/")
