"""Reading order files: CSV (one row per order line) and JSON Lines (one order per line), with line numbers.

Each order is validated exactly as ``POST /api/v1/events`` validates a purchase (the same ``EventIn`` schema), so a
file imports only what the API would have accepted. Validation is the first pass over the file; the second pass
converts rows that are already known to be valid without validating them again.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from punchcard.event.schemas import EventIn
from punchcard.kit.schemas import Moment, Money
from punchcard.rules.domain import Line

CSV_COLUMNS = ("order_id", "member_external_id", "occurred_at", "currency", "sku", "category", "quantity", "unit_price")
CSV_OPTIONAL = frozenset({"category", "shipping"})
ORDER_FIELDS = ("member_external_id", "occurred_at", "currency", "shipping")
JSON_FIELDS = frozenset({"order_id", "member_external_id", "occurred_at", "currency", "lines", "shipping"})

_moment: TypeAdapter[datetime] = TypeAdapter(Moment)
_money: TypeAdapter[Decimal] = TypeAdapter(Money)


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @classmethod
    def of(cls, path: Path) -> FileFormat:
        return cls.JSONL if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else cls.CSV


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def detail(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class RawOrder:
    """One order as the file has it: the body of the purchase event it stands for, and where each part came from."""

    line: int
    body: dict[str, Any]
    line_numbers: tuple[int, ...]
    """The file line of each order line (CSV rows), for error messages."""

    @property
    def order_id(self) -> str:
        return str(self.body.get("order_id", ""))


@dataclass(frozen=True)
class Order:
    """A valid order, ready for the rules engine."""

    line: int
    order_id: str
    member_external_id: str
    occurred_at: datetime
    currency: str
    lines: tuple[Line, ...]
    shipping: Decimal

    @property
    def event_id(self) -> str:
        return event_id_for(self.order_id)

    def digest(self) -> str:
        """The fingerprint stored with the event: the order as imported (not the API's body, which it never was)."""
        canonical = [
            self.order_id,
            self.member_external_id,
            self.occurred_at.isoformat(),
            self.currency,
            [[line.sku, line.category, str(line.quantity), str(line.unit_price)] for line in self.lines],
            str(self.shipping),
        ]
        return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def event_id_for(order_id: str) -> str:
    """The event id an imported order is recorded under: ``import:<order id>`` (hashed when that would be too long)."""
    candidate = f"import:{order_id}"
    return candidate if len(candidate) <= 200 else f"import:#{hashlib.sha256(order_id.encode()).hexdigest()}"


def read(path: Path, file_format: FileFormat) -> Iterator[RawOrder | Problem]:
    """The file's orders in file order; a row that cannot even be read as an order is a ``Problem``."""
    if file_format is FileFormat.JSONL:
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path)


def _read_jsonl(path: Path) -> Iterator[RawOrder | Problem]:
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                yield Problem(number, "", f"not valid JSON: {error.msg}")
                continue
            if not isinstance(record, dict):
                yield Problem(number, "", "each line must be a JSON object (one order)")
                continue
            unknown = sorted(set(record) - JSON_FIELDS)
            if unknown:
                yield Problem(number, unknown[0], f"unknown field; an order has {', '.join(sorted(JSON_FIELDS))}")
                continue
            lines = record.get("lines")
            count = len(lines) if isinstance(lines, list) else 0
            yield RawOrder(number, {**record}, (number,) * count)


def _read_csv(path: Path) -> Iterator[RawOrder | Problem]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        columns = [name.strip() for name in header]
        missing = [name for name in CSV_COLUMNS if name not in columns and name not in CSV_OPTIONAL]
        unknown = [name for name in columns if name not in CSV_COLUMNS and name != "shipping"]
        if missing or unknown:
            expected = ", ".join((*CSV_COLUMNS, "shipping"))
            what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
            yield Problem(1, "header", f"{what}; the columns are {expected}")
            return
        index = {name: position for position, name in enumerate(columns)}
        current: dict[str, Any] | None = None
        first_line = 0
        numbers: list[int] = []
        line = 1
        for row in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                yield Problem(start, "", f"{len(row)} cells, the header has {len(columns)}")
                continue
            cells = {name: row[position] for name, position in index.items()}
            order_id = cells["order_id"]
            if current is not None and order_id == current["order_id"]:
                different = [name for name in ORDER_FIELDS if name in cells and cells[name] != current[f"_{name}"]]
                if different:
                    yield Problem(start, different[0], f"differs from the first row of order {order_id!r}")
                    continue
                current["lines"].append(_line(cells))
                numbers.append(start)
                continue
            if current is not None:
                yield RawOrder(first_line, _finish(current), tuple(numbers))
            current = {
                "order_id": order_id,
                "member_external_id": cells["member_external_id"],
                "occurred_at": cells["occurred_at"],
                "currency": cells["currency"],
                "lines": [_line(cells)],
                **({"shipping": cells["shipping"]} if cells.get("shipping", "").strip() else {}),
                **{f"_{name}": cells.get(name) for name in ORDER_FIELDS},
            }
            first_line, numbers = start, [start]
        if current is not None:
            yield RawOrder(first_line, _finish(current), tuple(numbers))


def _line(cells: dict[str, str]) -> dict[str, str]:
    return {
        "sku": cells["sku"],
        "category": cells.get("category", ""),
        "quantity": cells["quantity"],
        "unit_price": cells["unit_price"],
    }


def _finish(order: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in order.items() if not name.startswith("_")}


def validate(raw: RawOrder) -> Order | list[Problem]:
    """The order if the API would accept it as a purchase; otherwise every problem, with its line number."""
    body = raw.body
    try:
        event = EventIn.model_validate(
            {**body, "id": event_id_for(str(body.get("order_id", "")) or "?"), "type": "purchase"}
        )
    except ValidationError as error:
        return [_problem(raw, detail) for detail in error.errors(include_url=False)]
    assert event.order_id is not None
    assert event.currency is not None
    assert event.lines is not None
    return Order(
        raw.line,
        event.order_id,
        event.member_external_id,
        event.occurred_at,
        event.currency,
        tuple(line.to_domain() for line in event.lines),
        event.shipping,
    )


def _problem(raw: RawOrder, detail: Any) -> Problem:
    location = [str(part) for part in detail["loc"]]
    line = raw.line
    if len(location) >= 2 and location[0] == "lines" and location[1].isdigit():
        position = int(location[1])
        if position < len(raw.line_numbers):
            line = raw.line_numbers[position]
    field = ".".join(location) or "order"
    message = str(detail["msg"]).removeprefix("Value error, ")
    return Problem(line, field, message)


def convert(raw: RawOrder) -> Order:
    """An order that ``validate`` accepted, converted again without the schema (the second pass is faster)."""
    body = raw.body
    try:
        return Order(
            raw.line,
            body["order_id"],
            body["member_external_id"],
            _moment_of(body["occurred_at"]),
            body["currency"],
            tuple(
                Line(line["sku"], line.get("category", ""), _decimal(line["quantity"]), _money_of(line["unit_price"]))
                for line in body["lines"]
            ),
            _money_of(body.get("shipping", "0")),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        # Anything unusual (numbers as JSON floats, timestamps as numbers): the schema's own conversion.
        converted = validate(raw)
        assert isinstance(converted, Order), "convert() is only given orders that validate() accepted"
        return converted


def _moment_of(value: object) -> datetime:
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment
    return _moment.validate_python(value)


def _decimal(value: object) -> Decimal:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return Decimal(value)
    raise ValueError("not a plain number")


def _money_of(value: object) -> Decimal:
    if isinstance(value, str):
        return Decimal(value)
    return _money.validate_python(value)
