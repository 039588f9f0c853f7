"""Benchmarks: each module runs alone (``python bench/<name>.py``) and has a ``run(...) -> dict``; ``run_all.py`` runs
them all and rewrites docs/benchmarks.md (``report.py`` renders it)."""
