"""The tier table: every tier is profiled, and what it sets is what a silent stack file gets."""

from __future__ import annotations

from infra.settings.platform import with_tier_defaults
from infra.settings.tiers import TIERS, Tier


def test_every_tier_has_a_profile_with_the_same_keys():
    assert set(TIERS) == set(Tier)
    shapes = {tier: (set(p.stack), set(p.model), p.min_instances >= 1) for tier, p in TIERS.items()}
    assert len({(frozenset(s), frozenset(m)) for s, m, _ in shapes.values()}) == 1
    assert all(ok for _, _, ok in shapes.values())


def test_a_silent_stack_file_takes_its_tiers_values():
    for tier, profile in TIERS.items():
        merged = with_tier_defaults({"modelfleet:tier": tier.value, "modelfleet:models": [{"name": "m"}]})
        assert merged["modelfleet:network"] == profile.stack["modelfleet:network"]
        assert merged["modelfleet:models"][0]["rollout"] == profile.model["rollout"]


def test_prod_keeps_two_instances_at_least():
    assert TIERS[Tier.PROD].min_instances == 2
