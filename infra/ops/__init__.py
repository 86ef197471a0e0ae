"""Day-2 operations on deployed models with boto3: rollout, smoke test, load test, promote.

Everything here addresses resources by the names the Pulumi program gives them,
derived from the stack file with the same helpers, so no Pulumi backend is needed.
"""
