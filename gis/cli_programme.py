"""`sites programme`: the sites a remediation budget should buy (MILP), beside greedy selection by rank."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import click

@contextmanager
def _solver_chatter_to_stderr():
    """HiGHS (under scipy's milp) may print a debug line to the C-level stdout, which would corrupt JSON printed
    there; while it solves, file descriptor 1 points at stderr. The CLI is single-threaded, so nothing else is lost."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


COLUMNS = ("rank", "code", "class", "total", "people", "benefit", "cost_kzt", "estimated", "name")


@click.command("programme")
@click.option("--budget", required=True, metavar="TENGE",
              help="Budget in tenge: 5000000000, '5 000 000 000' or 5e9.")
@click.option("--region", default=None, help="Region KATO or ISO code (KZ-PAV): only its sites compete.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx", "gpkg"]), default="table",
              show_default=True, help="csv and gpkg list every ranked site with a selected flag; gpkg as points.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of printing (required for xlsx and gpkg).")
@click.pass_obj
def programme(obj, budget: str, region: str | None, fmt: str, output: Path | None) -> None:
    """Choose the scored sites that remove the most risk within --budget, compared with funding the ranking
    from the top. Costs are the entered remediation costs, else estimated from waste volume or area; sites with
    neither are left out. Risk reduction = total score / 100 x the person-equivalents the score counts."""
    from gis.programme import programme as plan
    from gis.ranking_output import write_output
    from sites.errors import InvalidInput
    from sites.programme import check_budget

    check_budget(budget)  # a bad budget is refused before the database is opened
    if fmt in BINARY and output is None:
        raise InvalidInput("output", None, f"a file to write the {BINARY[fmt]} to (-o PATH) with --format {fmt}")
    engine = obj.engine()
    with _solver_chatter_to_stderr():
        report = plan(engine, budget, region=region, actor=obj.actor())
    data = _render(engine, report, fmt)
    if output is None:
        click.echo(data, nl=False)
        return
    write_output(data, output)
    click.echo(f"wrote a programme of {report['totals']['sites']} sites to {output}")


BINARY = {"xlsx": "workbook", "gpkg": "GeoPackage"}


def _render(engine, report: dict, fmt: str) -> str | bytes:
    from gis import programme as outputs

    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    renderers = {"csv": outputs.csv_text, "xlsx": outputs.xlsx_bytes, "table": _table,
                 "gpkg": lambda r: outputs.gpkg_bytes(engine, r)}
    return renderers[fmt](report)


def _table(report: dict) -> str:
    """The chosen sites as an aligned table, then the totals beside greedy by rank and what is left out."""
    scores = report["scores"]
    lines = [f"budget {report['budget_kzt']:,} KZT; scores {scores['method']} ({scores['guidelines']}); "
             f"{report['date']}", ""]
    cells = [COLUMNS] + [_cells(record) for record in report["selected"]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS) - 1)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in cells]
    totals, greedy = report["totals"], report["greedy"]
    lines += ["", f"programme:      {_summary(totals)}", f"greedy by rank: {_summary(greedy)}",
              f"the programme removes {report['gain_over_greedy']:,.2f} more than greedy by rank",
              "left out: " + _reasons(report["left_out"])]
    return "\n".join(lines) + "\n"


def _cells(record: dict) -> tuple[str, ...]:
    return (str(record["rank"]), record["code"], record["class"], f"{record['total']:.2f}",
            f"{record['people']:,.1f}", f"{record['benefit']:,.2f}", f"{record['cost_kzt']:,}",
            "yes" if record["cost_estimated"] else "no", record["name"] or "")


def _summary(totals: dict) -> str:
    return (f"{totals['sites']} sites, {totals['cost_kzt']:,} KZT, risk reduction {totals['benefit']:,.2f}, "
            f"{totals['remaining_kzt']:,} KZT left")


def _reasons(left_out: list[dict]) -> str:
    counts = Counter(record["reason"] for record in left_out)
    return "; ".join(f"{n} {'site' if n == 1 else 'sites'}: {reason}" for reason, n in counts.most_common()) or "none"
