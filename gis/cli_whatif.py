"""`sites whatif`: the ranking under other values of the method's adjustable factors, beside the official one."""

from __future__ import annotations

import csv
import io
import json

import click


@click.command("whatif")
@click.option("--set", "settings", multiple=True, metavar="FACTOR=VALUE",
              help="An adjustable factor and its value, e.g. children_weight=2; repeatable. "
                   "`sites whatif --list` shows the factors and their bounds.")
@click.option("--list", "show_factors", is_flag=True, help="List the adjustable factors, declared values and bounds.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_obj
def whatif(obj, settings: tuple[str, ...], show_factors: bool, fmt: str) -> None:
    """Rescore every site in memory under a scenario and show each site's official and scenario rank.
    Nothing is stored: the official method and scores never change."""
    from gis.cli import _pairs
    from gis.whatif import compare
    from sites.scoring.tables import BY_NAME
    from sites.scoring.whatif import ADJUSTABLE, check_overrides

    if show_factors:
        for factor in ADJUSTABLE:
            click.echo(f"{factor.name}\t{BY_NAME[factor.name].value}\t{factor.low:g}-{factor.high:g}\t{factor.why}")
        return
    _emit(compare(obj.engine(), check_overrides(_pairs(settings))), fmt)


@click.command("stability")
@click.option("--draws", type=click.IntRange(1, 5000), default=200, show_default=True, help="Monte Carlo draws.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="The top N to be in.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed, so a run can be repeated.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_obj
def stability(obj, draws: int, top: int, seed: int, fmt: str) -> None:
    """How sure is the ranking: each site's chance of being in the top N and its 5-95% rank interval when the
    defaulted values, results below detection and estimated quantities vary. Nothing is stored."""
    from gis.whatif import stability as run

    _emit(run(obj.engine(), draws=draws, top=top, seed=seed), fmt)


def _emit(rows: list[dict], fmt: str) -> None:
    """Rows as JSON, CSV or tab-separated lines (the table format)."""
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["code"], delimiter="," if fmt == "csv" else "\t")
    writer.writeheader()
    writer.writerows(rows)
    click.echo(out.getvalue(), nl=False)
