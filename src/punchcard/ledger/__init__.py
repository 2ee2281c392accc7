"""The append-only ledger: accounts per member, lots with expiry, and the entries that explain every change."""
