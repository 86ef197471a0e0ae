"""Reservations against instances, and packing minimum copies (pure)."""

from __future__ import annotations

from infra.contracts import instances
from infra.specs import component_fit
from infra.specs.component_fit import Reservation

G5_12XL = instances.lookup("ml.g5.12xlarge")
GPU_COPY = Reservation("llm", 1, 8, 49_152)
CPU_COPY = Reservation("router", 0, 2, 4096)


def test_an_instance_offers_its_gpus_and_vcpus_and_nine_tenths_of_its_memory():
    host = component_fit.host_capacity(G5_12XL)
    assert (host.accelerators, host.cpu_cores, host.memory_mib) == (4, 48, int(192 * 1024 * 0.9))


def test_each_part_of_a_reservation_is_checked_on_its_own():
    too_big = Reservation("big", 8, 96, 200_000)
    keys = [key for key, _ in component_fit.reservation_problems(too_big, G5_12XL)]
    assert keys == ["accelerators", "cpu_cores", "memory_mib"]
    assert component_fit.reservation_problems(GPU_COPY, G5_12XL) == []


def test_copies_pack_whole_onto_instances():
    host = component_fit.host_capacity(G5_12XL)
    assert component_fit.pack([GPU_COPY] * 3 + [CPU_COPY] * 6, host, 1) == []
    # 4 x 48 GiB is more than the 172.8 GiB on offer, though the instance has 4 GPUs.
    assert component_fit.pack([GPU_COPY] * 4, host, 1) == [GPU_COPY]
    assert component_fit.pack([GPU_COPY] * 6, host, 2) == []
    small = Reservation("small", 1, 4, 8192)
    assert component_fit.pack([small] * 5, host, 1) == [small]  # the fifth finds no GPU


def test_no_instance_holds_no_copy():
    assert component_fit.minimum_fit_problem([(GPU_COPY, 0), (CPU_COPY, 0)], G5_12XL, 0) is None
    problem = component_fit.minimum_fit_problem([(GPU_COPY, 1)], G5_12XL, 0)
    assert problem is not None and "leave copies of llm unplaced" in problem


def test_a_copys_share_is_its_scarcest_reservation():
    assert component_fit.copy_share(GPU_COPY, G5_12XL) == 49_152 / 176_947  # memory, above 1 of 4 GPUs
    assert component_fit.copy_share(Reservation("g", 1, 4, 8192), G5_12XL) == 0.25  # one of four GPUs
    assert round(component_fit.copy_share(CPU_COPY, G5_12XL), 4) == round(2 / 48, 4)  # vCPUs
    assert component_fit.copy_share(Reservation("all", 8, 96, 10**7), G5_12XL) == 1.0
