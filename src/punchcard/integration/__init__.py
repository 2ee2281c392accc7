"""The shop's connections to other services (a payment provider, a shop platform): the secrets that sign their
deliveries, per program and provider."""
