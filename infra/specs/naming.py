"""Physical names for resources that need one (pure; tested without mocks).

Most resources keep Pulumi's auto-names (logical name plus a random suffix), so
that replacements never collide. Names here are for what people search for in
the console or in logs, and for services whose names are short.
"""

from __future__ import annotations

import hashlib

from infra import PROJECT

# AWS's own limits on physical names, by the resource type that carries them
# (each service's API reference). The offline plan's names are checked against
# these for the longest model and environment names the settings accept.
AWS_NAME_LIMITS: dict[str, int] = {
    "aws:iam/role:Role": 64,
    "aws:iam/rolePolicy:RolePolicy": 128,
    "aws:iam/policy:Policy": 128,
    "aws:sagemaker/model:Model": 63,
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": 63,
    "aws:lb/loadBalancer:LoadBalancer": 32,
    "aws:lb/targetGroup:TargetGroup": 32,
    "aws:ec2/securityGroup:SecurityGroup": 255,
    "aws:cloudwatch/logGroup:LogGroup": 512,
    "aws:cloudwatch/metricAlarm:MetricAlarm": 255,
    "aws:cloudwatch/dashboard:Dashboard": 255,
    "aws:kms/alias:Alias": 256,
    "aws:s3/bucket:Bucket": 63,
    "aws:s3/bucketV2:BucketV2": 63,
    "aws:sns/topic:Topic": 256,
    "aws:scheduler/schedule:Schedule": 64,
    "aws:eks/cluster:Cluster": 100,
    # CloudWatch Logs PutDeliverySource / PutDeliveryDestination: names of 1-60 characters.
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": 60,
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": 60,
}
# S3 bucket_prefix: the provider appends 26 characters to it, and bucket names stop at 63.
BUCKET_PREFIX_LIMIT = AWS_NAME_LIMITS["aws:s3/bucket:Bucket"] - 26
SAGEMAKER_ENDPOINT_NAME_LIMIT = 63  # aws-native:sagemaker:Endpoint endpointName

# The longest stack (environment) name: a readable prefix, modelfleet-<env>-, on every name.
STACK_NAME_MAX_LENGTH = 20

# The longest model name. Pulumi auto-names a role ``<logical name>-<7 random>``
# and refuses one over IAM's 64 characters; the longest such name a model gets
# is its execution role, ``platform-<model>-execution-role-xxxxxxx`` (32 + model).
MODEL_NAME_MAX_LENGTH = 32


def prefix(environment: str) -> str:
    """``modelfleet-dev``: the start of every physical name in a stack."""
    return f"{PROJECT}-{environment}"


def name(environment: str, *parts: str, max_length: int = 63) -> str:
    """``modelfleet-<env>-<parts>``, shortened with a stable hash when too long.

    The hash keeps two long names that share a prefix distinct after truncation.
    """
    full = "-".join([prefix(environment), *parts])
    if len(full) <= max_length:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[: max_length - 9].rstrip('-')}-{digest}"


def endpoint(environment: str, model_name: str) -> str:
    """``modelfleet-<env>-<model>``: the SageMaker endpoint, as the stack and the day-2 tools name it."""
    return name(environment, model_name)


def dashboard(environment: str, model_name: str) -> str:
    """A model's CloudWatch dashboard name: the stack exports it and the endpoint component makes it."""
    return name(environment, model_name, max_length=AWS_NAME_LIMITS["aws:cloudwatch/dashboard:Dashboard"])


def log_group(environment: str, *parts: str) -> str:
    """``/modelfleet/<env>/<parts>``: CloudWatch log groups sort by path."""
    return "/" + "/".join([PROJECT, environment, *parts])


def rollout_history_log_group(environment: str) -> str:
    """``/modelfleet/<env>/rollouts``: the stack declares it, and rollout, promote and history use it."""
    return log_group(environment, "rollouts")


def az_suffix(availability_zone: str) -> str:
    """``eu-west-1a`` -> ``a``: keeps per-AZ names short and readable."""
    return availability_zone.rsplit("-", 1)[-1].lstrip("0123456789") or availability_zone
