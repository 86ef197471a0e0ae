"""Engine URNs and the former URNs aliases give (pure)."""

from __future__ import annotations

from infra.plan.model import PlannedResource
from infra.plan.urns import engine_urns, former_urns, urn


def _r(mock_urn: str, type_: str, name: str, parent: str | None, aliases=()) -> PlannedResource:
    return PlannedResource(mock_urn, type_, name, parent, False, {}, aliases=list(aliases))


def test_a_child_of_the_stack_has_no_parent_type_and_nested_ones_the_whole_chain():
    assert urn("dev", "p", None, "a:b:C", "c") == "urn:pulumi:dev::p::a:b:C::c"
    parent = "urn:pulumi:dev::p::a:b:C$d:e:F::f"
    assert urn("dev", "p", parent, "x:y:Z", "z") == "urn:pulumi:dev::p::a:b:C$d:e:F$x:y:Z::z"


def test_a_parents_alias_is_inherited_by_its_children():
    root = _r("m:root", "my:Platform", "platform", None)
    old_parent_urn = "urn:pulumi:dev::p::my:Platform$my:Lb::lb"
    service = _r("m:svc", "my:Service", "svc", "m:root")
    lb = _r("m:lb", "my:Lb", "lb", "m:svc", aliases=[old_parent_urn])
    alb = _r("m:alb", "aws:lb:Alb", "alb", "m:lb")
    resources = [root, service, lb, alb]
    real = engine_urns(resources, "dev", "p")
    assert real["m:alb"] == "urn:pulumi:dev::p::my:Platform$my:Service$my:Lb$aws:lb:Alb::alb"
    former = former_urns(resources, real)
    assert "urn:pulumi:dev::p::my:Platform$my:Lb$aws:lb:Alb::alb" in former["m:alb"]
    assert former["m:root"] == {real["m:root"]}
