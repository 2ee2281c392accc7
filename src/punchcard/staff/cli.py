"""``punchcard staff``: staff accounts of the admin console, for the first owner and anyone locked out of it."""

from __future__ import annotations

from typing import Annotated

import typer

from punchcard.kit.clock import utc_now
from punchcard.kit.db import get_engine, unit_of_work
from punchcard.kit.errors import PunchcardError
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings
from punchcard.staff import service
from punchcard.staff.domain import ROLE_SUMMARIES, Role

app = typer.Typer(help="Staff accounts of the admin console (/admin).", no_args_is_help=True)
ROLES_HELP = "; ".join(f"{role.value}: {summary}" for role, summary in ROLE_SUMMARIES.items())


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="the staff member's e-mail address (their sign-in name)")],
    role: Annotated[Role, typer.Option(help=ROLES_HELP)],
) -> None:
    """Create a staff account; its one-time password is printed alone on the last line. It must be changed at the
    first sign-in."""
    engine = get_engine(Settings().database_url)
    upgrade(engine)
    try:
        with unit_of_work(engine) as session:
            account, password = service.create(session, email, role, utc_now(), actor_id=None)
    except PunchcardError as error:
        typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"{role.value} {account.email} created; one-time password (sign in at /admin and choose your own):")
    typer.echo(password)
