"""What the intake keeps about an accepted event, and how accepted events are split so that each member's are
processed in order: pure, no database or clock.

An accepted event is stored durably before the caller is answered ``202``; a worker processes it later through the
same event path as a synchronous request. Events are split into ``PARTITIONS`` by a stable hash of the member's
external id: one worker at a time processes a partition, oldest first, so a member's events are processed in the order
they were accepted, while different partitions are processed in parallel.
"""

from __future__ import annotations

import zlib
from enum import StrEnum

PARTITIONS = 64
"""Enough for many workers to share the load evenly; few enough that an idle partition costs nothing to look at."""

MAX_ATTEMPTS = 5
"""An event whose processing fails for an unexpected reason (not a refusal) this many times is rejected, so that one
broken event cannot hold back the rest of its partition for ever."""


class Status(StrEnum):
    ACCEPTED = "accepted"
    """Stored, not yet processed."""
    PROCESSED = "processed"
    """Processed exactly once; the outcome is the response a synchronous request would have got."""
    REJECTED = "rejected"
    """Refused when processed (unknown or blocked member, order already recorded, ...); the outcome is the error."""


def partition_of(member_external_id: str) -> int:
    """The partition of a member's events: a stable hash (CRC-32, the same in every process and release)."""
    return zlib.crc32(member_external_id.encode()) % PARTITIONS
