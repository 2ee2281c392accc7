"""Integration secrets: set by an operator (``punchcard integration <provider>``), read by the webhook endpoints to
verify what the provider sends. They are stored as given, since verifying a signature needs the secret itself; the
database is the installation's to protect, as it is for the portal's signing secret."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from punchcard.integration import repository
from punchcard.integration.models import IntegrationSecret
from punchcard.kit.errors import Unprocessable


class Provider(StrEnum):
    STRIPE = "stripe"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"


class SecretRefused(Unprocessable):
    code = "integration_secret_invalid"


MIN_LENGTH, MAX_LENGTH = 16, 200


def secrets(session: Session, program_id: int, provider: Provider) -> list[str]:
    """The program's secrets for ``provider``, newest first; empty when none is set."""
    row = repository.find(session, program_id, provider.value)
    return list(row.secrets) if row is not None else []


def account(session: Session, program_id: int, provider: Provider) -> str | None:
    """The provider's account the program is connected to (a Shopify shop's ``*.myshopify.com`` domain, a
    WooCommerce site's address), when the operator named one: deliveries from another are refused."""
    row = repository.find(session, program_id, provider.value)
    return row.account if row is not None else None


def set_secret(
    session: Session,
    program_id: int,
    provider: Provider,
    secret: str,
    *,
    keep_previous: bool,
    now: datetime,
    account: str | None = None,
) -> int:
    """Make ``secret`` the program's secret for ``provider``; with ``keep_previous`` the one before stays valid too
    (a rolled secret: the provider signs with both for a while); ``account``, when given, names the provider's
    account the deliveries must come from. Returns how many secrets are valid now."""
    secret = secret.strip()
    if not MIN_LENGTH <= len(secret) <= MAX_LENGTH:
        raise SecretRefused(f"a signing secret has {MIN_LENGTH} to {MAX_LENGTH} characters")
    row = repository.find(session, program_id, provider.value, for_update=True)
    if row is None:
        session.add(
            IntegrationSecret(
                program_id=program_id, provider=provider.value, secrets=[secret], account=account, updated_at=now
            )
        )
        return 1
    if account is not None:
        row.account = account
    kept = [previous for previous in row.secrets[:1] if previous != secret] if keep_previous else []
    row.secrets = [secret, *kept]
    row.updated_at = now
    return len(row.secrets)
