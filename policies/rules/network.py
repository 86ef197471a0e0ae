"""Security groups: nothing admits the whole internet but HTTPS on a public load
balancer, and every rule says why it exists."""

from __future__ import annotations

from policies.rules._support import as_list, of_type, resource_rule, stack_rule

OPEN = {"0.0.0.0/0", "::/0"}
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
GROUP = "aws:ec2/securityGroup:SecurityGroup"


def _public_lb_groups(resources) -> set[str]:
    balancers = of_type(resources, "aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
    return {
        sg
        for lb in balancers
        if lb.props.get("internal") is not True
        for sg in as_list(lb.props.get("securityGroups"))
    }


def _cidrs(spec) -> set[str]:
    """Source ranges of one ingress rule, in any of the shapes the AWS provider takes."""
    ranges = [spec.get("cidrIpv4"), spec.get("cidrIpv6"), *as_list(spec.get("cidrBlocks"))]
    return {r for r in ranges + as_list(spec.get("ipv6CidrBlocks")) if r}


def _open_rules(resources):
    """(resource, group id, from port, to port) for every rule open to the internet."""
    rules = [(r, r.props) for r in of_type(resources, INGRESS_RULE)]
    rules += [(r, r.props) for r in of_type(resources, LEGACY_RULE) if r.props.get("type") == "ingress"]
    for rule, spec in rules:
        if _cidrs(spec) & OPEN:
            yield rule, spec.get("securityGroupId"), spec.get("fromPort"), spec.get("toPort")
    for group in of_type(resources, GROUP):
        for inline in as_list(group.props.get("ingress")):
            if _cidrs(inline) & OPEN:
                yield group, group.props.get("id"), inline.get("fromPort"), inline.get("toPort")


def _no_open_ingress(resources, _config):
    public = _public_lb_groups(resources)
    for rule, group_id, low, high in _open_rules(resources):
        if low == high == 443 and group_id in public:
            continue
        where = "a public load balancer" if group_id in public else f"security group {group_id}"
        yield (
            f"{rule.name} admits the internet on ports {low}-{high} to {where} "
            "(only 443 on a public load balancer may)",
            rule.urn,
        )


NO_OPEN_INGRESS = stack_rule(
    "no-open-ingress",
    "No security group admits 0.0.0.0/0 or ::/0, except HTTPS (443) on an internet-facing load balancer",
    _no_open_ingress,
)


def _inline_rules_described(props):
    for direction in ("ingress", "egress"):
        for inline in as_list(props.get(direction)):
            if not (inline.get("description") or "").strip():
                low, high = inline.get("fromPort"), inline.get("toPort")
                yield f"inline {direction} rule for ports {low}-{high} has no description"


def _rule_described(props, _config):
    """A rule without a description can't be audited: nobody can tell why it is open."""
    if not (props.get("description") or "").strip():
        yield "security group rule has no description: say what the opening is for"
    yield from _inline_rules_described(props)


def _group_described(props, _config):
    if not (props.get("description") or "").strip():
        yield "security group has no description: say what it guards"
    yield from _inline_rules_described(props)


SECURITY_GROUP_RULE_DESCRIPTION = resource_rule(
    "security-group-rule-description",
    "Every security group and security group rule carries a description",
    {
        INGRESS_RULE: _rule_described,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _rule_described,
        LEGACY_RULE: _rule_described,
        GROUP: _group_described,
    },
)


# ELB security policies whose lowest protocol is TLS 1.2 or 1.3 (ALB user guide, "Security
# policies"); TLS13-1-0/1-1, FS-1-1 and the 2016 policies allow older protocols.
TLS12_POLICY_PREFIXES = (
    "ELBSecurityPolicy-TLS13-1-3",
    "ELBSecurityPolicy-TLS13-1-2",
    "ELBSecurityPolicy-TLS-1-2",
    "ELBSecurityPolicy-FS-1-2",
)


def _https_listener(props, _config):
    """Plain HTTP may only redirect to HTTPS; HTTPS needs a TLS 1.2+ policy."""
    protocol = props.get("protocol")
    if protocol == "HTTP":
        actions = as_list(props.get("defaultActions"))
        redirects = all(
            a.get("type") == "redirect" and (a.get("redirect") or {}).get("protocol") == "HTTPS"
            for a in actions
        )
        if not actions or not redirects:
            yield "HTTP listener serves traffic: plain HTTP may only redirect to HTTPS"
    elif protocol == "HTTPS" and not str(props.get("sslPolicy") or "").startswith(TLS12_POLICY_PREFIXES):
        yield f"HTTPS listener policy {props.get('sslPolicy')} allows TLS below 1.2"


LISTENER_HTTPS = resource_rule(
    "lb-listener-https",
    "Load balancer listeners serve HTTPS with TLS 1.2 or later; plain HTTP only redirects",
    ["aws:lb/listener:Listener", "aws:alb/listener:Listener"],
    _https_listener,
)


def _shared_endpoint_in_vpc(props, _config):
    """An endpoint of inference components puts their network interfaces where its VpcConfig says."""
    if any("modelName" in variant for variant in as_list(props.get("productionVariants"))):
        return  # a model's own endpoint: its Model carries the VPC config
    vpc = props.get("vpcConfig") or {}
    if not as_list(vpc.get("subnets")) or not as_list(vpc.get("securityGroupIds")):
        yield (
            "a shared endpoint's components would run outside the VPC: set vpcConfig with the "
            "private subnets and a security group"
        )


SHARED_ENDPOINT_IN_VPC = resource_rule(
    "sagemaker-shared-endpoint-in-vpc",
    "A shared endpoint's inference components run in the stack's private subnets behind a security group",
    ["aws-native:sagemaker:EndpointConfig"],
    _shared_endpoint_in_vpc,
)

RULES = [NO_OPEN_INGRESS, SECURITY_GROUP_RULE_DESCRIPTION, LISTENER_HTTPS, SHARED_ENDPOINT_IN_VPC]
