"""boto3 loads with the first client, not with the command line."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_the_command_line_starts_without_boto3_and_a_client_brings_it():
    probe = (
        "import sys; import infra.cli.commands; print('boto3' in sys.modules); "
        "from infra.ops.clients import client; client('sagemaker', 'eu-west-1'); print('boto3' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["False", "True"]
