"""Member-only offers and early access: segments, audiences, windows (issue 12)."""
