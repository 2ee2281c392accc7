"""``punchcard integration``: connect a program to a provider by setting the secret its webhooks are signed with."""

from __future__ import annotations

from typing import Annotated

import typer

from punchcard.integration import service
from punchcard.integration.service import Provider
from punchcard.kit.clock import utc_now
from punchcard.kit.db import get_engine, unit_of_work
from punchcard.kit.errors import PunchcardError
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings
from punchcard.program import service as programs

app = typer.Typer(help="Connections to payment providers and shop platforms.", no_args_is_help=True)


@app.command("stripe")
def stripe(
    program: Annotated[str, typer.Option(help="the program's slug")],
    secret: Annotated[str, typer.Option(help="the endpoint's signing secret (whsec_...) from Stripe's dashboard")],
    keep_previous: Annotated[
        bool, typer.Option(help="keep the previous secret valid too, while Stripe rolls it")
    ] = False,
) -> None:
    """Verify Stripe's deliveries to /integrations/stripe/<program>/webhooks with ``secret``.

    In Stripe, add that URL as a webhook endpoint for invoice.paid, invoice.payment_failed and
    customer.subscription.deleted, and set the subscription's metadata punchcard_member (the member's external id)
    and punchcard_plan (the plan's code)."""
    engine = get_engine(Settings().database_url)
    upgrade(engine)
    try:
        with unit_of_work(engine) as session:
            program_id = programs.program_id_for(session, program)
            valid = service.set_secret(
                session, program_id, Provider.STRIPE, secret, keep_previous=keep_previous, now=utc_now()
            )
    except PunchcardError as error:
        typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"stripe: {program} verifies webhooks with {valid} secret{'s' if valid > 1 else ''}")
