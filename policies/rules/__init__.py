"""Every rule of the pack, grouped by area; the pack and the offline plan both read ``ALL``."""

from __future__ import annotations

from policies.rules import (
    alarms,
    capacity,
    eks,
    encryption,
    iam,
    network,
    resilience,
    sagemaker,
    storage,
    tagging,
)

ALL = [
    *tagging.RULES,
    *encryption.RULES,
    *storage.RULES,
    *sagemaker.RULES,
    *eks.RULES,
    *network.RULES,
    *iam.RULES,
    *alarms.RULES,
    *capacity.RULES,
    *resilience.RULES,
]
BY_NAME = {rule.name: rule for rule in ALL}
