"""``make bench-plan``'s table: each plan's time per resource, and the ratio row beside its goal."""

from __future__ import annotations

from rich.console import Console

from infra.plan.bench import Timing, _Rows


def _text(rows: _Rows) -> str:
    console = Console(record=True, width=200)
    console.print(rows.table)
    return console.export_text()


def _row(text: str, name: str) -> list[str]:
    line = next(line for line in text.splitlines() if name in line)
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_a_plan_row_shows_its_wall_time_per_resource_and_its_goal():
    rows = _Rows()
    rows.add_plan(10, 500, [Timing(wall_s=0.75, cpu_s=0.70), Timing(9.0, 9.0), Timing(0.7, 0.6)])  # medians
    rows.add_plan(100, 3000, [Timing(wall_s=6.0, cpu_s=5.9)])
    text = _text(rows)
    assert _row(text, "prod + 10 models") == [
        "plan, prod + 10 models",
        "500",
        "0.75",
        "0.70",
        "1.50",
        "< 1.5 s",
        "met",
    ]
    assert _row(text, "prod + 100 models")[4:] == ["2.00", "< 5 s", "missed"]


def test_the_ratio_row_compares_time_per_resource_so_linear_growth_reads_as_one():
    rows = _Rows()
    # 6x the resources in 6x the time: linear, which the time ratio alone calls a miss. The
    # second run was slow throughout and the third had a slow large plan: the median of the
    # runs' own ratios keeps the first two.
    small = [Timing(1.0, 1.0), Timing(2.0, 2.0), Timing(1.0, 1.0)]
    large = [Timing(6.0, 6.2), Timing(12.0, 12.4), Timing(9.0, 9.0)]
    rows.add_ratio({10: (small, 500), 100: (large, 3000)})
    assert _row(_text(rows), "ratio") == [
        "ratio, 100 / 10 models",
        "x6.0",
        "x6.0",
        "x6.2",
        "x1.00",
        "<= 4",
        "missed",
    ]


def test_a_ratio_of_other_model_counts_has_no_goal():
    rows = _Rows()
    rows.add_ratio({10: ([Timing(1.0, 1.0)], 500), 30: ([Timing(2.0, 2.0)], 1100)})
    assert _row(_text(rows), "ratio") == ["ratio, 30 / 10 models", "x2.2", "x2.0", "x2.0", "x0.91", "", ""]
