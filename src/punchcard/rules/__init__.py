"""The earning rules engine: when (event type) + if (conditions) + then (award or multiply)."""
