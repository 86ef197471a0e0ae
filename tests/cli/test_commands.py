"""The `modelfleet` command as a person runs it."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

import pytest

from infra.cli.commands import EXIT_INVALID_CONFIG, _parser, command_in, main
from tests.conftest import ROOT

THREE_MISTAKES = """\
config:
  aws:region: eu-west-1
  modelfleet:tier: prod
  modelfleet:owner: ml-platform
  modelfleet:cost_center: CC-1
  modelfleet:network:
    cidr: 10.30.0.0/33
    az_count: 9
    nat_stratgy: per_az
"""


def test_plan_prints_the_tree_and_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "plan.json"
    assert main(["plan", "--stack", "prod", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "platform-network-vpc" in printed
    assert "aws:ec2/natGateway:NatGateway" in printed
    data = json.loads(out.read_text())
    assert sum(r["type"] == "aws:ec2/natGateway:NatGateway" for r in data["resources"]) == 3


def test_three_mistakes_are_listed_together_without_a_traceback(tmp_path):
    stack_file = tmp_path / "Pulumi.broken.yaml"
    stack_file.write_text(THREE_MISTAKES)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.cli",
            "plan",
            "--stack",
            "broken",
            "--stack-file",
            str(stack_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == EXIT_INVALID_CONFIG
    assert "Traceback" not in run.stderr + run.stdout
    assert "has 3 configuration problems" in run.stderr
    assert "modelfleet:network.cidr: is not a valid IPv4 CIDR block (got '10.30.0.0/33')" in run.stderr
    assert "modelfleet:network.az_count: must be between 2 and 6 (got 9)" in run.stderr
    assert "modelfleet:network.nat_stratgy: unknown key (did you mean 'nat_strategy'?)" in run.stderr


def test_validate_all_checks_every_shipped_stack(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["validate", "--all"]) == 0
    printed = capsys.readouterr().out
    assert all(f"Pulumi.{s}.yaml" in printed for s in ("dev", "staging", "prod"))


def test_an_unknown_stack_is_an_invalid_config_exit(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["plan", "--stack", "qa"]) == EXIT_INVALID_CONFIG
    assert "Pulumi.qa.yaml: no such file" in capsys.readouterr().err


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every runnable subcommand, found by walking the parser: a new command is covered by itself."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield path, parser
    for group in groups:
        for name, command in group.choices.items():
            yield from leaf_commands(command, (*path, name))


def minimal_argv(command: argparse.ArgumentParser) -> list[str]:
    """The fewest arguments the command parses with: its required flags and positionals.

    A group of alternatives a command's own check requires (loadtest: --url, --endpoint, or a
    model on a shared endpoint) counts as required too: its first alternative is given.
    """
    needed = getattr(command, "checks", None)
    chosen = {
        group._group_actions[0]
        for group in command._mutually_exclusive_groups
        if group.required or (needed and {"--url", "--endpoint"} <= set(_options(group)))
    }
    argv: list[str] = []
    for action in command._actions:
        value = str(action.choices[0]) if action.choices else "x"
        if action.option_strings and (action.required or action in chosen):
            argv += [action.option_strings[-1], value]
        elif not action.option_strings and action.nargs is None:
            argv.append(value)
    return argv


def _options(group: Any) -> list[str]:
    return [option for action in group._group_actions for option in action.option_strings]


COMMANDS = dict(leaf_commands(_parser()))
IDS = [" ".join(path) for path in COMMANDS]


def parse(argv: list[str]) -> argparse.Namespace:
    return _parser().parse_args(argv)


def refused(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        parse(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_the_walk_finds_every_kind_of_command():
    assert {("plan",), ("rollout",), ("promote",), ("prices", "refresh"), ("new-model",)} <= set(COMMANDS)


@pytest.mark.parametrize(("path", "command"), COMMANDS.items(), ids=IDS)
def test_every_command_refuses_unknown_flags_and_arguments_in_every_position(path, command, capsys):
    argv = minimal_argv(command)
    parse([*path, *argv])  # the baseline parses, so each refusal below is about the one addition
    assert "unrecognized arguments: --no-such-flag" in refused([*path, *argv, "--no-such-flag"], capsys)
    assert "unrecognized arguments: --no-such-flag" in refused([*path, "--no-such-flag", *argv], capsys)
    assert "unrecognized arguments: --no-such-flag" in refused(["--no-such-flag", *path, *argv], capsys)
    line = refused([*path, *argv, "stray"], capsys)
    assert "unrecognized arguments: stray" in line or "invalid choice: 'stray'" in line


@pytest.mark.parametrize(("path", "command"), COMMANDS.items(), ids=IDS)
def test_flags_are_spelled_in_full_never_guessed_from_a_prefix(path, command, capsys):
    argv = minimal_argv(command)
    flags = [f for a in command._actions for f in a.option_strings if f.startswith("--") and f != "--help"]
    assert flags
    for flag in flags:
        takes_value = command._option_string_actions[flag].nargs != 0
        prefix = f"{flag[:-1]}=x" if takes_value else flag[:-1]
        assert f"unrecognized arguments: {prefix}" in refused([*path, *argv, prefix], capsys)


MODEL = ["--stack", "dev", "--model", "fraud-scorer"]


@pytest.mark.parametrize(
    ("flags", "named"),
    [(["--skip-smoke"], "--skip-smoke"), (["--force", "--reason", "r"], "--force, --reason")],
)
def test_rollout_abort_refuses_the_flags_that_steer_a_rollout(flags, named, capsys):
    assert parse(["rollout", *MODEL, *flags]).action is None
    assert refused(["rollout", "abort", *MODEL, *flags], capsys) == (
        f"modelfleet rollout: error: rollout abort takes no {named}"
    )


@pytest.mark.parametrize("command", ["rollout", "promote"])
@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--force"], "--force needs --reason '<why, in words>'"),
        (["--force", "--reason", " !? "], "--force needs --reason '<why, in words>'"),
        (["--reason", " !? "], "--reason needs words: it is recorded in the rollout history"),
    ],
)
def test_force_takes_a_reason_in_words_and_a_reason_alone_is_recorded(command, flags, error, capsys):
    assert error in refused([command, *MODEL, *flags], capsys)
    parsed = parse([command, *MODEL, "--force", "--reason", "INC-12 approved"])
    assert (parsed.force, parsed.reason) == (True, "INC-12 approved")
    parsed = parse([command, *MODEL, "--reason", "CHG-88 new weights"])
    assert (parsed.force, parsed.reason) == (False, "CHG-88 new weights")


def test_rollout_abort_takes_a_reason_of_its_own():
    parsed = parse(["rollout", "abort", *MODEL, "--reason", "p99 doubled on the canary"])
    assert (parsed.action, parsed.reason) == ("abort", "p99 doubled on the canary")


@pytest.mark.parametrize(("path", "command"), COMMANDS.items(), ids=IDS)
def test_every_command_is_read_only_or_takes_dry_run(path, command):
    """A command that changes AWS or files previews with --dry-run; only read-only ones may lack it."""
    assert command.read_only != ("--dry-run" in command._option_string_actions)
    if not command.read_only:
        assert parse([*path, *minimal_argv(command), "--dry-run"]).dry_run


def test_prices_refresh_dry_run_fetches_and_writes_nothing(tmp_path, monkeypatch, capsys):
    table = tmp_path / "eu-west-1.json"
    table.write_text(json.dumps({"prices": {"kms:key-month": {"usd": 1.0}, "ec2:t3.large": {"usd": 0.09}}}))
    before = table.read_bytes()
    fresh = {
        "prices": {"kms:key-month": {"usd": 1.0}, "ec2:t3.large": {"usd": 0.1}, "s3:gb-month": {"usd": 0.02}}
    }
    monkeypatch.setattr("infra.plan.prices_refresh.refresh", lambda client, region, previous: (fresh, []))
    assert main(["prices", "refresh", "--region", "eu-west-1", "--out", str(table), "--dry-run"]) == 0
    assert table.read_bytes() == before
    printed = capsys.readouterr().out
    assert "nothing written: 2 of 3 prices would change" in printed and "ec2:t3.large, s3:gb-month" in printed


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["validate", "--all", "--stack", "prod"], "argument --stack: not allowed with argument --all"),
        (
            ["validate", "--all", "--stack-file", "x.yaml"],
            "--stack-file names one stack's file: not with --all",
        ),
        (
            ["loadtest", "--url", "http://127.0.0.1:8080", "--region", "eu-west-1"],
            "--region goes with --endpoint",
        ),
        (
            ["loadtest", "--url", "http://127.0.0.1:8080", "--stack-file", "x.yaml"],
            "--stack-file goes with --stack",
        ),
    ],
)
def test_a_flag_the_command_would_ignore_is_refused(argv, error, capsys):
    assert error in refused(argv, capsys)


def test_export_writes_a_terraform_plan_and_manifests_for_a_stack(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["export", "--stack", "dev", "--out-dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.k8s.yaml", "dev.tfplan.json"]
    document = json.loads((tmp_path / "dev.tfplan.json").read_text())
    assert {"aws_vpc", "aws_eks_cluster"} <= {
        r["type"] for r in document["planned_values"]["root_module"]["resources"]
    }
    assert "dev: " in capsys.readouterr().out


def test_export_of_an_unknown_stack_is_an_invalid_config_exit(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["export", "--stack", "qa", "--out-dir", str(tmp_path)]) == EXIT_INVALID_CONFIG
    assert "Pulumi.qa.yaml: no such file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ cost tokens


def loadtest_report(tmp_path, tokens_per_second: float = 2000.0, instances: int = 1):
    """A `loadtest --json` report of a vLLM run that served ``tokens_per_second`` output tokens."""
    from infra.ops.protocols.client import Exchange
    from infra.ops.runtime_load import LoadRun, summarize

    run = LoadRun(
        [Exchange(200, 1.0, (), 1, 0.05, (0.01,), int(tokens_per_second * 10), 10, "usage")], 10.0, "requests"
    )
    report = summarize(run, url="http://127.0.0.1:8000", runtime="vllm", request="chat", model="qwen",
                       concurrency=8, instances=instances, streamed=True)  # fmt: skip
    path = tmp_path / "loadtest.json"
    path.write_text(json.dumps(report.to_dict()))
    return path


def test_cost_tokens_prices_a_load_tests_tokens_from_the_table(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = loadtest_report(tmp_path)
    argv = [
        "cost",
        "tokens",
        "--result",
        str(result),
        "--instance-type",
        "g6.xlarge",
        "--region",
        "us-east-1",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out.replace("\n", " ")
    usd = 0.8048 / (2000 * 3600) * 1e6
    assert (
        "vllm chat (qwen) at http://127.0.0.1:8000, concurrency 8: 2,000.0 output tokens/s on 1 instance"
        in printed
    )
    assert (
        "g6.xlarge: $0.8048 an hour (ec2:g6.xlarge, us-east-1 on-demand list price of 2026-11-23)" in printed
    )
    assert f"${usd:,.4f} per million output tokens = 1 x $0.8048 / (2,000.0 tokens/s x 3600 s)" in printed


def test_cost_tokens_takes_the_reports_instances_or_the_flags(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = loadtest_report(tmp_path, tokens_per_second=1000, instances=2)
    assert main(["cost", "tokens", "--result", str(result), "--price-per-hour", "3.6"]) == 0
    assert "$2.0000 per million output tokens = 2 x $3.6000" in capsys.readouterr().out
    assert (
        main(["cost", "tokens", "--result", str(result), "--price-per-hour", "3.6", "--instances", "1"]) == 0
    )
    assert "$1.0000 per million output tokens" in capsys.readouterr().out


def test_cost_tokens_in_the_stacks_region_without_that_price_is_exit_2_naming_the_table(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(ROOT)
    result = loadtest_report(tmp_path)
    assert (
        main(["cost", "tokens", "--result", str(result), "--instance-type", "g6.xlarge"]) == 2
    )  # dev: eu-west-1
    assert (
        capsys.readouterr()
        .err.replace("\n", " ")
        .startswith(
            "✗ no price for ec2:g6.xlarge in the eu-west-1 price table of 2026-11-23 (infra/plan/prices/eu-west-1.json)"
        )
    )


def test_cost_tokens_of_a_file_that_is_no_report_is_exit_2(tmp_path, capsys):
    (tmp_path / "plan.json").write_text('{"resources": []}')
    (tmp_path / "broken.json").write_text("{")
    for name, said in [("plan.json", "is not a `modelfleet loadtest --json` report"), ("broken.json", "broken.json:"),
                       ("missing.json", "missing.json:")]:  # fmt: skip
        assert main(["cost", "tokens", "--result", str(tmp_path / name), "--price-per-hour", "1"]) == 2
        assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["cost", "--result", "r.json"], "--result go with `cost tokens`"),
        (
            ["cost", "--stack", "prod", "--instance-type", "g6.xlarge"],
            "--instance-type go with `cost tokens`",
        ),
        (["cost", "tokens", "--instance-type", "g6.xlarge"], "cost tokens needs --result"),
        (["cost", "tokens", "--result", "r.json"], "cost tokens needs --instance-type"),
        (
            ["cost", "tokens", "--result", "r.json", "--price-per-hour", "1", "--lines"],
            "cost tokens takes no --lines",
        ),
    ],
)
def test_cost_and_cost_tokens_refuse_each_others_flags(argv, error, capsys):
    assert error in refused(argv, capsys)


def test_cost_tokens_without_its_result_file_is_one_clear_line(tmp_path, capsys):
    missing = tmp_path / "loadtest.json"
    assert main(["cost", "tokens", "--result", str(missing), "--price-per-hour", "1"]) == 2
    err = capsys.readouterr().err
    assert "loadtest.json: No such file or directory" in err and "Errno" not in err and "Traceback" not in err


# ------------------------------------------------------------------ start-up

# What a command line that only parses (help, a refused flag) must not import: the SDKs,
# the settings' models and the plan engine load when a command runs (docs/performance.md).
HEAVY = ("pulumi", "boto3", "botocore", "sagemaker", "pydantic", "infra.settings.catalog", "infra.plan.cost")
TOP_COMMANDS = sorted(
    next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
)


def imported_by(argv: list[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """The ``heavy`` modules a fresh ``modelfleet <argv>`` has imported by the time it exits."""
    code = (
        "import json, sys\n"
        "from infra.cli.commands import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["rollout", "--help"], [], ["rollout", "--no-such-flag"]])
def test_help_and_refused_flags_import_no_sdk_no_settings_no_engine(argv):
    assert imported_by(argv, (*HEAVY, "rich")) == []  # the console is made after parsing


@pytest.mark.parametrize("command", TOP_COMMANDS)
def test_every_commands_help_imports_no_sdk_no_settings_no_engine(command):
    assert imported_by([command, "--help"]) == []


def test_a_command_lines_parser_lists_every_command_as_the_full_parser_does():
    """Only diff's and drift's parsers are left out when another command runs: their summaries stay."""
    full = _parser().format_help()
    for command in ("", "rollout", "validate", "diff", "drift"):
        assert _parser(command).format_help() == full


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--help"], ""),
        ([], ""),
        (["diff", "--all"], "diff"),
        (["--no-such-flag", "rollout", "abort"], "rollout"),
    ],
)
def test_the_command_a_line_names_is_its_first_word_that_is_not_a_flag(argv, command):
    assert command_in(argv) == command


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["history", "--stack", "dev", "--last", "0"], "argument --last: at least 1"),
        (["history", "--stack", "dev", "--last", "two"], "argument --last: a whole number, not 'two'"),
    ],
)
def test_a_count_is_a_whole_number_of_at_least_one(argv, error, capsys):
    assert error in refused(argv, capsys)
