"""Kept for ``bench/cpu.py`` only, which imports the member view from here: the view is ``member.http.member_view``.
Remove once the benchmark imports it from there."""

from punchcard.member.http import member_view as member_view
