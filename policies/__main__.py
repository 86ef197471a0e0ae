"""Entry point the Pulumi CLI runs for ``--policy-pack policies``.

The rules live in ``policies.rules`` so that ``modelfleet plan`` runs the very
same functions offline. The pack's virtualenv is the project's (``make venv``),
where ``policies`` and ``infra`` are installed.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.rules import ALL

PolicyPack(
    name="modelfleet",
    policies=ALL,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="modelfleet: security, resilience and cost guardrails for SageMaker, EKS and GPUs",
)
