"""Figures per period in one set-wise query: which of consecutive half-open spans ``[start, end)`` a timestamp column
falls in, as a SQL expression, for the features that count their own rows per chart bar (the dashboard's series)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, case


class Span(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...


def span_of(column: Any, spans: Sequence[Span]) -> ColumnElement[Any]:
    """The index of the span ``column`` falls in (NULL outside them all).

    Group by it in a subquery, not directly: PostgreSQL does not accept a GROUP BY on an expression whose bound
    parameters differ from the select list's."""
    return case(*[(and_(column >= span.start, column < span.end), index) for index, span in enumerate(spans)])
