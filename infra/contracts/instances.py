"""SageMaker hosting instance types: what each one has (pure data, no Pulumi).

Validation uses it to reject unknown types with the family's valid sizes;
alarms use the vCPU and GPU counts (SageMaker reports CPU and GPU utilization
summed over cores and devices, so 100 % means one core); endpoint configs use
``local_storage`` because SageMaker refuses a KMS key for instance-store volumes
(those are encrypted by the hardware).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: int
    gpus: int = 0
    gpu_model: str | None = None
    gpu_memory_gib: int = 0  # per GPU
    local_storage: bool = False

    @property
    def family(self) -> str:
        return self.name.rsplit(".", 1)[0]


def _family(family, sizes, gpu_model=None, gpu_memory_gib=0, local_storage=False):
    """sizes: {size: (vcpus, memory GiB, gpus)}"""
    return {
        f"{family}.{size}": InstanceType(
            f"{family}.{size}",
            vcpus,
            memory,
            gpus,
            gpu_model if gpus else None,
            gpu_memory_gib if gpus else 0,
            local_storage,
        )
        for size, (vcpus, memory, gpus) in sizes.items()
    }


_GENERAL = {
    "large": (2, 8, 0),
    "xlarge": (4, 16, 0),
    "2xlarge": (8, 32, 0),
    "4xlarge": (16, 64, 0),
    "12xlarge": (48, 192, 0),
    "24xlarge": (96, 384, 0),
}
_COMPUTE = {
    "large": (2, 4, 0),
    "xlarge": (4, 8, 0),
    "2xlarge": (8, 16, 0),
    "4xlarge": (16, 32, 0),
    "9xlarge": (36, 72, 0),
    "18xlarge": (72, 144, 0),
}
_MEMORY = {
    "large": (2, 16, 0),
    "xlarge": (4, 32, 0),
    "2xlarge": (8, 64, 0),
    "4xlarge": (16, 128, 0),
    "12xlarge": (48, 384, 0),
    "24xlarge": (96, 768, 0),
}
_G5_SHAPE = {
    "xlarge": (4, 16, 1),
    "2xlarge": (8, 32, 1),
    "4xlarge": (16, 64, 1),
    "8xlarge": (32, 128, 1),
    "12xlarge": (48, 192, 4),
    "16xlarge": (64, 256, 1),
    "24xlarge": (96, 384, 4),
    "48xlarge": (192, 768, 8),
}

INSTANCE_TYPES: dict[str, InstanceType] = {
    **_family(
        "ml.t2",
        {"medium": (2, 4, 0), "large": (2, 8, 0), "xlarge": (4, 16, 0), "2xlarge": (8, 32, 0)},
    ),
    **_family("ml.m5", _GENERAL),
    **_family("ml.m5d", _GENERAL, local_storage=True),
    **_family(
        "ml.m6i",
        {**_GENERAL, "8xlarge": (32, 128, 0), "16xlarge": (64, 256, 0), "32xlarge": (128, 512, 0)},
    ),
    **_family("ml.c5", _COMPUTE),
    **_family("ml.c5d", _COMPUTE, local_storage=True),
    **_family(
        "ml.c6i",
        {
            "large": (2, 4, 0),
            "xlarge": (4, 8, 0),
            "2xlarge": (8, 16, 0),
            "4xlarge": (16, 32, 0),
            "8xlarge": (32, 64, 0),
            "16xlarge": (64, 128, 0),
            "32xlarge": (128, 256, 0),
        },
    ),
    **_family("ml.r5", _MEMORY),
    **_family(
        "ml.g4dn",
        {
            "xlarge": (4, 16, 1),
            "2xlarge": (8, 32, 1),
            "4xlarge": (16, 64, 1),
            "8xlarge": (32, 128, 1),
            "12xlarge": (48, 192, 4),
            "16xlarge": (64, 256, 1),
        },
        gpu_model="T4",
        gpu_memory_gib=16,
        local_storage=True,
    ),
    **_family("ml.g5", _G5_SHAPE, gpu_model="A10G", gpu_memory_gib=24, local_storage=True),
    **_family("ml.g6", _G5_SHAPE, gpu_model="L4", gpu_memory_gib=24, local_storage=True),
    **_family(
        "ml.g6e",
        {
            "xlarge": (4, 32, 1),
            "2xlarge": (8, 64, 1),
            "4xlarge": (16, 128, 1),
            "8xlarge": (32, 256, 1),
            "12xlarge": (48, 384, 4),
            "16xlarge": (64, 512, 1),
            "24xlarge": (96, 768, 4),
            "48xlarge": (192, 1536, 8),
        },
        gpu_model="L40S",
        gpu_memory_gib=48,
        local_storage=True,
    ),
    **_family(
        "ml.p4d",
        {"24xlarge": (96, 1152, 8)},
        gpu_model="A100",
        gpu_memory_gib=40,
        local_storage=True,
    ),
    **_family(
        "ml.p4de",
        {"24xlarge": (96, 1152, 8)},
        gpu_model="A100",
        gpu_memory_gib=80,
        local_storage=True,
    ),
    **_family(
        "ml.p5",
        {"48xlarge": (192, 2048, 8)},
        gpu_model="H100",
        gpu_memory_gib=80,
        local_storage=True,
    ),
    # H200s: SageMaker's ProductionVariantInstanceType enum lists both (botocore's model).
    **_family(
        "ml.p5e",
        {"48xlarge": (192, 2048, 8)},
        gpu_model="H200",
        gpu_memory_gib=141,
        local_storage=True,
    ),
    **_family(
        "ml.p5en",
        {"48xlarge": (192, 2048, 8)},
        gpu_model="H200",
        gpu_memory_gib=141,
        local_storage=True,
    ),
}


def lookup(name: str) -> InstanceType | None:
    return INSTANCE_TYPES.get(name)


def families() -> list[str]:
    return sorted({t.family for t in INSTANCE_TYPES.values()})


def sizes_of(family: str) -> list[str]:
    return [t.name for t in INSTANCE_TYPES.values() if t.family == family]


def explain_unknown(name: str) -> str:
    """Why ``name`` is not a hosting instance type, with what would be."""
    family = name.rsplit(".", 1)[0] if name.count(".") == 2 else None
    if family in families():
        return f"is not a size of {family}; use one of {', '.join(sizes_of(family))}"
    return f"is not a SageMaker hosting instance type; families: {', '.join(families())}"
