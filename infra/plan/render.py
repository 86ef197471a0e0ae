"""Show a Plan to a person: a resource tree, counts per type, stack outputs."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from infra.plan import costtext
from infra.plan.cost import CostReport, unpriced_region
from infra.plan.model import Plan, PlannedResource
from infra.plan.policy import PolicyReport

# Inputs worth a glance in the tree, in the order they are shown (wire names).
HINT_KEYS = (
    "cidrBlock",
    "availabilityZone",
    "serviceName",
    "destinationCidrBlock",
    "name",
    "retentionInDays",
    "trafficType",
    "instanceType",
)


def _label(resource: PlannedResource) -> Text:
    text = Text(resource.name, style="bold" if not resource.custom else "")
    text.append(f"  {resource.type}", style="dim" if resource.custom else "cyan")
    hints = [str(resource.inputs[k]) for k in HINT_KEYS if resource.inputs.get(k) not in (None, "")]
    if hints:
        text.append(f"  {' · '.join(hints)}", style="green")
    if resource.protect:
        text.append("  [protected]", style="yellow")
    return text


def tree(plan: Plan) -> Tree:
    root = Tree(Text(f"{plan.project}-{plan.stack}  pulumi:pulumi:Stack", style="bold magenta"))

    def add(branch: Tree, parent: str | None) -> None:
        kids = sorted(plan.children(parent), key=lambda r: (r.custom, r.type, r.name))
        for kid in kids:
            add(branch.add(_label(kid)), kid.urn)

    add(root, None)
    return root


def counts_table(plan: Plan) -> Table:
    table = Table(title="Resources by type", title_justify="left", show_edge=False)
    table.add_column("type")
    table.add_column("count", justify="right")
    for type_token, count in sorted(plan.counts().items()):
        table.add_row(type_token, str(count))
    table.add_section()
    table.add_row("total", str(sum(plan.counts().values())), style="bold")
    return table


def outputs_table(plan: Plan) -> Table:
    table = Table(title="Stack outputs", title_justify="left", show_edge=False)
    table.add_column("name")
    table.add_column("value", overflow="fold")
    for name, value in plan.outputs.items():
        table.add_row(name, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
    return table


def summary(plan: Plan) -> Text:
    components = len(plan.resources) - len(plan.custom_resources)
    return Text.assemble(
        ("Stack ", ""),
        (plan.stack, "bold"),
        (f" ({plan.region}): {len(plan.custom_resources)} resources, ", ""),
        (f"{components} components, {len(plan.invokes)} lookups", ""),
    )


def render(plan: Plan, console: Console, *, show_tree: bool = True) -> None:
    parts = [tree(plan)] if show_tree else []
    parts += [Text(), counts_table(plan), Text(), outputs_table(plan)]
    for diagnostic in plan.diagnostics:
        parts.append(Text(f"{diagnostic.severity}: {diagnostic.message}", style="yellow"))
    parts += [Text(), summary(plan)]
    console.print(Group(*parts))


def policy_table(report: PolicyReport) -> Table:
    """Violations, mandatory first: what blocks ``pulumi up`` reads before what only advises."""
    table = Table(title="Policy violations", title_justify="left", show_lines=False)
    for column in ("level", "policy", "resource", "problem"):
        table.add_column(column, overflow="fold")
    for v in sorted(report.violations, key=lambda v: (v.level != "mandatory", v.policy, v.resource or "")):
        style = "red" if v.level == "mandatory" else "yellow"
        table.add_row(Text(v.level, style=style), v.policy, v.resource or "(stack)", v.message)
    return table


def render_policy(report: PolicyReport, console: Console) -> None:
    if report.violations:
        console.print(policy_table(report))
    source = report.config_file or "pack defaults"
    counts = f"{len(report.mandatory)} mandatory, {len(report.advisory)} advisory"
    style = "red bold" if report.mandatory else "green"
    mark = "✗" if report.mandatory else "✓"
    console.print(f"[{style}]{mark} policy pack: {counts}[/] [dim](config: {source})[/]", highlight=False)


def cost_summary(report: CostReport) -> str:
    """One line, plus one per unpriced resource type when the estimate is incomplete."""
    if not report.priced:
        missing = costtext.incomplete(report.unpriced)
        return f"monthly estimate {unpriced_region(report.region)}" + (f"; {missing}" if missing else "")
    low, high = report.total
    dated = f" (prices of {report.prices_retrieved})" if report.prices_retrieved else " (no price table)"
    head = f"monthly estimate at min-max scale: {costtext.total(low, high, report.unpriced)}{dated}"
    return "\n".join([head, *(f"  unpriced: {line}" for line in costtext.unpriced_detail(report.unpriced))])


def cost_tables(report: CostReport, *, lines: bool = False) -> list[Table]:
    tables = []
    for key, title in (("model", "Monthly cost per model"), ("component", "Monthly cost per component")):
        table = Table(title=title, title_justify="left")
        table.add_column(key, overflow="fold")
        for column in ("min-max", "priced part", "unpriced"):
            table.add_column(column, justify="right", no_wrap=True)
        for name, (low, high, unknown) in report.by(key).items():
            # A group with any unpriced resource is unknown, never the sum of what happens to be priced.
            known = costtext.money_range(low, high) if report.priced else costtext.UNKNOWN
            shown = costtext.UNKNOWN if unknown or not report.priced else known
            table.add_row(name, shown, known if unknown and report.priced else "", str(unknown or ""))
        tables.append(table)
    if lines:
        table = Table(title="Monthly cost per resource", title_justify="left")
        for column in ("resource", "min-max", "basis"):
            table.add_column(column, overflow="fold")
        for line in sorted(report.lines, key=lambda item: -(item.monthly_max or 0)):
            table.add_row(
                f"{line.type} {line.name}",
                costtext.money_range(line.monthly_min, line.monthly_max),
                line.basis,
            )
        tables.append(table)
    return tables
