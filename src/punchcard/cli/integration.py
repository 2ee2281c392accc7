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
    _connect(program, Provider.STRIPE, secret, keep_previous, None)


@app.command("shopify")
def shopify(
    program: Annotated[str, typer.Option(help="the program's slug")],
    secret: Annotated[str, typer.Option(help="the app's client secret, which signs its webhooks")],
    shop_domain: Annotated[
        str | None, typer.Option(help="the shop's *.myshopify.com domain; deliveries from another are refused")
    ] = None,
    keep_previous: Annotated[bool, typer.Option(help="keep the previous secret valid too, while it is rolled")] = False,
) -> None:
    """Verify Shopify's deliveries to /integrations/shopify/<program>/webhooks with ``secret``.

    Subscribe that URL to orders/paid (or orders/create), orders/cancelled, refunds/create, customers/create,
    customers/update and the privacy topics customers/data_request, customers/redact and shop/redact."""
    _connect(program, Provider.SHOPIFY, secret, keep_previous, shop_domain)


@app.command("woocommerce")
def woocommerce(
    program: Annotated[str, typer.Option(help="the program's slug")],
    secret: Annotated[str, typer.Option(help="the secret set on the shop's webhooks")],
    site: Annotated[
        str | None, typer.Option(help="the shop's address (https://shop.example); deliveries from another are refused")
    ] = None,
    keep_previous: Annotated[bool, typer.Option(help="keep the previous secret valid too, while it is rolled")] = False,
) -> None:
    """Verify WooCommerce's deliveries to /integrations/woocommerce/<program>/webhooks with ``secret``.

    In WooCommerce (Settings → Advanced → Webhooks), add that URL with this secret for Order created, Order updated,
    Customer created and Customer updated."""
    _connect(program, Provider.WOOCOMMERCE, secret, keep_previous, site.rstrip("/") if site else None)


def _connect(program: str, provider: Provider, secret: str, keep_previous: bool, account: str | None) -> None:
    engine = get_engine(Settings().database_url)
    upgrade(engine)
    try:
        with unit_of_work(engine) as session:
            program_id = programs.program_id_for(session, program)
            valid = service.set_secret(
                session, program_id, provider, secret, keep_previous=keep_previous, now=utc_now(), account=account
            )
    except PunchcardError as error:
        typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    plural = "s" if valid > 1 else ""
    typer.echo(
        f"{provider.value}: {program} verifies webhooks with {valid} secret{plural}"
        + (f" from {account}" if account else "")
    )
