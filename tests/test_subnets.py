from ipaddress import IPv4Network as Net

import pytest

from infra import subnets


def test_largest_first_packing_keeps_input_order_and_alignment():
    got = subnets.allocate(Net("10.0.0.0/16"), [24, 19, 24, 19])
    assert [str(n) for n in got] == ["10.0.64.0/24", "10.0.0.0/19", "10.0.65.0/24", "10.0.32.0/19"]
    assert not subnets.overlapping_pairs(got)


def test_allocation_goes_around_subnets_already_taken():
    taken = [Net("10.0.0.0/24"), Net("10.0.1.0/24")]
    got = subnets.allocate(Net("10.0.0.0/16"), [20, 20], taken=taken)
    assert [str(n) for n in got] == ["10.0.16.0/20", "10.0.32.0/20"]


def test_too_much_address_space_is_refused_with_the_sizes():
    with pytest.raises(subnets.SubnetsDoNotFit, match="need 8192 addresses but 10.0.0.0/20 has 4096"):
        subnets.allocate(Net("10.0.0.0/20"), [21, 21, 21, 21])


def test_fragmented_space_is_refused_even_when_the_total_fits():
    taken = [Net("10.0.0.64/26"), Net("10.0.0.192/26")]  # half the /24 free, but no /25
    with pytest.raises(subnets.SubnetsDoNotFit, match="no free /25 block"):
        subnets.allocate(Net("10.0.0.0/24"), [25], taken=taken)


def test_a_subnet_larger_than_the_vpc_is_refused():
    with pytest.raises(subnets.SubnetsDoNotFit, match="larger than the /20 VPC"):
        subnets.allocate(Net("10.0.0.0/20"), [19])


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
