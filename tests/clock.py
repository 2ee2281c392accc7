"""The moment every test's application believes it is, unless a test sets its clock: tests never read the wall clock.

A test that depended on the real date broke when that date passed one written in it; with a fixed moment the suite
gives the same answers on any day it runs.
"""

from datetime import UTC, datetime

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
