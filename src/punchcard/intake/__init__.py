"""The intake: events accepted now and processed later (``Prefer: respond-async``, ``POST /api/v1/events/batch``)."""
