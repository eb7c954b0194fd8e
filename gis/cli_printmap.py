"""`sites export --format png|pdf`: the print map's options and how the export command hands them on."""

from __future__ import annotations

from pathlib import Path

import click

from sites.errors import InvalidInput

PRINT_FORMATS = ("png", "pdf")
DATA_FORMATS = ("geojson", "gpkg", "shp", "kml", "csv", "xlsx")  # gis.export.FORMATS, without importing it here
OPTIONS = (
    click.option("--paper", default=None, metavar="a4|a3", help="Print maps: sheet size (default a4)."),
    click.option("--orientation", default=None, metavar="portrait|landscape",
                 help="Print maps: sheet orientation (default landscape)."),
    click.option("--region", default=None, metavar="KATO_OR_NAME",
                 help="One region's sites (KATO, ISO code such as KZ-PAV, or name)."),
    click.option("--sites", "codes", default=None, metavar="CODE,CODE", help="These sites only."),
    click.option("--title", default=None, help="Maps (png, pdf, html): the title."),
    click.option("--lang", default=None, metavar="kk|ru|en",
                 help="Language of names, words and credits (default en)."),
)


def map_options(command):
    """Add the print map options to a click command."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command


# Which map options each kind of export understands; any other given option is refused, not silently ignored.
ACCEPTS = {"print": {"paper", "orientation", "region", "codes", "title", "lang"},
           "html": {"region", "codes", "title", "lang"},
           "data": {"region", "codes", "lang"}}


def refuse_map_options(fmt: str, options: dict, kind: str = "data") -> None:
    """Refuse an option this kind of export would silently ignore, naming the formats that take it."""
    for name, value in options.items():
        if value is not None and name not in ACCEPTS[kind]:
            flag = "--sites" if name == "codes" else f"--{name}"
            takers = "png or pdf" if name in ("paper", "orientation") else "png, pdf or html"
            raise InvalidInput(flag, value, f"--format {takers} for this option (--format is {fmt})")


def print_sheet(engine, fmt: str, output: Path, options: dict, actor=None) -> str:
    """Print the map (for ``actor``: the public gets the public view) and say what was written."""
    from gis.printmap import print_map  # matplotlib loads only when a map is printed

    given = {name: value for name, value in options.items() if value is not None}
    printed = print_map(engine, output, fmt=fmt, actor=actor, **given)
    classes = ", ".join(f"{cls}: {count}" for cls, count in sorted(printed.classes.items()))
    return (f"wrote {printed.paper.upper()} {printed.orientation} {printed.fmt.upper()} of {len(printed.codes)} "
            f"sites ({classes or 'none'}) at 1 : {printed.scale:,} to {printed.path}")
