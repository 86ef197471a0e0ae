"""Judge a checkov report against the project's suppressions: what makes ``make lint`` fail.

checkov can skip a check everywhere (``--skip-check``) but not for one resource of a
Terraform plan, and it keeps no reasons. ``.ci/checkov/suppressions.yaml`` does both,
one entry per check, in one file::

    - check: CKV_AWS_98
      resources: [aws_sagemaker_endpoint_configuration.platform-support-summarizer-config]
      reason: SageMaker refuses a KMS key for instance types with local NVMe storage (...)

``resources`` are glob patterns on checkov's resource id (a Terraform address, or
``Kind.namespace.name`` for a manifest); an optional ``stacks`` list limits an entry
to some stacks, for what a tier decides (dev keeps logs 14 days). The gate fails on:

- a failed check no entry covers;
- an entry without a reason or resources, or whose check id is not checkov's shape;
- an entry whose check checkov did not run, so a mistyped id cannot hide anything;
- an entry that covers no failure any more, so fixed findings lose their suppression;
- a file checkov could not parse, or an exported file it did not scan at all;
- with ``--terraform-types``, a resource type checkov does not know as a Terraform AWS
  type: the export derived a wrong name (``tfnames.TYPE_EXCEPTIONS`` fixes it).

Reasons that start with ``TODO-FIX:`` mark findings whose fix is planned; they are
counted in the summary so they stay visible.

Run as ``python -m infra.plan.scan_gate REPORT SUPPRESSIONS --scanned DIR [--terraform-types FILE]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from infra.plan.export import SUFFIXES, TERRAFORM_PLAN, stack_of

CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
TODO = "TODO-FIX:"


@dataclass(frozen=True)
class Suppression:
    check: str
    resources: tuple[str, ...]
    reason: str
    stacks: tuple[str, ...] = ()  # empty: every stack

    def covers(self, finding: Finding) -> bool:
        return (
            finding.check == self.check
            and (not self.stacks or finding.stack in self.stacks)
            and any(fnmatchcase(finding.resource, p) for p in self.resources)
        )


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str
    file: str
    title: str
    guideline: str = ""

    @property
    def stack(self) -> str | None:
        return stack_of(self.file)


def load_suppressions(path: Path) -> tuple[list[Suppression], list[str]]:
    """The entries of a suppression file, and every problem with them at once."""
    entries = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or []
    suppressions, problems = [], []
    for index, raw in enumerate(entries):
        entry = raw if isinstance(raw, dict) else {}
        check, reason = str(entry.get("check", "")), str(entry.get("reason") or "").strip()
        resources, stacks = entry.get("resources") or [], entry.get("stacks") or []
        where = f"{path.name}[{index}] {check or '(no check)'}"
        if not CHECK_ID.match(check):
            problems.append(f"{where}: check must be a checkov id such as CKV_AWS_18")
        if not reason or reason == TODO:
            problems.append(f"{where}: reason is empty")
        if not isinstance(resources, list) or not resources or not all(isinstance(r, str) for r in resources):
            problems.append(f"{where}: resources must list at least one resource pattern")
            resources = []
        if not isinstance(stacks, list) or not all(isinstance(x, str) for x in stacks):
            problems.append(f"{where}: stacks must be a list of stack names")
            stacks = []
        suppressions.append(Suppression(check, tuple(resources), reason, tuple(stacks)))
    return suppressions, problems


def read_report(data: Any) -> tuple[list[Finding], set[str], set[str], list[str]]:
    """A checkov JSON report as (failed checks, ids of every check run, files scanned, parse errors)."""
    reports = data if isinstance(data, list) else [data]
    failed, ran, files, errors = [], set(), set(), []
    for report in reports:
        results = report.get("results", {})
        for key in ("passed_checks", "failed_checks", "skipped_checks"):
            for result in results.get(key, []):
                ran.add(result["check_id"])
                files.add(Path(result["file_path"]).name)
        for result in results.get("failed_checks", []):
            failed.append(
                Finding(
                    check=result["check_id"],
                    resource=result["resource"],
                    file=Path(result["file_path"]).name,
                    title=result.get("check_name", ""),
                    guideline=result.get("guideline") or "",
                )
            )
        errors += [str(error) for error in results.get("parsing_errors", [])]
    return failed, ran, files, errors


def judge(
    failed: list[Finding], ran: set[str], suppressions: list[Suppression]
) -> tuple[list[Finding], list[str]]:
    """(failures no suppression covers, problems with the suppressions themselves)."""
    open_findings = [f for f in failed if not any(s.covers(f) for s in suppressions)]
    problems = []
    for suppression in suppressions:
        if suppression.check not in ran:
            problems.append(f"{suppression.check}: checkov ran no such check on these files")
        elif not any(suppression.covers(f) for f in failed):
            covered = ", ".join(suppression.resources)
            problems.append(f"{suppression.check} {covered}: covers no failure any more; remove it")
    return open_findings, problems


def unknown_types(scanned: Path, known: set[str]) -> list[str]:
    """``file: type`` for each resource type in the exported plans that is not in ``known``."""
    unknown = []
    for path in sorted(scanned.glob(f"*{SUFFIXES[TERRAFORM_PLAN]}")):
        resources = json.loads(path.read_text(encoding="utf-8"))["planned_values"]["root_module"]["resources"]
        unknown += [f"{path.name}: {t}" for t in sorted({r["type"] for r in resources} - known)]
    return unknown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scan_gate", description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="checkov's JSON report (-o json)")
    parser.add_argument("suppressions", type=Path)
    parser.add_argument("--scanned", type=Path, required=True, help="the directory checkov scanned")
    parser.add_argument("--terraform-types", type=Path, help="Terraform AWS resource types, one a line")
    args = parser.parse_args(argv)

    suppressions, problems = load_suppressions(args.suppressions)
    failed, ran, files, errors = read_report(json.loads(args.report.read_text(encoding="utf-8")))
    open_findings, stale = judge(failed, ran, suppressions)
    problems += stale + [f"checkov could not parse: {error}" for error in errors]
    exported = sorted(p.name for p in args.scanned.iterdir() if stack_of(p.name))
    problems += [f"{name}: checkov checked nothing in it" for name in exported if name not in files]
    if args.terraform_types:
        known = set(args.terraform_types.read_text(encoding="utf-8").split())
        problems += [f"{t} is not a Terraform AWS resource type" for t in unknown_types(args.scanned, known)]

    for f in sorted(open_findings, key=lambda f: (f.file, f.check, f.resource)):
        print(f"FAILED {f.check} {f.resource} ({f.file}): {f.title} {f.guideline}".rstrip())
    for problem in problems:
        print(f"PROBLEM {problem}")
    todo = sum(s.reason.startswith(TODO) for s in suppressions)
    suppressed = len(failed) - len(open_findings)
    print(
        f"checkov: {len(ran)} checks over {len(exported)} files; {len(open_findings)} open, "
        f"{suppressed} suppressed by {len(suppressions)} entries ({todo} {TODO[:-1]})"
    )
    return 1 if open_findings or problems else 0


if __name__ == "__main__":
    sys.exit(main())
