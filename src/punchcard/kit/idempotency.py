"""Fingerprints of requests, so a retried request can be told apart from a different one with the same key."""

import hashlib
import json
from typing import Any


def request_hash(body: dict[str, Any]) -> str:
    """A digest of the request as parsed, independent of key order and whitespace."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
