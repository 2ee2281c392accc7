"""Outbound webhooks: the program's domain events POSTed to other systems, signed, retried, in order per member."""
