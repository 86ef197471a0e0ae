"""What a day-2 command acts on: one catalog model of one stack, and the names it is served under.

Names come from ``infra.specs.model_record``, the function that builds the stack's
``models`` export, so the tools find the endpoint, variants and alarms from the
stack file alone, without a Pulumi backend or stack outputs. The model's driver
turns that record into the target, or refuses a capability its backend lacks.

The settings, the drivers and the stack-file reader load when a target is asked
for: command modules import this one while the CLI only builds its parsers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from infra.ops.errors import InvalidInput

if TYPE_CHECKING:
    from infra.ops.drivers.base import ModelTarget
    from infra.settings.catalog import ModelSettings
    from infra.settings.platform import PlatformSettings
    from infra.stackfiles.read import Project


def load_project(root: Path | None = None) -> Project:
    from infra.stackfiles.read import StackFileError, find_root, read_project  # noqa: PLC0415

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
    """The model's target, or ``InvalidInput`` saying exactly what is unknown, invalid or unsupported.

    ``capability`` is what the caller wants to do, named in a backend's refusal.
    """
    from infra.ops.drivers.registry import driver_for  # noqa: PLC0415
    from infra.specs.model_record import model_record  # noqa: PLC0415

    region, model = catalog_model(project, stack, model_name, stack_file)
    record = model_record(stack, region, model)  # the names the stack exports
    path = stack_file or project.stack_file(stack)
    return driver_for(model, record).resolve(stack, region, model, record, path, capability)


def catalog_model(
    project: Project, stack: str, model_name: str, stack_file: Path | None = None
) -> tuple[str, ModelSettings]:
    """The stack's region and the model's validated catalog entry; ``InvalidInput`` naming what is wrong.

    Asks no driver: a command that talks to the model at a URL it is given needs only the entry.
    """
    settings = stack_settings(project, stack, stack_file)
    models = {m.name: m for m in settings.models}
    model = models.get(model_name)
    if model is None:
        raise InvalidInput(f"stack '{stack}' has no model '{model_name}' (models: {', '.join(models)})")
    return settings.region, model


def stack_settings(project: Project, stack: str, stack_file: Path | None = None) -> PlatformSettings:
    """The stack's validated settings; ``InvalidInput`` naming an unknown stack or what is invalid."""
    from infra.settings.platform import SettingsError, load_settings  # noqa: PLC0415
    from infra.stackfiles.read import StackFileError, read_stack_config  # noqa: PLC0415

    path = stack_file or project.stack_file(stack)
    if stack_file is None and stack not in project.stacks():
        known = ", ".join(project.stacks()) or "none"
        raise InvalidInput(f"unknown stack '{stack}' (stacks: {known})")
    try:
        return load_settings(stack, read_stack_config(project, path).values)
    except (StackFileError, SettingsError) as error:
        raise InvalidInput(str(error)) from None
