"""The ``punchcard`` command line."""
