"""The `sites inspection` and `sites attach` commands: inspections with photos, documents, and their lists."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sites import vocab
from sites.attachments import check_size, media_label

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def register(group: click.Group) -> None:
    """Add these commands to the `sites` command group."""
    group.add_command(inspection)
    group.add_command(attach_command)


@click.group()
def inspection() -> None:
    """Inspections of sites: date, containment condition seen, findings and photos."""


@inspection.command("add")
@click.argument("code")
@click.option("--date", "inspected_on", required=True, help="Day of the inspection, YYYY-MM-DD.")
@click.option("--condition", default="unknown", show_default=True,
              help="Containment condition seen: " + ", ".join(vocab.CONTAINMENT) + ".")
@click.option("--findings", default=None, help="What the inspector found.")
@click.option("--inspector", default=None, help="Who inspected (default: the acting user).")
@click.option("--photo", "photos", type=FILE, multiple=True, help="A photo or document to attach; repeatable.")
@click.pass_obj
def add_command(obj, code: str, inspected_on: str, condition: str, findings: str | None, inspector: str | None,
                photos: tuple[Path, ...]) -> None:
    """Record an inspection of site CODE with its photos, all or nothing."""
    from gis.inspections import add_inspection, list_attachments

    data = {"inspected_on": inspected_on, "condition": condition, "findings": findings, "inspector": inspector}
    files = [(path.name, _read(path)) for path in photos]
    new_id = add_inspection(obj.engine(), obj.actor(), code, data, files, files_dir=obj.settings.files_dir)
    click.echo(f"added inspection {new_id} of {code}")
    for item in list_attachments(obj.engine(), code):
        if item["inspection_id"] == new_id:
            click.echo(_describe(item))


@inspection.command("list")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with each inspection's attachments.")
@click.pass_obj
def list_command(obj, code: str, as_json: bool) -> None:
    """List the inspections of site CODE, newest first."""
    from gis.inspections import list_attachments, list_inspections

    inspections = list_inspections(obj.engine(), code)
    if as_json:
        attachments = list_attachments(obj.engine(), code)
        for item in inspections:
            item["attachments"] = [a for a in attachments if a["inspection_id"] == item["id"]]
        click.echo(json.dumps(inspections, default=str, ensure_ascii=False, indent=2))
        return
    for item in inspections:
        findings = (item["findings"] or "").replace("\n", " ")
        click.echo(f"{item['id']}\t{item['inspected_on']}\t{item['condition']}\t{item['inspector']}\t"
                   f"{item['attachments']} attachments\t{findings[:80]}")


@click.command("attach")
@click.argument("code")
@click.argument("file", type=FILE)
@click.option("--inspection", "inspection_id", type=int, default=None,
              help="Id of the site's inspection it belongs to.")
@click.pass_obj
def attach_command(obj, code: str, file: Path, inspection_id: int | None) -> None:
    """Attach FILE (photo or document, type checked by content) to site CODE."""
    from gis.inspections import attach

    stored = attach(obj.engine(), obj.actor(), code, file.name, _read(file), inspection_id,
                    files_dir=obj.settings.files_dir)
    click.echo(_describe(stored))


def _read(path: Path) -> bytes:
    """The file's bytes, after checking its size so an oversized file is refused before it is read."""
    check_size(path.name, path.stat().st_size)
    return path.read_bytes()


def _describe(item: dict) -> str:
    """One line: what was stored and, for photos, where the geotag puts them."""
    line = (f"attachment {item['id']}: {item['filename']} ({media_label(item['media_type'])}, "
            f"{item['size_bytes']:,} bytes) sha256 {item['sha256']}")
    if not item["is_photo"]:
        return line
    if item["geotag_missing"]:
        return f"{line}; no geotag (flagged){': ' + item['geotag_note'] if item.get('geotag_note') else ''}"
    return f"{line}; geotag {item['lat']:.6f}, {item['lon']:.6f}, {item['distance_m']:,.0f} m from the site"
