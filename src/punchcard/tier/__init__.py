"""Tiers: qualification over a window, immediate upgrades, downgrades only at review after a grace period."""
