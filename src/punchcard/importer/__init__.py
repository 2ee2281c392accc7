"""Importing a shop's past orders (``punchcard import orders``) through the rules engine and the ledger, set-wise."""
