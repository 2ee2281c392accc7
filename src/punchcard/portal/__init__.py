"""The member portal: members sign in by e-mail link or from the shop, and see their points, history, tier, rewards,
coupons and card, in their own language, on a light page that works on a phone."""
