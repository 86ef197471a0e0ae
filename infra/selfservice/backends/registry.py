"""Which self-service module serves which backend: the one place ``new-model`` maps one to the other.

A new ``Backend`` needs an entry here before ``new-model`` can add its models;
``tests/selfservice/test_backends.py`` fails until it has one.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.selfservice.backends.base import ModelBackend
from infra.selfservice.backends.eks import EksBackend
from infra.selfservice.backends.sagemaker import SageMakerBackend
from infra.settings.catalog import Backend

BACKENDS: Mapping[Backend, ModelBackend] = {
    Backend.SAGEMAKER: SageMakerBackend(),
    Backend.EKS: EksBackend(),
}
