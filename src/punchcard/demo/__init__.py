"""The demo: a fresh database with the demo program and a deterministic year of sample activity.

``sample`` generates the members and what they do (pure, seeded); ``setup`` plays it through the real services in
chronological order, so every ledger entry, tier change and coupon is one the engine itself produced.
"""
