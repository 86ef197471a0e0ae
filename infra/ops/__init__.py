"""Day-2 operations on deployed models: rollout, smoke test, load test, promote.

Everything here addresses resources by the names the Pulumi program gives them,
derived from the stack file with the same helpers, so no Pulumi backend is needed.
The commands decide; what they read or change goes through the model's driver
(``drivers``): boto3 for SageMaker (``endpoints``, ``signals``, ``progress``).
Drift monitoring (``drift``) reads the capture bucket itself, with no driver: its job
runs on a schedule, away from the CLI (docs/drift.md).
"""
