"""Scheduled work: vesting pending points, expiring lots, reviewing tiers."""
