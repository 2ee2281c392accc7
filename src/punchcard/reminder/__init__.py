"""Reminders: what is about to happen to a member (points or a coupon expiring, a birthday), announced once."""
