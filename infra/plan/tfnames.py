"""Terraform's names and shapes for Pulumi AWS resources: the one place they are derived.

pulumi-aws is a bridge of the Terraform AWS provider, so each Pulumi token and
property is a mechanical renaming of a Terraform one (``aws:cloudwatch/logGroup:LogGroup``
is ``aws_cloudwatch_log_group``, ``retentionInDays`` is ``retention_in_days``). The
bridge departs from that rule in three ways, each handled here and nowhere else:

- the ec2 module's resources keep Terraform's unprefixed names (``aws:ec2/vpc:Vpc`` is
  ``aws_vpc``), and a few resources were renamed (``TYPE_EXCEPTIONS``);
- a list whose Terraform name is singular is pluralised (``taint`` is ``taints``), which
  no rule can undo, so ``PLURALISED`` lists the ones our stacks use, each checked against
  the bridge's metadata (pulumi-aws ``bridge-metadata.json``, ``renamedProperties``);
- a nested block that holds at most one item is flattened to one object, while a
  Terraform plan keeps every block a list. The installed SDK's property types tell a
  block (an output type) from a map (``Mapping``), so that needs no table.

``make lint`` checks every derived type against checkov's list of Terraform AWS
resource types, so a token the rule gets wrong is caught there, not in a security
review. Nothing here knows about plans; ``tfplan.py`` assembles the document.
"""

from __future__ import annotations

import collections.abc
import importlib
import json
import re
import typing
from functools import cache
from typing import Any

from pulumi import _types as pulumi_types  # the SDK's own reader of its generated types

# Module whose resources Terraform names without the module (aws_vpc, aws_subnet, aws_eip).
UNPREFIXED_MODULES = frozenset({"ec2"})

# Tokens whose Terraform type the rule above does not give.
TYPE_EXCEPTIONS = {
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:alb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:s3/bucketV2:BucketV2": "aws_s3_bucket",
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
}

# Token -> {Pulumi property path (dots, no indexes): Terraform's singular name}.
PLURALISED = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": {"metricQueries": "metric_query"},
    "aws:eks/nodeGroup:NodeGroup": {"taints": "taint"},
    "aws:lb/listener:Listener": {
        "defaultActions": "default_action",
        "defaultActions.forward.targetGroups": "target_group",
    },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {"rules": "rule"},
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
        "rules": "rule"
    },
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": {
        "productionVariants.routingConfigs": "routing_config"
    },
}

_UPPER = re.compile(r"(?<!^)(?=[A-Z])")


class UnknownProperty(ValueError):
    """A recorded property the provider SDK does not declare: the plan and SDK disagree."""


def snake(name: str) -> str:
    """``retentionInDays`` -> ``retention_in_days``; ``cidrIpv4`` -> ``cidr_ipv4``."""
    return _UPPER.sub("_", name).lower()


def tf_type(token: str) -> str:
    """The Terraform resource type of a pulumi-aws token."""
    if token in TYPE_EXCEPTIONS:
        return TYPE_EXCEPTIONS[token]
    package, module_path, class_name = token.split(":")
    if package != "aws":
        raise ValueError(f"{token} is not a pulumi-aws resource")
    module = module_path.split("/")[0]
    prefix = "" if module in UNPREFIXED_MODULES else f"{module}_"
    return f"aws_{prefix}{snake(class_name)}"


@cache
def _resource_class(token: str) -> type:
    _, module_path, class_name = token.split(":")
    module = importlib.import_module(f"pulumi_aws.{module_path.split('/')[0]}")
    return getattr(module, class_name)


def property_types(token: str) -> dict[str, Any]:
    """Pulumi property name -> its type, as the installed pulumi-aws declares it."""
    return pulumi_types.resource_types(_resource_class(token))


def _fields(typ: Any) -> dict[str, Any] | None:
    """The properties of a nested object type, or None when ``typ`` is not one."""
    typ = pulumi_types.unwrap_type(typ)
    if isinstance(typ, type) and pulumi_types.is_output_type(typ):
        return pulumi_types.output_type_types(typ)
    return None


def _origin(typ: Any) -> Any:
    return typing.get_origin(pulumi_types.unwrap_type(typ))


def _element(typ: Any) -> Any:
    args = typing.get_args(pulumi_types.unwrap_type(typ))
    return args[0] if args else Any


def tf_values(token: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A resource's Pulumi inputs as Terraform attribute values (blocks as lists)."""
    return _object(inputs, property_types(token), PLURALISED.get(token, {}), token, "")


def tf_attribute(token: str, name: str) -> str:
    """The Terraform name of a top-level Pulumi property."""
    return PLURALISED.get(token, {}).get(name, snake(name))


def _object(
    value: dict[str, Any], fields: dict[str, Any], renames: dict[str, str], token: str, path: str
) -> dict[str, Any]:
    converted = {}
    for name, item in value.items():
        where = f"{path}.{name}" if path else name
        if name not in fields:
            raise UnknownProperty(f"{token}: {where} is not a property pulumi_aws declares")
        converted[renames.get(where, snake(name))] = _value(item, fields[name], renames, token, where)
    return converted


def _value(value: Any, typ: Any, renames: dict[str, str], token: str, path: str) -> Any:
    fields = _fields(typ)
    if fields is not None and isinstance(value, dict):
        return [_object(value, fields, renames, token, path)]  # a block holding at most one item
    if isinstance(value, list):
        element = _element(typ)
        element_fields = _fields(element)
        if element_fields is not None:
            return [_object(v, element_fields, renames, token, path) for v in value]
        return [_value(v, element, renames, token, path) for v in value]
    if isinstance(value, dict):
        if _origin(typ) in (collections.abc.Mapping, dict):
            return value  # a map: keys are data (tag keys, dimension names), not attributes
        return json.dumps(value, sort_keys=True)  # a document passed as an object, a string in Terraform
    return value
