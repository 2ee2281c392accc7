"""Referrals: a member's code and link, the friends they bring, fraud checks with a review queue, and rewards for both
sides once the friend qualifies."""
