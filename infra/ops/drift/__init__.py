"""Drift monitoring of captured requests, without SageMaker Model Monitor.

- ``baseline``: what a feature looked like in a sample dataset (``modelfleet drift baseline``).
- ``captures``: the captured requests of a time window, listed and decoded.
- ``job``: compares a window with the baseline, publishes metrics, writes a report
  (``python -m infra.ops.drift.job``; docs/drift.md).
- ``cli``: ``modelfleet drift`` and ``modelfleet drift baseline``.

Where it all lives and what the metrics are called: ``infra.contracts.drift``.
"""
