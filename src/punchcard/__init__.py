"""Punchcard: a self-hosted loyalty and rewards engine."""

__version__ = "0.1.0"
