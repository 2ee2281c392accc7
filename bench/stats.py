"""Latency percentiles, computed the same way for every tool."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Latency:
    """Milliseconds."""

    mean: float
    p50: float
    p99: float
    p999: float
    max: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def percentiles(samples: list[float]) -> Latency:
    if not samples:
        return Latency(0, 0, 0, 0, 0)
    ordered = sorted(samples)

    def at(share: float) -> float:
        return round(ordered[min(int(share * len(ordered)), len(ordered) - 1)], 3)

    return Latency(round(sum(ordered) / len(ordered), 3), at(0.5), at(0.99), at(0.999), round(ordered[-1], 3))
