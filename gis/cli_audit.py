"""`sites audit`: the audit trail per site, user, period and action, its export, and the app's database role."""

from __future__ import annotations

from pathlib import Path

import click


def filter_options(command):
    """The filters `list` and `export` share."""
    options = [
        click.option("--site", metavar="CODE", help="Only this site's rows (its samples, inspections... included)."),
        click.option("--user", metavar="NAME", help="Only rows this register user wrote."),
        click.option("--since", metavar="DATE", help="From this date (YYYY-MM-DD, UTC) or time (ISO 8601)."),
        click.option("--until", metavar="DATE", help="Up to this date (the whole day, UTC) or time (ISO 8601)."),
        click.option("--action", metavar="A", help="insert, update, archive or restore."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group()
def audit() -> None:
    """The audit trail: every change, who made it and when. Rows are only ever added.

    Admins read all of it; anyone may read their own rows (--user NAME) and a site's rows (--site CODE).
    """


@audit.command("list")
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most N rows (default 50, up to 10000).")
@click.option("--before", type=click.IntRange(min=1), default=None, metavar="ID",
              help="Only rows older than row ID: the next page.")
@click.pass_obj
def audit_list(obj, limit: int | None, before: int | None, **filters) -> None:
    """Print audit rows, newest first: id, time (UTC), user, action, record, site, geometry SHA-256, fields changed."""
    from gis.audit import DEFAULT_LIMIT, audit_filter, list_audit

    rows = list_audit(obj.engine(), obj.actor(), audit_filter(**filters), limit=limit, before=before)
    if not rows:
        click.echo("no audit rows match")
        return
    click.echo("id\tat (UTC)\tuser\taction\trecord\tsite\tgeometry SHA-256\tchanged")
    for row in rows:
        click.echo(_line(row))
    if len(rows) == (limit or DEFAULT_LIMIT):
        click.echo(f"more rows may follow: repeat with --before {rows[-1]['id']}", err=True)


def _line(row: dict) -> str:
    before, after = row["before"] or {}, row["after"] or {}
    changed = sorted(k for k in after if k in before and before[k] != after[k] and k not in ("version", "updated_at"))
    return "\t".join([str(row["id"]), row["at"].strftime("%Y-%m-%d %H:%M:%S"), row["actor"], row["action"],
                      f"{row['entity']} {row['entity_id']}", row["site_code"] or "-", row["geom_sha256"] or "-",
                      ", ".join(changed)])


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@filter_options
@click.pass_obj
def audit_export(obj, fmt: str, output: Path, **filters) -> None:
    """Write the selected audit rows, newest first, to a CSV or JSON-lines file whose header names the filters and
    the export time. Without --site or --user it is the whole trail, which only admins may export."""
    from gis.audit import audit_filter, export_audit

    report = export_audit(obj.engine(), obj.actor(), audit_filter(**filters), fmt, output)
    click.echo(f"wrote {report.rows} audit rows to {report.path} (exported at {report.exported_at.isoformat()})")


@audit.command("grant-runtime")
@click.argument("role")
@click.pass_obj
def audit_grant_runtime(obj, role: str) -> None:
    """Let database role ROLE run the app without owning the tables: it may read and write the register but only
    read and append to the audit. Run as the tables' owner, again after every `sites migrate` and `sites restore`;
    then give the app ROLE's URL (DATABASE_URL) and keep the owner's for migrate, restore and this command."""
    from gis.audit import grant_runtime_role

    granted = grant_runtime_role(obj.engine(), obj.actor(), role)
    click.echo(f"granted {role} rights on {len(granted)} tables, views and sequences; "
               f"audit: {granted.get('audit', 'nothing')}")
