"""`sites whatif`: the ranking under other values of the method's adjustable factors, beside the official one."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import click

from sites.report_format import csv_cell


@click.command("whatif")
@click.option("--set", "settings", multiple=True, metavar="FACTOR=VALUE",
              help="An adjustable factor and its value, e.g. children_weight=2; repeatable. "
                   "`sites whatif --list` shows the factors and their bounds.")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE.json", help="A scenario saved by the ranking page; --set values apply on top of it.")
@click.option("--list", "show_factors", is_flag=True, help="List the adjustable factors, declared values and bounds.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "xlsx", "gpkg"]), default="table",
              show_default=True, help="gpkg: the sites as points with official and scenario rank, class and total.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of printing (required for xlsx and gpkg).")
@click.pass_obj
def whatif(obj, settings: tuple[str, ...], scenario_path: Path | None, show_factors: bool, fmt: str,
           output: Path | None) -> None:
    """Rescore every site in memory under a scenario and show each site's official and scenario rank.
    Nothing is stored: the official method and scores never change."""
    from gis.cli import _pairs
    from gis.ranking_output import write_output
    from gis.whatif import compare
    from sites.errors import InvalidInput
    from sites.scoring.whatif import check_overrides, scenario_file

    if show_factors:
        _list_factors()
        return
    name, overrides = _read_scenario(scenario_path) if scenario_path else ("scenario", {})
    overrides.update(check_overrides(_pairs(settings)))
    if fmt in ("xlsx", "gpkg") and output is None:
        raise InvalidInput("output", None, f"a file to write to (-o PATH) with --format {fmt}")
    engine = obj.engine()
    rows = compare(engine, overrides, actor=obj.actor())
    saved = scenario_file(name, overrides, dt.date.today().isoformat())
    data = _render(engine, rows, saved, fmt)
    if output is None:
        click.echo(data, nl=False)
        return
    write_output(data, output)
    click.echo(f"wrote the scenario {name!r} ({len(rows)} sites) to {output}")


def _list_factors() -> None:
    from sites.scoring.tables import BY_NAME
    from sites.scoring.whatif import ADJUSTABLE

    for factor in ADJUSTABLE:
        click.echo(f"{factor.name}\t{BY_NAME[factor.name].value}\t{factor.low:g}-{factor.high:g}\t{factor.why}")


def _read_scenario(path: Path) -> tuple[str, dict[str, float]]:
    """The name and values of a saved scenario file; a missing or unreadable file is refused by name."""
    from sites.errors import InvalidInput
    from sites.scoring.whatif import read_scenario

    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput("scenario", str(path), f"a readable scenario file ({error.strerror})") from None
    return read_scenario(data)


def _render(engine, rows: list[dict], saved: dict, fmt: str) -> str | bytes:
    from gis import whatif as outputs

    if fmt == "xlsx":
        return outputs.xlsx_bytes(rows, saved)
    if fmt == "gpkg":
        return outputs.gpkg_bytes(engine, rows, saved)
    return _text(rows, fmt)


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

    click.echo(_text(run(obj.engine(), draws=draws, top=top, seed=seed, actor=obj.actor()), fmt), nl=False)


def _text(rows: list[dict], fmt: str) -> str:
    """Rows as JSON, CSV or tab-separated lines (the table format)."""
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["code"], delimiter="," if fmt == "csv" else "\t")
    writer.writeheader()
    writer.writerows(({k: csv_cell(v) for k, v in row.items()} for row in rows) if fmt == "csv" else rows)
    return out.getvalue()
