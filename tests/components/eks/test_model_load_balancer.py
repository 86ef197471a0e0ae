"""ModelLoadBalancer under Pulumi's mocks: an HTTPS-only ALB splitting traffic by weight, with logs and alarms."""

from __future__ import annotations

import pytest

from infra.components.eks.model_load_balancer import (
    ACCESS_LOG_TYPE,
    ROLLOUT_OWNED,
    TLS_POLICY,
    ModelLoadBalancer,
    ModelLoadBalancerArgs,
)
from infra.contracts import serving
from infra.settings.catalog import parse_model
from infra.specs import alarm_specs
from tests.components.support import ACCOUNT, TAGS, Recorded, by_name, known, outside, record_component
from tests.settings.test_catalog import model

COMPONENT = "modelfleet:eks:ModelLoadBalancer"
ALB = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
WAF = "aws:wafv2/webAclAssociation:WebAclAssociation"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LABEL = "modelfleet-test-doc-embedder"
CERTIFICATE = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
WEB_ACL = f"arn:aws:wafv2:eu-west-1:{ACCOUNT}:regional/webacl/edge/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
DESTINATION = f"arn:aws:logs:eu-west-1:{ACCOUNT}:delivery-destination:modelfleet-test-lb-access-logs"
PRIVATE = ["subnet-private-a", "subnet-private-b"]
PUBLIC = ["subnet-public-a", "subnet-public-b"]
SETTINGS = parse_model(model(name="doc-embedder", backend="eks", eks={"pool": "g5"}), region="eu-west-1")


def build(internet_facing: bool = False, **changes) -> Recorded:
    fields = {
        "label": LABEL,
        "access_log_source_name": LABEL,
        "vpc_id": known("vpc-1"),
        "vpc_cidr": "10.20.0.0/16",
        "private_subnet_ids": [known(s) for s in PRIVATE],
        "public_subnet_ids": [known(s) for s in PUBLIC],
        "weights": {"stable": 90, "canary": 10},
        "alarm_specs": alarm_specs.load_balancer_alarms("test", SETTINGS, LABEL),
        "topic_arn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:modelfleet-test-alarms",
        "tags": TAGS,
        "certificate_arn": CERTIFICATE,
        "access_log_destination_arn": known(DESTINATION),
        "cluster_name": known("modelfleet-test"),
        "internet_facing": internet_facing,
        "waf_acl_arn": WEB_ACL if internet_facing else None,
        **changes,
    }
    return record_component(lambda: ModelLoadBalancer("doc-lb", ModelLoadBalancerArgs(**fields)))


@pytest.fixture(scope="module")
def internal() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def public() -> Recorded:
    return build(internet_facing=True)


def test_what_an_internal_balancer_declares_all_inside_the_component(internal):
    plan, root = internal.plan, internal.component(COMPONENT)
    assert outside(plan, root) == []
    counts = plan.counts()
    assert counts[ALB] == 1 and counts[GROUP] == 1
    assert counts[TARGET_GROUP] == 2  # one per variant
    assert counts[LISTENER] == 1  # HTTPS only: no plain-HTTP listener inside the VPC
    assert counts[INGRESS] == counts[EGRESS] == 1
    assert counts[SOURCE] == counts[DELIVERY] == 1
    assert counts[WAF] == 0
    assert counts[ALARM] == 8
    alarms = plan.get("modelfleet:observability:ServingAlarms", "doc-lb-alarms")
    assert alarms.parent == root.urn
    assert {a.parent for a in plan.of_type(ALARM)} == {alarms.urn}
    assert {r.parent for r in plan.resources if r.custom and r.type != ALARM} == {root.urn}


def test_internal_alb_in_private_subnets_drops_invalid_headers(internal):
    alb = internal.plan.get(ALB, "doc-lb-alb").inputs
    assert alb["loadBalancerType"] == "application"
    assert alb["internal"] is True
    assert alb["subnets"] == PRIVATE
    assert alb["securityGroups"] == [internal.plan.get(GROUP, "doc-lb-sg").id]
    assert alb["dropInvalidHeaderFields"] is True
    assert alb["enableDeletionProtection"] is False
    assert len(alb["namePrefix"]) <= 6  # the most ELB's name_prefix takes
    assert alb["tags"] == {**TAGS, "Name": f"{LABEL}-lb"}


def test_internal_group_admits_https_from_the_vpc_and_reaches_pods_on_the_serving_port(internal):
    group = internal.plan.get(GROUP, "doc-lb-sg")
    (ingress,) = internal.plan.of_type(INGRESS)
    assert ingress.inputs["securityGroupId"] == group.id
    assert (ingress.inputs["ipProtocol"], ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )
    assert ingress.inputs["cidrIpv4"] == "10.20.0.0/16"
    (egress,) = internal.plan.of_type(EGRESS)
    assert egress.inputs["securityGroupId"] == group.id
    assert (
        (egress.inputs["fromPort"], egress.inputs["toPort"]) == (serving.PORT, serving.PORT) == (8080, 8080)
    )
    assert egress.inputs["cidrIpv4"] == "10.20.0.0/16"
    assert group.inputs["vpcId"] == "vpc-1" and group.inputs["revokeRulesOnDelete"] is True


def test_one_ip_target_group_per_variant_health_checked_on_the_contract_path(internal):
    groups = by_name(internal.plan, TARGET_GROUP)
    assert set(groups) == {"doc-lb-stable", "doc-lb-canary"}
    for variant in ("stable", "canary"):
        inputs = groups[f"doc-lb-{variant}"].inputs
        assert inputs["targetType"] == "ip"  # pods, registered by TargetGroupBinding
        assert (inputs["protocol"], inputs["port"]) == ("HTTP", 8080)
        assert inputs["vpcId"] == "vpc-1"
        assert inputs["deregistrationDelay"] == 30
        health = inputs["healthCheck"]
        assert (health["path"], health["matcher"]) == (serving.HEALTH_PATH, "200")
        assert health["interval"] == 10 and health["healthyThreshold"] == 2
        # The controller may register pods only in target groups tagged for its cluster.
        assert inputs["tags"]["elbv2.k8s.aws/cluster"] == "modelfleet-test"
        assert inputs["tags"]["variant"] == variant
        assert inputs["tags"]["Name"] == f"{LABEL}-{variant}"
        assert len(inputs["namePrefix"]) <= 6


def test_https_listener_uses_tls_1_2_or_later_the_certificate_and_the_weights(internal):
    (listener,) = internal.plan.of_type(LISTENER)
    inputs = listener.inputs
    assert inputs["loadBalancerArn"] == internal.plan.get(ALB, "doc-lb-alb").outputs["arn"]
    assert (inputs["protocol"], inputs["port"]) == ("HTTPS", 443)
    assert inputs["sslPolicy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert inputs["certificateArn"] == CERTIFICATE
    (action,) = inputs["defaultActions"]
    assert action["type"] == "forward"
    groups = {g.outputs["arn"]: g.name for g in internal.plan.of_type(TARGET_GROUP)}
    split = {groups[t["arn"]]: t["weight"] for t in action["forward"]["targetGroups"]}
    assert split == {"doc-lb-stable": 90, "doc-lb-canary": 10}


def test_pulumi_up_leaves_the_listeners_split_to_the_rollout(internal):
    """The forward action's target groups and weights: a pulumi up during or after a rollout neither
    puts the stack file's weights back nor drops the canary (docs/operations.md, "EKS models")."""
    (listener,) = internal.plan.of_type(LISTENER)
    assert listener.ignore_changes == ROLLOUT_OWNED == ["defaultActions[0].forward.targetGroups"]
    # The path names the inputs the engine compares: defaultActions[0].forward.targetGroups[*].weight.
    (action,) = listener.inputs["defaultActions"]
    assert all("weight" in group for group in action["forward"]["targetGroups"])
    others = [r for r in internal.plan.resources if r.type != LISTENER and r.ignore_changes]
    assert others == []  # nothing else the stack owns is left to the rollout


def test_a_header_pins_each_variant_whatever_the_split(internal):
    groups = {g.tags["variant"]: g.outputs["arn"] for g in internal.plan.of_type(TARGET_GROUP)}
    (listener,) = internal.plan.of_type(LISTENER)
    rules = {r.name: r.inputs for r in internal.plan.of_type(RULE)}
    assert set(rules) == {"doc-lb-pin-stable", "doc-lb-pin-canary"}
    assert sorted(r["priority"] for r in rules.values()) == [1, 2]
    for variant, group in groups.items():
        rule = rules[f"doc-lb-pin-{variant}"]
        assert rule["listenerArn"] == listener.outputs["arn"]
        assert rule["actions"] == [{"type": "forward", "targetGroupArn": group}]
        header = {"httpHeaderName": serving.VARIANT_HEADER, "values": [variant]}
        assert rule["conditions"] == [{"httpHeader": header}]
        assert serving.VARIANT_HEADER == "X-Modelfleet-Variant"


def test_access_logs_are_delivered_to_the_stacks_destination(internal):
    source = internal.plan.get(SOURCE, "doc-lb-access-logs").inputs
    assert source["logType"] == ACCESS_LOG_TYPE == "ALB_ACCESS_LOGS"
    assert source["resourceArn"] == internal.plan.get(ALB, "doc-lb-alb").outputs["arn"]
    assert source["name"] == LABEL
    delivery = internal.plan.get(DELIVERY, "doc-lb-access-logs").inputs
    assert delivery["deliverySourceName"] == LABEL
    assert delivery["deliveryDestinationArn"] == DESTINATION


def test_alarms_watch_this_balancers_target_groups(internal):
    alb = internal.plan.get(ALB, "doc-lb-alb")
    groups = {g.tags["variant"]: g.outputs["arnSuffix"] for g in internal.plan.of_type(TARGET_GROUP)}
    for alarm in internal.plan.of_type(ALARM):
        inputs = alarm.inputs
        dimensions = inputs.get("dimensions") or inputs["metricQueries"][0]["metric"]["dimensions"]
        variant = "stable" if "-stable-" in inputs["name"] else "canary"
        assert dimensions == {"LoadBalancer": alb.outputs["arnSuffix"], "TargetGroup": groups[variant]}


def test_internet_facing_sits_in_public_subnets_redirects_http_and_may_use_waf(public):
    alb = public.plan.get(ALB, "doc-lb-alb").inputs
    assert alb["internal"] is False
    assert alb["subnets"] == PUBLIC
    rules = {r.inputs["fromPort"]: r.inputs["cidrIpv4"] for r in public.plan.of_type(INGRESS)}
    assert rules == {443: "0.0.0.0/0", 80: "0.0.0.0/0"}
    listeners = {r.inputs["port"]: r.inputs for r in public.plan.of_type(LISTENER)}
    assert set(listeners) == {443, 80}
    assert listeners[443]["sslPolicy"] == TLS_POLICY
    assert listeners[80]["protocol"] == "HTTP"
    assert listeners[80]["defaultActions"] == [
        {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}}
    ]
    (waf,) = public.plan.of_type(WAF)
    assert waf.inputs == {
        "resourceArn": public.plan.get(ALB, "doc-lb-alb").outputs["arn"],
        "webAclArn": WEB_ACL,
    }
    assert waf.parent == public.component(COMPONENT).urn


def test_deletion_protection_is_passed_through():
    alb = build(deletion_protection=True).plan.get(ALB, "doc-lb-alb").inputs
    assert alb["enableDeletionProtection"] is True


def test_a_single_variant_forwards_everything_to_its_group():
    specs = [s for s in alarm_specs.load_balancer_alarms("test", SETTINGS, LABEL) if s.variant == "stable"]
    recorded = build(weights={"stable": 100}, alarm_specs=specs)
    assert [g.name for g in recorded.plan.of_type(TARGET_GROUP)] == ["doc-lb-stable"]
    (listener,) = recorded.plan.of_type(LISTENER)
    (target,) = listener.inputs["defaultActions"][0]["forward"]["targetGroups"]
    assert target == {"arn": recorded.plan.get(TARGET_GROUP, "doc-lb-stable").outputs["arn"], "weight": 100}


def test_registers_the_dns_name(internal):
    alb = internal.plan.get(ALB, "doc-lb-alb")
    assert internal.outputs_of(internal.component(COMPONENT)) == {"dns_name": alb.outputs["dnsName"]}
