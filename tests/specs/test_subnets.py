from ipaddress import IPv4Network as Net

import pytest

from infra.specs import subnets


def test_private_slots_count_up_from_the_bottom():
    got = subnets.per_az_slots(Net("10.0.0.0/16"), 19, 3)
    assert [str(n) for n in got] == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]


def test_public_slots_count_down_from_the_top():
    got = subnets.per_az_slots(Net("10.0.0.0/16"), 24, 2, from_top=True)
    assert [str(n) for n in got] == ["10.0.255.0/24", "10.0.254.0/24"]


def test_a_slot_never_moves_when_more_are_asked_for():
    assert subnets.per_az_slots(Net("10.0.0.0/16"), 20, 6)[:2] == subnets.per_az_slots(
        Net("10.0.0.0/16"), 20, 2
    )


def test_more_subnets_than_slots_is_refused():
    with pytest.raises(subnets.SubnetsDoNotFit, match="10.0.0.0/20 has room for 2 /21 subnets, not 3"):
        subnets.per_az_slots(Net("10.0.0.0/20"), 21, 3)


def test_a_subnet_larger_than_the_vpc_is_refused():
    with pytest.raises(subnets.SubnetsDoNotFit, match="larger than the /20 VPC"):
        subnets.per_az_slots(Net("10.0.0.0/20"), 19, 1)


def test_overlapping_pairs_lists_every_pair():
    nets = [Net("10.0.0.0/16"), Net("10.0.1.0/24"), Net("10.1.0.0/24"), Net("10.0.1.0/25")]
    assert subnets.overlapping_pairs(nets) == [(0, 1), (0, 3), (1, 3)]


@pytest.mark.parametrize(
    ("cidr", "private"),
    [("10.9.0.0/16", True), ("172.31.0.0/16", True), ("192.168.4.0/24", True),
     ("172.32.0.0/16", False), ("100.64.0.0/16", False), ("8.8.8.0/24", False)],
)  # fmt: skip
def test_rfc1918(cidr, private):
    assert subnets.is_rfc1918(Net(cidr)) is private
