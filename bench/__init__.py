"""Punchcard's benchmark suite: every scenario of issue 4 against a baseline measured in the same run.

Run ``bench/run`` (or ``uv run python -m bench``); ``--quick`` runs every scenario at a small size. The report goes to
``bench/results/report.md`` and ``report.json``; ``docs/performance.md`` explains the numbers.
"""
