"""What the coalition page says: the brands and their rates, the member's linked accounts and the coalition units
they make, the brands not linked yet, a movement's question on the confirmation step (exactly what leaves and what
arrives, and what stays because it does not make a whole unit), the member's recent movements, and why a movement
was refused, in the member's words.

Nothing here decides or reads the database: the coalition, the accounts and the movements are the coalition
service's, the exchange is its domain's ``sending``; this only words them. Brands are named by ``names`` (program id
to the program's name in the member's language), read by the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from punchcard.coalition.domain import Brand, Coalition, Exchange
from punchcard.coalition.service import Account, Movement
from punchcard.i18n.translator import Translator
from punchcard.kit.calendar import local_date

REFUSALS = {
    "not_in_coalition": "coalition.refused.not_partner",
    "same_brand": "coalition.refused.not_partner",
    "coalition_not_linked": "coalition.refused.not_linked",
    "member_blocked": "coalition.refused.blocked",
    "idempotency_conflict": "coalition.refused.conflict",
    "invalid_points": "coalition.refused.invalid",
}
"""Why a movement was refused (the error's code), in words; ``insufficient_points`` counts the points the member
has, ``too_few_points_to_exchange`` the points of one unit."""
MOVEMENTS = {
    ("transfer", True): "coalition.movement.to",
    ("transfer", False): "coalition.movement.from",
    ("reward", True): "coalition.movement.reward_to",
    ("reward", False): "coalition.movement.reward_from",
}
"""A movement by its reason and whether its points left this account."""


@dataclass(frozen=True)
class AccountLine:
    slug: str
    name: str
    points: str
    units: str


@dataclass(frozen=True)
class Overview:
    """The member's linked accounts (theirs first) and what they make together."""

    accounts: list[AccountLine]
    total: str
    missing: str | None
    """The coalition's brands where no account is linked, and how one comes to be, when there are such brands."""


def rates(ui: Translator, found: Coalition, names: Mapping[int, str]) -> list[str]:
    """ "1 coalition unit = 2 points of Leaf & Cup", for each brand in the coalition's order."""
    return [ui.n("coalition.rate", brand.points_per_unit, brand=names[brand.program_id]) for brand in found.brands]


def overview(ui: Translator, found: Coalition, accounts: Sequence[Account], names: Mapping[int, str]) -> Overview:
    linked = {account.brand.program_id for account in accounts}
    missing = [names[brand.program_id] for brand in found.brands if brand.program_id not in linked]
    return Overview(
        accounts=[
            AccountLine(
                slug=account.brand.slug,
                name=names[account.brand.program_id],
                points=ui.n("points", account.available),
                units=ui.n("coalition.units", account.units),
            )
            for account in accounts
        ],
        total=ui.n("coalition.units", sum(account.units for account in accounts)),
        missing=ui.t("coalition.link.missing", brands=", ".join(missing)) if missing else None,
    )


def points_of(ui: Translator, points: int, brand: Brand, names: Mapping[int, str]) -> str:
    """ "200 Leaf & Cup points"."""
    return ui.n("coalition.points_of", points, brand=names[brand.program_id])


# --- moving points -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """What moving ``asked`` points to ``to`` does, asked before it is done."""

    to: str
    asked: int
    question: str
    become: str
    """"100 Bean There points become 200 Leaf & Cup points."."""
    kept: str | None
    """The points asked for that stay, not making a whole unit."""
    after: str


def question(
    ui: Translator,
    sender: Account,
    receiver: Account,
    asked: int,
    exchange: Exchange,
    names: Mapping[int, str],
) -> Question:
    """``sender`` and ``receiver`` are the member's accounts at both ends, as they are before the movement."""
    return Question(
        to=receiver.brand.slug,
        asked=asked,
        question=ui.t("coalition.confirm.question", brand=names[receiver.brand.program_id]),
        become=ui.n(
            "coalition.confirm.become",
            exchange.sent,
            sender=names[sender.brand.program_id],
            received=points_of(ui, exchange.received, receiver.brand, names),
        ),
        kept=ui.n("coalition.confirm.kept", asked - exchange.sent) if asked > exchange.sent else None,
        after=ui.t(
            "coalition.confirm.after",
            here=points_of(ui, sender.available - exchange.sent, sender.brand, names),
            there=points_of(ui, receiver.available + exchange.received, receiver.brand, names),
        ),
    )


def refusal(ui: Translator, code: str, *, available: int, per_unit: int) -> str:
    """Why a movement was refused (the error's code), in words: ``available`` are the member's points here,
    ``per_unit`` how many of them make one unit."""
    if code == "insufficient_points":
        return ui.n("coalition.refused.insufficient", available)
    if code == "too_few_points_to_exchange":
        return ui.n("coalition.refused.too_few", per_unit)
    return ui.t(REFUSALS.get(code, "coalition.refused.failed"))


# --- the movements -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MovementLine:
    text: str
    change: str
    minus: bool
    day: date


def movement_line(ui: Translator, movement: Movement, names: Mapping[int, str], zone: ZoneInfo) -> MovementLine:
    """A movement in or out of the member's account here; a brand that has left the coalition since is a former
    partner."""
    other = names[movement.other.program_id] if movement.other is not None else ui.t("coalition.movement.former")
    left = movement.points < 0
    return MovementLine(
        text=ui.t(MOVEMENTS[(movement.reason, left)], brand=other),
        change=ui.signed(movement.points),
        minus=left,
        day=local_date(movement.occurred_at, zone),
    )
