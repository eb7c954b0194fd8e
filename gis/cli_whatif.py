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
    rows = compare(obj.engine(), check_overrides(_pairs(settings)))
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["code"],
                            delimiter="," if fmt == "csv" else "\t")
    writer.writeheader()
    writer.writerows(rows)
    click.echo(out.getvalue(), nl=False)
