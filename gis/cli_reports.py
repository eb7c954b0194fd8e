"""`sites report passport|priorities|conventions`: printed reports in Kazakh, Russian or English.

Each command checks every option before it reads the register and writes its file beside the target, renamed
into place at the end: a refused option or a failure leaves no file.
"""

from __future__ import annotations

from pathlib import Path

import click

OUTPUT = click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
                      help="The file to write (its folder must exist).")
LANG = click.option("--lang", default="en", show_default=True, metavar="kk|ru|en",
                    help="Language of the report's words; names are printed in it where the register has them.")


@click.group()
def report() -> None:
    """Printed reports: a site's passport, the priority list, and the convention summary."""


@report.command("passport")
@click.argument("code")
@OUTPUT
@LANG
@click.pass_obj
def passport_command(obj, code: str, output: Path, lang: str) -> None:
    """The passport of site CODE (PDF, one or two A4 pages): identity, location map, history, contaminants,
    samples against the active guideline set, the score explained, inspections, photos and the geometry's
    SHA-256."""
    from gis.report_passport import passport

    written = passport(obj.engine(), code, output, lang=lang, files_dir=obj.settings.files_dir, actor=obj.actor())
    click.echo(f"wrote the passport of {code.upper()} ({_pages(written.pages)}, {written.lang}, method "
               f"{written.method}) to {written.path}")


@report.command("priorities")
@OUTPUT
@click.option("--region", default=None, metavar="KATO_OR_NAME",
              help="One region (KATO, ISO code such as KZ-PAV, or name); default the whole country.")
@click.option("--top", default=None, metavar="N", help="Only the N highest-ranked sites.")
@LANG
@click.pass_obj
def priorities_command(obj, output: Path, region: str | None, top: str | None, lang: str) -> None:
    """The ranked sites as a paginated PDF (A4 landscape), in the order of `sites rank`, with class, score,
    confidence, region, main contaminants and people within the scoring radius."""
    from gis.report_priorities import priorities

    written = priorities(obj.engine(), output, region=region, top=top, lang=lang, actor=obj.actor())
    click.echo(f"wrote the priority list ({_pages(written.pages)}, {written.lang}, method {written.method}) "
               f"to {written.path}")


@report.command("conventions")
@OUTPUT
@click.option("--format", "fmt", default=None, metavar="csv|pdf",
              help="csv (one row per number, with the codes of the sites behind it) or pdf; default from the "
                   "output's ending.")
@LANG
@click.pass_obj
def conventions_command(obj, output: Path, fmt: str | None, lang: str) -> None:
    """Per region: sites, quantities and workflow stages under the Minamata, Stockholm, Basel and Rotterdam
    conventions, with the sites behind every number."""
    from gis.report_conventions import conventions

    written = conventions(obj.engine(), output, fmt=fmt, lang=lang, actor=obj.actor())
    kind = f"PDF, {_pages(written.pages)}" if written.pages else "CSV"
    click.echo(f"wrote the convention summary ({kind}, {written.lang}) to {written.path}")


def _pages(count: int) -> str:
    return f"{count} page" if count == 1 else f"{count} pages"
