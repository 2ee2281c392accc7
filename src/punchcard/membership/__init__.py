"""Paid memberships: plans with a price per period, a trial and perks; each member's membership moved by payments
(the API, membership events, the Stripe adapter) and by time (the jobs)."""
