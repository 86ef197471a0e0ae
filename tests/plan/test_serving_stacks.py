"""The shipped stacks' serving layer, per tier."""

from __future__ import annotations

import json

import pytest

ENDPOINT = "aws-native:sagemaker:Endpoint"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SHARED_CONFIG = "aws-native:sagemaker:EndpointConfig"  # a shared endpoint's: its variant names no model
SCHEDULED = "aws:appautoscaling/scheduledAction:ScheduledAction"


def routing_types(plan) -> set[str]:
    return {
        e.inputs["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"]
        for e in plan.of_type(ENDPOINT)
        if "deploymentConfig" in e.inputs
    }


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_each_stack_serves_two_models_one_with_a_live_canary(shipped_plans, stack):
    plan = shipped_plans[stack]
    assert len(plan.of_type(ENDPOINT)) >= 2
    variants = [{v["variantName"]: v["initialVariantWeight"] for v in c.inputs["productionVariants"]}
                for c in plan.of_type(CONFIG)]  # fmt: skip
    assert any(v.get("canary", 0) > 0 for v in variants)
    outputs = plan.outputs["models"]
    for entry in outputs.values():
        assert entry["alarm_names"] and "stable" in entry["variants"]
        if entry["backend"] == "sagemaker":
            assert entry["endpoint_name"].startswith(f"modelfleet-{stack}-")
            assert entry["dashboard"]["url"].startswith(
                "https://eu-west-1.console.aws.amazon.com/cloudwatch/"
            )


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_models_export_names_what_the_stack_created(shipped_plans, stack):
    """One record per model, both backends; its names are the deployed resources' names."""
    plan = shipped_plans[stack]
    records = plan.outputs["models"]
    alarms = {a.inputs["name"] for a in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    endpoints = {e.inputs["endpointName"] for e in plan.of_type(ENDPOINT)}
    assert {r["backend"] for r in records.values()} == {"sagemaker", "eks"}
    for name, record in records.items():
        assert set(record["alarm_names"]) <= alarms, name
        if record["backend"] == "sagemaker":
            assert record["endpoint_name"] in endpoints
            assert record["invoke_url"].endswith(f"/endpoints/{record['endpoint_name']}/invocations")
        else:
            assert record["invoke_url"].startswith("https://") and record["load_balancer_dns"]
    assert "eks_models" not in plan.outputs


def test_prod_runs_at_least_two_instances_per_variant(shipped_plans):
    prod = shipped_plans["prod"]
    own, shared = prod.of_type(CONFIG), prod.of_type(SHARED_CONFIG)
    assert own and shared  # models on endpoints of their own, and a shared endpoint
    for config in own:
        for variant in config.inputs["productionVariants"]:
            assert variant["initialInstanceCount"] >= 2, (config.name, variant["variantName"])
    for config in shared:
        for variant in config.inputs["productionVariants"]:
            scaling = variant["managedInstanceScaling"]
            assert "modelName" not in variant and scaling["status"] == "ENABLED", config.name
            assert scaling["minInstanceCount"] >= 2, (config.name, variant["variantName"])  # AZ resilience


def test_guardrails_tighten_with_the_tier(shipped_plans):
    assert routing_types(shipped_plans["dev"]) == {"ALL_AT_ONCE"}
    assert routing_types(shipped_plans["staging"]) == {"LINEAR"}
    assert routing_types(shipped_plans["prod"]) == {"CANARY"}


def test_prod_captures_data_and_is_never_scaled_down_off_hours(shipped_plans):
    from tests.conftest import stack_settings

    prod = shipped_plans["prod"]
    capturing = {
        m.name for m in stack_settings("prod").sagemaker_models if m.data_capture.sampling_percent > 0
    }
    configs = {c.tags.get("model"): c for c in prod.of_type(CONFIG)}
    assert capturing and capturing <= set(
        configs
    )  # placed models cannot capture: they have no config of their own
    for model in capturing:
        assert configs[model].inputs["dataCaptureConfig"]["enableCapture"], model
    assert all("dataCaptureConfig" not in c.inputs for c in prod.of_type(SHARED_CONFIG))
    assert prod.of_type(SCHEDULED) == []
    assert shipped_plans["dev"].of_type(SCHEDULED)  # dev sleeps at night
    assert shipped_plans["staging"].of_type(SCHEDULED)


def test_every_bucket_is_private_versioned_encrypted_and_tls_only(shipped_plans):
    prod = shipped_plans["prod"]
    buckets = prod.of_type("aws:s3/bucket:Bucket")
    assert len(buckets) == 2  # data capture and load balancer access logs

    def of(type_, bucket):
        (found,) = [r for r in prod.of_type(type_) if r.inputs["bucket"] == bucket.id]
        return found

    for bucket in buckets:
        assert bucket.protect and bucket.inputs["forceDestroy"] is False
        block = of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
        assert all(
            block.inputs[k]
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
        versioning = of("aws:s3/bucketVersioning:BucketVersioning", bucket)
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        sse = of(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", bucket
        )
        rule = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        assert rule["sseAlgorithm"] == "aws:kms" and rule["kmsMasterKeyId"].startswith("arn:aws:kms:")
        policy = of("aws:s3/bucketPolicy:BucketPolicy", bucket)
        assert json.loads(policy.inputs["policy"])["Statement"][0]["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}
        }


def test_load_balancers_serve_https_only_and_log_to_the_kms_bucket(shipped_plans):
    for stack, plan in shipped_plans.items():
        listeners = plan.of_type("aws:lb/listener:Listener")
        assert listeners and all(
            listener.inputs["protocol"] == "HTTPS"
            and listener.inputs["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
            and listener.inputs["certificateArn"].startswith("arn:aws:acm:")
            for listener in listeners
        ), stack
        balancers = plan.of_type("aws:lb/loadBalancer:LoadBalancer")
        sources = plan.of_type("aws:cloudwatch/logDeliverySource:LogDeliverySource")
        assert sorted(s.inputs["resourceArn"] for s in sources) == sorted(b.outputs["arn"] for b in balancers)
        assert {s.inputs["logType"] for s in sources} == {"ALB_ACCESS_LOGS"}
        (destination,) = plan.of_type("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
        deliveries = plan.of_type("aws:cloudwatch/logDelivery:LogDelivery")
        assert [d.inputs["deliveryDestinationArn"] for d in deliveries] == [destination.outputs["arn"]] * len(
            sources
        )
        ingress = [r.inputs for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r.name.endswith("-in-80")]  # fmt: skip
        assert ingress == [], stack  # internal load balancers have no plain-HTTP listener at all


def test_alarm_topic_is_encrypted_and_only_this_accounts_alarms_may_publish(shipped_plans):
    prod = shipped_plans["prod"]
    (topic,) = prod.of_type("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    (policy,) = prod.of_type("aws:sns/topicPolicy:TopicPolicy")
    statement = json.loads(policy.inputs["policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    (subscription,) = prod.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["endpoint"] == "ml-platform-oncall@example.com"
    key = next(k for k in prod.of_type("aws:kms/key:Key") if k.name == "platform-alerts-kms-key")
    service = json.loads(key.inputs["policy"])["Statement"][1]
    assert service["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_every_alarm_in_every_stack_has_an_action(shipped_plans):
    for plan in shipped_plans.values():
        for alarm in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
            assert alarm.inputs["alarmActions"], alarm.name


def test_dev_serverless_model_has_no_autoscaling(shipped_plans):
    dev = shipped_plans["dev"]
    targets = [t.inputs["resourceId"] for t in dev.of_type("aws:appautoscaling/target:Target")]
    assert targets and not any("churn-predictor" in t for t in targets)
    churn = next(c for c in dev.of_type(CONFIG) if c.name == "platform-churn-predictor-config")
    assert churn.inputs["productionVariants"][0]["serverlessConfig"]["memorySizeInMb"] == 2048
