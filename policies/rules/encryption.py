"""Customer-managed KMS keys on every store that holds model inputs, outputs or logs."""

from __future__ import annotations

from infra.contracts.instances import lookup
from policies.rules._support import as_list, resource_rule


def _endpoint_config_key(props, _config, key: str = "kmsKeyArn"):
    variants = as_list(props.get("productionVariants"))
    provisioned = [v for v in variants if v.get("instanceType")]
    # SageMaker refuses a key when every volume is instance storage (hardware-encrypted).
    needs_key = [
        v for v in provisioned if not (lookup(v["instanceType"]) and lookup(v["instanceType"]).local_storage)
    ]
    if needs_key and not props.get(key):
        names = ", ".join(v.get("variantName", "?") for v in needs_key)
        yield f"endpoint configuration has no {key} for the ML storage volumes of {names}"


def _native_endpoint_config_key(props, config):
    """aws-native's configuration (a shared endpoint's) names the volume key ``kmsKeyId``."""
    yield from _endpoint_config_key(props, config, "kmsKeyId")


def _data_capture_key(props, _config):
    capture = props.get("dataCaptureConfig") or {}
    if capture and capture.get("enableCapture", True) is not False and not capture.get("kmsKeyId"):
        yield "data capture writes to S3 without a kmsKeyId"


def _log_group_key(props, _config):
    if not props.get("kmsKeyId"):
        yield "log group is not encrypted with a KMS key (kmsKeyId)"


def _topic_key(props, _config):
    if not props.get("kmsMasterKeyId"):
        yield "SNS topic has no kmsMasterKeyId"


def _eks_secrets_key(props, _config):
    configs = as_list(props.get("encryptionConfig"))
    if not any(
        "secrets" in as_list(c.get("resources")) and (c.get("provider") or {}).get("keyArn") for c in configs
    ):
        yield "EKS cluster does not envelope-encrypt Kubernetes secrets with a KMS key (encryptionConfig)"


def _key_rotation(props, _config):
    symmetric = props.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"
    if symmetric and props.get("enableKeyRotation") is not True:
        yield "KMS key does not rotate (enableKeyRotation)"


ENDPOINT_CONFIG_KMS = resource_rule(
    "sagemaker-endpoint-config-kms",
    "SageMaker endpoint configurations encrypt their ML storage volumes with a KMS key",
    {
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _endpoint_config_key,
        "aws-native:sagemaker:EndpointConfig": _native_endpoint_config_key,
    },
)
DATA_CAPTURE_KMS = resource_rule(
    "sagemaker-data-capture-kms",
    "SageMaker data capture encrypts what it writes to S3 with a KMS key",
    ["aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws-native:sagemaker:EndpointConfig"],
    _data_capture_key,
)
LOG_GROUP_KMS = resource_rule(
    "log-group-kms",
    "CloudWatch log groups are encrypted with a KMS key",
    ["aws:cloudwatch/logGroup:LogGroup"],
    _log_group_key,
)
SNS_TOPIC_KMS = resource_rule(
    "sns-topic-kms",
    "SNS topics are encrypted with a KMS key",
    ["aws:sns/topic:Topic"],
    _topic_key,
)
EKS_SECRETS_KMS = resource_rule(
    "eks-secrets-kms",
    "EKS clusters envelope-encrypt Kubernetes secrets with a KMS key",
    ["aws:eks/cluster:Cluster"],
    _eks_secrets_key,
)
KMS_KEY_ROTATION = resource_rule(
    "kms-key-rotation",
    "Symmetric KMS keys rotate yearly",
    ["aws:kms/key:Key"],
    _key_rotation,
)

RULES = [
    ENDPOINT_CONFIG_KMS,
    DATA_CAPTURE_KMS,
    LOG_GROUP_KMS,
    SNS_TOPIC_KMS,
    EKS_SECRETS_KMS,
    KMS_KEY_ROTATION,
]
