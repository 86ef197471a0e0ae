"""Shared fixtures: a valid config to break, and plans of the shipped stacks.

``make test`` runs the suite on every core (``pytest -n auto --dist loadgroup``). The
shipped stacks are then planned once per run for all workers (``tests/plan_cache.py``),
and the sets of files below say which tests must run in one worker. The user's plan
cache is off for the whole run.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.plan import Plan, plan_stack
from infra.plan.cache import ENV as PLAN_CACHE_ENV
from infra.specs.dlc_cache import CACHE_DIR_ENV

# No test reads or writes the user's plan cache (infra/plan/cache.py): every plan is made,
# in this process and in every subprocess a test starts. tests/plan/test_cache.py names
# folders of its own.
os.environ[PLAN_CACHE_ENV] = "off"
from tests.plan_cache import inputs_digest, shared_plans

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_STACKS = ("dev", "staging", "prod")


@pytest.fixture(scope="session", autouse=True)
def disk_cache(tmp_path_factory) -> Iterator[Path]:
    """modelfleet's disk cache (``infra.specs.dlc_cache``) in a folder of this worker's: no test
    reads the user's cache or fills it, and each worker starts cold. Subprocesses inherit it."""
    folder = tmp_path_factory.mktemp("modelfleet-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_DIR_ENV, str(folder))
        yield folder


def stack_settings(stack: str):
    """A shipped stack's settings, loaded as the program loads them."""
    from infra.settings.platform import load_settings
    from infra.stackfiles.read import read_project, read_stack_config

    project = read_project(ROOT)
    return load_settings(stack, read_stack_config(project, project.stack_file(stack)).values)


def valid_config() -> dict[str, Any]:
    """A complete, valid stack config map, as decoded objects."""
    return copy.deepcopy(
        {
            "aws:region": "eu-west-1",
            "modelfleet:tier": "prod",
            "modelfleet:owner": "ml-platform",
            "modelfleet:cost_center": "CC-1",
            "modelfleet:network": {"cidr": "10.30.0.0/16"},
        }
    )


def plan_cache_dir(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run's own, the same for every xdist worker of the run."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:  # no workers: the run's own basetemp
        return tmp_path_factory.getbasetemp() / "shipped-plans"
    # A worker's basetemp is <the run's basetemp>/popen-gwN.
    return tmp_path_factory.getbasetemp().parent / f"shipped-plans-{workerinput['testrunuid']}"


@pytest.fixture(scope="session")
def shipped_plans(request, tmp_path_factory) -> dict[str, Plan]:
    return shared_plans(
        SHIPPED_STACKS,
        plan_cache_dir(request.config, tmp_path_factory),
        inputs_digest(ROOT),
        lambda stack: plan_stack(stack, root=ROOT),
    )


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """``files`` (path under ``root``: text) written under ``root``, folders made: a small project tree."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def copy_project(target: Path) -> Path:
    """Pulumi.yaml and stacks/ copied into ``target``: a project that tests may edit."""
    shutil.copy(ROOT / "Pulumi.yaml", target / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", target / "stacks")
    return target


# Where tests run under pytest-xdist ------------------------------------------------

# Under ``--dist loadgroup`` the tests of these files run in one worker, one after the other;
# every other test goes to whichever worker is free. tests/test_xdist_groups.py checks both sets.

# Servers on a port from free_port(), which binds port 0 and lets the port go before the server
# binds it: in between, another worker could be handed the same port, and a test would then talk
# to that worker's server. All of these files share one worker.
LOOPBACK_GROUP = "loopback-servers"
LOOPBACK_SERVER_FILES = frozenset(
    {
        "tests/model_containers/test_capture_server.py",
        "tests/model_containers/test_invoke_now.py",
        "tests/model_containers/test_server.py",
        "tests/model_containers/test_text_example.py",
        "tests/ops/test_cli_moto_server.py",
        "tests/ops/test_component_load.py",
        "tests/ops/test_loadtest.py",
    }
)

# Fixtures shared by a module's tests, built once rather than once per worker: prod planned with
# 10 and 100 models more, a git clone planned in a subprocess, planned components, the model
# server's app, an edited copy of the project.
MODULE_FIXTURE_FILES = frozenset(
    {
        "tests/components/eks/test_cluster_addons.py",
        "tests/components/eks/test_deploy_runner_access.py",
        "tests/components/eks/test_eks_cluster.py",
        "tests/components/eks/test_eks_model_service.py",
        "tests/components/eks/test_image_mirrors.py",
        "tests/components/eks/test_gpu_node_pool.py",
        "tests/components/eks/test_karpenter.py",
        "tests/components/eks/test_karpenter_interruption_queue.py",
        "tests/components/eks/test_karpenter_node_pool.py",
        "tests/components/eks/test_k8s_model_service.py",
        "tests/components/eks/test_model_load_balancer.py",
        "tests/components/eks/test_node_launch_template.py",
        "tests/components/eks/test_pod_identity.py",
        "tests/components/network/test_flow_logs.py",
        "tests/components/network/test_network.py",
        "tests/components/network/test_vpc_endpoints.py",
        "tests/components/observability/test_alerts_topic.py",
        "tests/components/observability/test_dashboards.py",
        "tests/components/observability/test_drift_monitor.py",
        "tests/components/observability/test_encrypted_log_group.py",
        "tests/components/observability/test_serving_alarms.py",
        "tests/components/sagemaker/test_endpoint_autoscaling.py",
        "tests/components/sagemaker/test_inference_component.py",
        "tests/components/sagemaker/test_model_execution_role.py",
        "tests/components/sagemaker/test_sagemaker_model_endpoint.py",
        "tests/components/sagemaker/test_shadow_variant.py",
        "tests/components/sagemaker/test_shared_endpoint.py",
        "tests/components/security/test_encryption_key.py",
        "tests/components/storage/test_access_log_bucket.py",
        "tests/components/storage/test_data_capture_bucket.py",
        "tests/components/storage/test_private_bucket.py",
        "tests/components/test_platform.py",
        "tests/model_containers/test_parsers.py",
        "tests/model_containers/test_queue_deadline.py",
        "tests/ops/drivers/test_sagemaker.py",
        "tests/ops/test_component_rollout.py",
        "tests/ops/test_history.py",
        "tests/ops/test_progress.py",
        "tests/ops/test_rollout_moto.py",
        "tests/plan/test_diff.py",
        "tests/plan/test_pr_preview.py",
        "tests/plan/test_shadow_stacks.py",
        "tests/specs/test_shadow_specs.py",
    }
)


def xdist_scope(nodeid: str) -> str:
    """The unit of work a test belongs to: its group, or the test alone."""
    file = nodeid.split("::", 1)[0]
    if file in LOOPBACK_SERVER_FILES:
        return LOOPBACK_GROUP
    return file if file in MODULE_FIXTURE_FILES else nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the groups above.

    xdist's own loadgroup reads ``xdist_group`` marks through node ids that pytest 9.2 no
    longer lets it change (pytest-xdist#1386): it would silently schedule like ``load``.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class TableGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return TableGroupScheduling(config, log)
