"""``punchcard portal``: what a shop needs to link its own account page to the portal."""

from __future__ import annotations

from typing import Annotated

import typer

from punchcard.kit.clock import utc_now
from punchcard.kit.db import get_engine, unit_of_work
from punchcard.kit.errors import PunchcardError
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings
from punchcard.portal import service
from punchcard.program import service as programs

app = typer.Typer(help="The member portal.", no_args_is_help=True)


@app.command("secret")
def secret(program: Annotated[str, typer.Option(help="the program's slug")]) -> None:
    """Print the program's portal secret (created on first use); it is printed alone on the last line.

    A shop links a signed-in customer to /portal/<slug>/auth/shop?member=<id>&expires=<unix>&sig=<hex>, where <hex>
    is the HMAC-SHA256 of "<slug>:<id>:<unix>" keyed with this secret, and <unix> is at most 24 hours ahead.
    """
    engine = get_engine(Settings().database_url)
    upgrade(engine)
    try:
        with unit_of_work(engine) as session:
            found = service.portal_secret(session, programs.program_id_for(session, program), utc_now())
    except PunchcardError as error:
        typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"portal secret of {program} (keep it private; shops sign 'My rewards' links with it):")
    typer.echo(found)
