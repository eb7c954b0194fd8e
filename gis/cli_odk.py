"""The `sites odk` commands: the XLSForm for ODK Collect / KoboToolbox, and importing what the field sends back."""

from __future__ import annotations

from pathlib import Path

import click

from gis.cli_import import emit

from sites.errors import InvalidInput

DEFAULT_MAX_MB = 1000.0  # gis.odk.DEFAULT_MAX_MB, repeated so `sites --help` does not import the importer


@click.group("odk")
def odk() -> None:
    """Offline field capture with ODK Collect or KoboToolbox: the form, and importing its exports."""


@odk.command("form")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The XLSForm to write (.xlsx); upload it to ODK Central or KoboToolbox.")
def form_command(output: Path) -> None:
    """Write the XLSForm generated from the register's fields, vocabularies and contaminant catalogue."""
    from gis.xlsform import write_xlsform

    if output.suffix.lower() != ".xlsx" or not output.parent.is_dir():
        raise InvalidInput("output", str(output), "an .xlsx file in an existing folder")
    meta = write_xlsform(output)
    click.echo(f"wrote {output}: form {meta['form_id']} version {meta['version']}, {meta['questions']} questions, "
               f"{meta['choice_lists']} choice lists")


@odk.command("import")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every submission and report; store nothing.")
@click.option("--valid-only", is_flag=True,
              help="Store the valid submissions and reject the rest (default: all or nothing).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (as `sites import --json`).")
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_MAX_MB, show_default=True,
              help="Refuse exports (and zip contents) larger than this many megabytes.")
@click.option("--show", type=click.IntRange(min=0), default=100, show_default=True,
              help="Problems listed in the text report (--json lists all).")
@click.pass_obj
def import_command(obj, export: Path, dry_run: bool, valid_only: bool, as_json: bool, max_mb: float,
                   show: int) -> None:
    """Import EXPORT: ODK Central's "CSV zip with media" of form kz_legacy_sites, or a KoboToolbox CSV of it.

    Each submission becomes a site with its contaminants and samples and an inspection with its photos, stored all
    or nothing; submissions imported before are unchanged, edited ones are reported, never overwritten. By default
    one rejected submission stores nothing (exit status 1).
    """
    from gis.odk import import_export

    report = import_export(obj.engine(), obj.actor(), export, dry_run=dry_run, valid_only=valid_only,
                           files_dir=obj.settings.files_dir, max_bytes=int(max_mb * 1_000_000))
    emit(report, as_json=as_json, show=show, valid_only=valid_only, unit="submission",
         heading=f"{report.filename}: {report.rows_read} submissions read")
