"""Generated order history for the import scenario, in the format ``punchcard import orders`` reads (CSV)."""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

COLUMNS = ("order_id", "member_external_id", "occurred_at", "currency", "sku", "category", "quantity", "unit_price")
CATALOGUE = (
    ("BEANS-250", "coffee-beans"),
    ("BEANS-1KG", "coffee-beans"),
    ("MUG", "merch"),
    ("GRINDER", "equipment"),
    ("GIFT-25", "gift-cards"),
    ("FILTERS", "accessories"),
)


def write_csv(path: Path, *, orders: int, members: int, until: datetime, years: int = 3, seed: int = 4) -> int:
    """``orders`` orders by members ``c1..cN`` (mildly skewed: some buy far more often), spread over the ``years``
    before ``until`` in chronological order, one row per line; returns the number of rows written."""
    generator = random.Random(seed)
    span = timedelta(days=365 * years).total_seconds()
    start = until - timedelta(seconds=span)
    step = span / orders
    rows = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow((*COLUMNS, "shipping"))
        for number in range(orders):
            moment = start + timedelta(seconds=step * number + generator.random() * step * 0.5)
            member = 1 + int(members * generator.random() ** 2)
            occurred_at = moment.isoformat(timespec="seconds")
            shipping = "0" if generator.random() < 0.3 else "4.90"
            for sku, category in generator.sample(CATALOGUE, generator.randint(1, 3)):
                price = f"{generator.randint(3, 40)}.{generator.randint(0, 99):02d}"
                quantity = generator.randint(1, 3)
                writer.writerow(
                    (f"H{number}", f"c{member}", occurred_at, "EUR", sku, category, quantity, price, shipping)
                )
                rows += 1
    return rows
