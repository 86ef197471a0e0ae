"""Teams (``modelfleet:teams``): who each team is in IAM, for what the stack shares with it.

Each listed team gets a model package group in the model registry whose
resource policy lets the team's roles publish, read and approve its versions
(``infra/components/sagemaker/team_model_registry.py``).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from infra.settings.types import Strict


def _role_arn(value: str) -> str:
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", value):
        raise PydanticCustomError(
            "role",
            "must be an IAM role ARN, arn:aws:iam::<account>:role/<name> (got '{got}')",
            {"got": value},
        )
    return value


def _team_name(value: str) -> str:
    # It names the team's model package group: SageMaker's [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}.
    if not re.fullmatch(r"[a-z0-9](-*[a-z0-9]){0,39}", value):
        raise PydanticCustomError(
            "team",
            "team names are 1-40 lowercase letters, digits and '-' (a model package group is named after "
            "them; got '{got}')",
            {"got": value},
        )
    return value


TeamName = Annotated[str, AfterValidator(_team_name)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]


class TeamSettings(Strict):
    """One team's IAM roles: the principals its model package group's policy admits."""

    role_arns: list[RoleArn] = Field(min_length=1, max_length=20, description="the team's IAM roles")
