"""Money wallets: gift cards, members' store credit, and points converted to it, in the same ledger as points."""
