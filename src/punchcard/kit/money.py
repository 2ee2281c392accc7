"""Money as ``Decimal``, never float: parsing, minor units and the ISO 4217 exponents we need."""

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 currencies whose minor unit is not 2 digits; every other code has 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


def exponent(currency: str) -> int:
    """Number of decimal digits of the currency's minor unit."""
    return _EXPONENTS.get(currency, 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """Whole minor units (cents), rounded half up: how amounts are stored in the database."""
    scale = Decimal(10) ** exponent(currency)
    return int((amount * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_amount(amount: Decimal, currency: str) -> str:
    """The decimal string the API returns, with exactly the currency's digits."""
    quantum = Decimal(1).scaleb(-exponent(currency))
    return str(amount.quantize(quantum, rounding=ROUND_HALF_UP))
