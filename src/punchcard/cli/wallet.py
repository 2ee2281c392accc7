"""``punchcard wallet``: give a program the credentials its members' wallet passes are signed and updated with.
docs/wallet-passes.md tells where each file comes from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from punchcard.kit.clock import utc_now
from punchcard.kit.db import get_engine, unit_of_work
from punchcard.kit.errors import PunchcardError
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings
from punchcard.passes import service, signing
from punchcard.program import service as programs

app = typer.Typer(help="Members' cards in Apple Wallet and Google Wallet.", no_args_is_help=True)

Program = Annotated[str, typer.Option(help="the program's slug")]


def _fail(error: PunchcardError) -> NoReturn:
    typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
    for detail in error.details:
        typer.secho("  " + ", ".join(f"{key}: {value}" for key, value in detail.items()), err=True)
    raise typer.Exit(code=1) from error


@app.command("apple")
def apple(
    program: Program,
    pass_type_id: Annotated[str, typer.Option(help="the Pass Type ID, such as pass.com.example.loyalty")],
    team_id: Annotated[str, typer.Option(help="your Apple Developer team's ID (ten characters)")],
    certificate: Annotated[Path, typer.Option(help="the Pass Type ID certificate, PEM", exists=True, dir_okay=False)],
    key: Annotated[Path, typer.Option(help="its private key, PEM", exists=True, dir_okay=False)],
    wwdr: Annotated[Path, typer.Option(help="Apple's WWDR intermediate that issued it, PEM", exists=True)],
    key_password: Annotated[str | None, typer.Option(help="the private key's password, if it has one")] = None,
) -> None:
    """Sign the program's Apple Wallet passes with this Pass Type ID certificate, and push their updates with it.

    The key's password unlocks it once; the key is kept without it (docs/decisions.md)."""
    engine = get_engine(Settings().database_url)
    upgrade(engine)
    try:
        credentials = signing.apple_credentials(
            pass_type_id, team_id, certificate.read_bytes(), key.read_bytes(), key_password, wwdr.read_bytes()
        )
        with unit_of_work(engine) as session:
            service.set_apple(session, programs.program_id_for(session, program), credentials, utc_now())
    except PunchcardError as error:
        _fail(error)
    typer.echo(f"apple wallet: {program} signs its passes as {pass_type_id} (team {team_id})")


@app.command("google")
def google(
    program: Program,
    issuer_id: Annotated[str, typer.Option(help="the issuer ID the Google Pay & Wallet Console shows")],
    service_account: Annotated[
        Path, typer.Option(help="the service account's JSON key file", exists=True, dir_okay=False)
    ],
) -> None:
    """Let the program's members save their card to Google Wallet as this issuer, through this service account."""
    engine = get_engine(Settings().database_url)
    upgrade(engine)
    try:
        credentials = signing.google_credentials(issuer_id, service_account.read_text(encoding="utf-8"))
        with unit_of_work(engine) as session:
            service.set_google(session, programs.program_id_for(session, program), credentials, utc_now())
    except PunchcardError as error:
        _fail(error)
    typer.echo(f"google wallet: {program} issues cards as {issuer_id} through {credentials.client_email}")
