"""Events in, effects out: purchases, refunds and custom events, each processed exactly once."""
