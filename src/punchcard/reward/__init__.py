"""The rewards catalogue and redeeming a reward for points, which issues a coupon."""
