"""The `sites import` command: bulk import of sites or samples from a file, checked row by row, all or nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

DEFAULT_MAX_MB = 200.0


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON mapping of columns to fields (default: detected from the header names).")
@click.option("--target", type=click.Choice(["site", "sample"]), help="What rows become (default: from the mapping).")
@click.option("--source", help="Name of the import source, for idempotent re-imports "
                               "(default: the mapping's, else the file name).")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--valid-only", is_flag=True, help="Store the valid rows and reject the rest (default: all or nothing).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--save-mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the mapping used (detected and overridden) to this file, to edit and reuse.")
@click.option("--extent", default="kz", show_default=True,
              help="Where sites may lie: kz, world (training/test registers) or minlon,minlat,maxlon,maxlat.")
@click.option("--crs", help="CRS of x/y columns, e.g. EPSG:32643 (UTM 43N) or EPSG:28413 (Pulkovo-1942 GK 13).")
@click.option("--sheet", help="XLSX sheet (default: the first).")
@click.option("--layer", help="Layer of a GeoPackage or KML, or Shapefile of a zip, holding several.")
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_MAX_MB, show_default=True,
              help="Refuse files (and zip contents) larger than this many megabytes.")
@click.option("--show", type=click.IntRange(min=0), default=100, show_default=True,
              help="Problems listed in the text report (--json lists all).")
@click.pass_obj
def import_command(obj, file: Path, mapping_file: Path | None, target: str | None, source: str | None,
                   dry_run: bool, valid_only: bool, as_json: bool, save_mapping: Path | None, extent: str,
                   crs: str | None, sheet: str | None, layer: str | None, max_mb: float, show: int) -> None:
    """Import sites or samples from FILE (CSV, XLSX, JSON, GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, zip).

    Every problem is reported by row and column. By default one rejected row stores nothing (exit status 1);
    re-importing the same rows changes nothing.
    """
    from gis.site_import import import_file, load_mapping, parse_extent

    def save(mapping, table) -> None:
        if save_mapping is not None:
            save_mapping.write_text(mapping.to_json(table.columns), encoding="utf-8")

    report = import_file(
        obj.engine(), obj.actor(), file, mapping=load_mapping(mapping_file) if mapping_file else None,
        target=target, source=source, crs=crs, sheet=sheet, layer=layer, extent=parse_extent(extent),
        valid_only=valid_only, dry_run=dry_run, max_bytes=int(max_mb * 1_000_000), on_mapping=save,
    )
    heading = f"{report.filename} -> {report.target}s from source {report.source!r}: read {report.rows_read}"
    emit(report, as_json=as_json, show=show, valid_only=valid_only, heading=heading, unit="row")


def emit(report, *, as_json: bool, show: int, valid_only: bool, heading: str, unit: str) -> None:
    """Print an import report (text or JSON; `sites odk import` shares it) and exit 1 when rows were rejected
    without --valid-only."""
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print(report, show, heading, unit)
    if report.rejected and not valid_only:
        sys.exit(1)


def _print(report, show: int, heading: str, unit: str) -> None:
    verb = "would import" if report.dry_run else "imported"
    batch = f", batch {report.batch_id}" if report.batch_id else ""
    click.echo(f"{heading}, {verb} {report.imported}, unchanged {report.unchanged}, rejected {report.rejected}{batch} "
               f"({report.seconds:.1f} s)")
    if report.held_back:
        click.echo(f"nothing stored: {report.rejected - report.held_back} {unit}s have problems and the import is all "
                   f"or nothing (--valid-only stores the valid {unit}s)")
    for title, problems in (("rejections", report.rejections), ("warnings", report.warnings)):
        _print_problems(title, problems, show, unit)
    if report.rejected:
        click.echo("reasons:")
        for reason, count in report.reasons.items():
            click.echo(f"  {count:>7}  {reason}")
    for note in report.notes:
        click.echo(f"note: {note}")


def _print_problems(title: str, problems: list, show: int, unit: str) -> None:
    if not problems:
        return
    click.echo(f"{title}:")
    for problem in problems[:show]:
        click.echo(f"  {unit} {problem.row} ({problem.where}), {problem.column}: {problem.reason}")
    if len(problems) > show:
        click.echo(f"  ... and {len(problems) - show} more (--show N or --json lists them)")
