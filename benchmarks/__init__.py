"""Benchmarks of kard-async against the official SDK and hand-written clients.

Run ``python -m benchmarks`` (full, about five minutes on two cores, writes
``benchmarks/RESULTS.md``) or ``python -m benchmarks --quick`` (smoke run). Benchmark-only
dependencies are in the ``bench`` dependency group: ``pip install -e . --group bench``.
"""
