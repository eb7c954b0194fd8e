"""The `sites layers` commands: load receptor and boundary layers from vector files, list what is loaded."""

from __future__ import annotations

from pathlib import Path

import click

from sites import vocab

# Declared from the vocabulary so `sites --help` does not import geopandas.
KINDS = vocab.RECEPTOR_KIND + vocab.BOUNDARY_LEVEL


@click.group()
def layers() -> None:
    """Receptor layers (settlements, schools, wells, rivers...) and region/district boundaries."""


@layers.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="Receptor kind, or region/district boundaries.")
@click.option("--name-field", help="Attribute holding the name (default: detected, e.g. name, ADM1_EN).")
@click.option("--population-field", help="Attribute holding the population (default: detected, e.g. population).")
@click.option("--kato-field", help="Boundaries: attribute holding the KATO code (default: KATO).")
@click.option("--parent-kato-field", help="Districts: attribute holding the region's KATO (default: from KATO).")
@click.option("--layer-name", help="Name of the receptor layer (default: the file name); picks the layer to read "
                                   "from a file holding several.")
@click.option("--source", help="Where the data comes from (default: the file name).")
@click.option("--licence", help="The data's licence and credit, shown with the layer (default: not stated).")
@click.pass_obj
def import_command(obj, file: Path, kind: str, name_field: str | None, population_field: str | None,
                   kato_field: str | None, parent_kato_field: str | None, layer_name: str | None,
                   source: str | None, licence: str | None) -> None:
    """Load FILE (GeoJSON, GeoPackage, Shapefile, zipped Shapefile, KML...) as a layer of --kind, replacing
    the layer of that name (or all boundaries of that level) in one transaction."""
    from gis.layer_import import import_layer

    report = import_layer(obj.engine(), obj.actor(), file, kind, layer_name=layer_name, name_field=name_field,
                          population_field=population_field, kato_field=kato_field,
                          parent_kato_field=parent_kato_field, source=source, licence=licence)
    click.echo(
        f"{report.kind} layer {report.layer_name!r}: read {report.read}, loaded {report.loaded}, "
        f"repaired {report.repaired}, dropped {report.dropped}, "
        f"approximate populations {report.approximate_population}, sites reassigned {report.sites_reassigned}"
    )


@layers.command("list")
@click.pass_obj
def list_command(obj) -> None:
    """List loaded receptor layers and boundary levels with their counts, sources and licences."""
    from gis.layer_import import boundary_levels
    from gis.layers import layers as receptor_layers

    for layer in receptor_layers(obj.engine()):
        click.echo(f"{layer['kind']}\t{layer['name']}\t{layer['feature_count']}\t{layer['source']}\t"
                   f"{layer['licence']}\t{layer['loaded_at']:%Y-%m-%d %H:%M}")
    for level in boundary_levels(obj.engine()):
        click.echo(f"{level['level']}\t(boundaries)\t{level['count']}\t{level['source']}\t-\t"
                   f"{level['loaded_at']:%Y-%m-%d %H:%M}")
