"""The serving backends a model names (``backend:``), in a module of its own.

It imports nothing, so ``modelfleet new-model``'s parser lists the backends without
building the settings' models; ``catalog`` re-exports it beside the model classes.
"""

from __future__ import annotations

from enum import StrEnum


class Backend(StrEnum):
    SAGEMAKER = "sagemaker"
    EKS = "eks"
