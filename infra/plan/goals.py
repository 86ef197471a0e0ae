"""The performance goals ``make bench-plan`` and ``make bench-cli`` report against, in one place.

Seconds of wall time unless named otherwise (docs/performance.md says what each is
for). A benchmark prints a goal beside its figure and never fails on a miss. This
module imports nothing, so the command-line benchmark reads it without loading the
plan engine.
"""

from __future__ import annotations

HELP_GOAL = 0.25  # `modelfleet --help` and `modelfleet rollout --help`
VALIDATE_GOAL = 0.6  # `modelfleet validate --stack prod`
PLAN_GOALS = {10: 1.5, 100: 5.0}  # the offline plan of prod with N generated models
# time(100 models) / time(10 models), a plain number. Linear growth gives about the
# resources' own ratio (6.7 on these stacks), so the benches print that beside it.
PLAN_RATIO_GOAL = 4.0
DIFF_GOAL = 5.0  # `modelfleet diff --all`
NEW_MODEL_GOAL = 3.0  # the README's `new-model --dry-run` example

# The README's example: a model added to dev, sized from its SLO, checked and previewed.
NEW_MODEL = (
    "new-model --stack dev --name fraud-v2 --team risk --backend sagemaker --framework xgboost:1.7-1 "
    "--artifact s3://acme-ml-artifacts-dev/fraud-v2/v1/model.tar.gz --instance-type ml.c5.xlarge "
    "--p99-ms 100 --peak-rps 50 --dry-run"
)
