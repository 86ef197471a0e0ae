"""What a day-2 command acts on: one catalog model of one stack, and its AWS names.

Names come from ``infra.specs.model_record``, the function that builds the stack's
``models`` export, so the tools find the endpoint, variants and alarms from the
stack file alone, without a Pulumi backend or stack outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.settings.catalog import RolloutSettings, SageMakerModel
from infra.settings.platform import SettingsError, load_settings
from infra.specs.model_record import model_record
from infra.stackfiles.read import Project, StackFileError, find_root, read_project, read_stack_config

STABLE, CANARY = "stable", "canary"


class OpsError(Exception):
    """The operation failed, timed out or was refused: exit 1."""


class InvalidInput(Exception):
    """Unknown stack, model or variant, or bad flags: exit 2, nothing touched."""


@dataclass(frozen=True)
class ModelTarget:
    stack: str
    region: str
    model: SageMakerModel
    endpoint_name: str
    variants: tuple[str, ...]
    alarm_names: tuple[str, ...]
    stack_file: Path

    @property
    def rollout(self) -> RolloutSettings:
        return self.model.rollout

    @property
    def has_canary(self) -> bool:
        return CANARY in self.variants

    def require_variant(self, variant: str | None) -> None:
        if variant is not None and variant not in self.variants:
            raise InvalidInput(
                f"model '{self.model.name}' has no variant '{variant}' (variants: {', '.join(self.variants)})"
            )


def load_project(root: Path | None = None) -> Project:
    try:
        return read_project(root or find_root(Path.cwd()))
    except StackFileError as error:
        raise InvalidInput(str(error)) from None


def resolve(
    project: Project,
    stack: str,
    model_name: str,
    stack_file: Path | None = None,
    capability: str = "this command",
) -> ModelTarget:
    """The model's target, or ``InvalidInput`` saying exactly what is unknown or invalid."""
    path = stack_file or project.stack_file(stack)
    if stack_file is None and stack not in project.stacks():
        known = ", ".join(project.stacks()) or "none"
        raise InvalidInput(f"unknown stack '{stack}' (stacks: {known})")
    try:
        settings = load_settings(stack, read_stack_config(project, path).values)
    except (StackFileError, SettingsError) as error:
        raise InvalidInput(str(error)) from None
    models = {m.name: m for m in settings.models}
    model = models.get(model_name)
    if model is None:
        raise InvalidInput(f"stack '{stack}' has no model '{model_name}' (models: {', '.join(models)})")
    if not isinstance(model, SageMakerModel):
        raise InvalidInput(
            f"model '{model_name}' is served by {model.backend}: {capability} supports sagemaker models "
            "only, so far (EKS rollouts are planned)"
        )
    record = model_record(stack, settings.region, model)  # the names the stack exports
    return ModelTarget(
        stack=stack,
        region=settings.region,
        model=model,
        endpoint_name=record["endpoint_name"],
        variants=tuple(record["variants"]),
        alarm_names=tuple(record["alarm_names"]),
        stack_file=path,
    )
