"""`sites backup` and `sites restore`: the whole register (database and attachment files) in one file."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace a file that already exists at PATH.")
@click.pass_obj
def backup_command(obj, path: Path, overwrite: bool) -> None:
    """Write the database, the attachment files and a manifest with checksums to one tar file at PATH.

    A folder as PATH gets a dated file name inside it. The copy is one consistent snapshot, so the app may keep
    running; the file appears at PATH only when complete.
    """
    from gis.backup import backup

    report = backup(obj.engine(), path, obj.settings.files_dir, actor=obj.actor(), overwrite=overwrite)
    click.echo(f"wrote {report.path}: {_size(report.size_bytes)}, schema {report.revision}, "
               f"{sum(report.tables.values())} rows in {len(report.tables)} tables, "
               f"{report.files} attachment files, in {report.seconds:.1f} s")
    for missing in report.missing_files:
        click.echo(f"warning: {missing} is named by the database but missing from {obj.settings.files_dir}; "
                   "the backup lacks it", err=True)


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Replace a register that holds data; everything in it is lost.")
@click.option("--check", is_flag=True, help="Only verify the backup against its checksums; change nothing.")
@click.pass_obj
def restore_command(obj, path: Path, replace: bool, check: bool) -> None:
    """Restore a backup made by `sites backup`: database and attachment files.

    Every checksum is verified first; a damaged backup changes nothing. An empty register (fresh from
    `sites db up` and `sites migrate`) is filled; one holding data is replaced only with --replace. A backup from
    an older schema is migrated after loading; one from a newer schema is refused.
    """
    from gis.backup import restore, verify

    if check:
        manifest = verify(path)
        click.echo(f"{path}: every file matches its SHA-256 ({len(manifest['members']) - 1} attachment files); "
                   f"made {manifest.get('created_at')} by version {manifest.get('app_version')} from database "
                   f"{manifest.get('database')}, schema {manifest['schema_revision']}")
        _tables(manifest["tables"])
        _warn_missing(manifest.get("missing_files") or ())
        return
    report = restore(obj.engine(), path, obj.settings.files_dir, actor=obj.operator(), replace=replace)
    migrated = (f", migrated to {report.revision_now}" if report.revision_now != report.revision_restored else "")
    click.echo(f"restored {report.path} (made {report.created_at}, schema {report.revision_restored}{migrated}) "
               f"in {report.seconds:.1f} s; every table's row count matches the backup:")
    _tables(report.tables)
    click.echo(f"attachment files: {report.files_written} written, {report.files_present} already present "
               f"in {obj.settings.files_dir}")
    if report.replaced:
        click.echo("replaced what the register held before: "
                   + ", ".join(f"{name} {count}" for name, count in report.replaced.items()))
    _warn_missing(report.missing_files)


def _tables(counts: dict[str, int]) -> None:
    for name, count in sorted(counts.items()):
        click.echo(f"  {name}\t{count}")


def _warn_missing(paths) -> None:
    for missing in paths:
        click.echo(f"warning: {missing} was missing when the backup was made; it is not in the backup", err=True)


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} kB"


def register(main: click.Group) -> None:
    """Add `backup` and `restore` to the `sites` command line."""
    main.add_command(backup_command)
    main.add_command(restore_command)
