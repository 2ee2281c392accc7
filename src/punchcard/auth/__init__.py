"""API keys: each belongs to one program and has a scope (admin or integration)."""
