"""Single-use coupons: validated against an order, redeemed for one order id, released if that order is cancelled."""
