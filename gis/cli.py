"""The `sites` command line: everything the app does, scriptable."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError

from gis.cli_audit import audit
from gis.cli_field import sample
from gis.cli_whatif import stability, whatif
from gis.cli_inspections import register as register_inspections
from gis.cli_backup import register as register_backup
from gis.cli_import import import_command
from gis.cli_layers import layers
from gis.cli_odk import odk
from gis.cli_printmap import DATA_FORMATS, PRINT_FORMATS, map_options, print_sheet, refuse_map_options
from gis.cli_programme import programme
from gis.cli_reports import report
from gis.cluster import Cluster, database_url
from gis.settings import Settings
from sites.errors import InvalidInput, SitesError
from sites.permissions import SYSTEM_USER


class Context:
    """What every command needs: settings, the acting user's name and, lazily, an engine."""

    def __init__(self, settings: Settings, user: str):
        self.settings = settings
        self.user = user
        self._engine = None

    @property
    def cluster(self) -> Cluster:
        return Cluster(self.settings.cluster_dir)

    def url(self) -> str:
        return database_url(self.settings)

    def engine(self):
        if self._engine is None:
            from gis.db import make_engine

            self._engine = make_engine(self.url())
        return self._engine

    def actor(self):
        from gis.services import Register

        return Register(self.engine()).actor(self.user)

    def operator(self):
        """:meth:`actor`, or for the system user the administrator it is when the schema does not exist yet (a
        restore into a database fresh from `sites db up` has no users to look up)."""
        from sqlalchemy import inspect

        if self.user == SYSTEM_USER and not inspect(self.engine()).has_table("app_user"):
            from sites.permissions import Actor

            return Actor(SYSTEM_USER, "admin")
        return self.actor()


class Group(click.Group):
    """A click group that shows register errors as one clear line and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SitesError as error:
            click.echo(f"Error: {error.message}", err=True)
            sys.exit(1)
        except OperationalError as error:
            # The server went away or refused us: one line, not a traceback; the step's transaction was not committed.
            reason = str(error.orig or error).strip().splitlines()[0]
            click.echo(f"Error: the database failed or could not be reached ({reason}); the unfinished step was not "
                       "saved. `sites db status` shows the database's state.", err=True)
            sys.exit(1)


@click.group(cls=Group)
@click.option("--as", "user", default=SYSTEM_USER, show_default=True, help="Act as this register user (audited).")
@click.pass_context
def main(ctx: click.Context, user: str) -> None:
    """Kazakhstan historical pollution site register."""
    ctx.obj = Context(Settings.from_env(), user)


main.add_command(layers)
main.add_command(import_command)
main.add_command(odk)
register_inspections(main)
register_backup(main)
main.add_command(sample)
main.add_command(whatif)
main.add_command(stability)
main.add_command(programme)
main.add_command(audit)
main.add_command(report)


@main.group()
def db() -> None:
    """The embedded PostgreSQL + PostGIS cluster (ignored when DATABASE_URL is set)."""


@db.command("up")
@click.pass_obj
def db_up(obj: Context) -> None:
    """Initialise and start the embedded cluster; create the database and PostGIS."""
    if obj.settings.database_url:
        click.echo("DATABASE_URL is set: using that server, starting nothing")
        return
    obj.cluster.up()
    click.echo(obj.cluster.status())


@db.command("down")
@click.pass_obj
def db_down(obj: Context) -> None:
    """Stop the embedded cluster; the data stays."""
    if obj.settings.database_url:
        click.echo("DATABASE_URL is set: nothing to stop")
        return
    click.echo("stopped" if obj.cluster.down() else "was not running")


@db.command("status")
@click.pass_obj
def db_status(obj: Context) -> None:
    """Say whether the database is up, where, and at which migration."""
    if obj.settings.database_url:
        click.echo("external server from DATABASE_URL")
    else:
        click.echo(obj.cluster.status())
        if not obj.cluster.running():
            return
    from gis.db import current_revision

    click.echo(f"schema revision: {current_revision(obj.engine()) or 'none (run `sites migrate`)'}")


@db.command("url")
@click.pass_obj
def db_url(obj: Context) -> None:
    """Print a libpq URL that psql, ogrinfo and QGIS open as is."""
    click.echo(obj.url())


@main.command()
def assets() -> None:
    """Fetch Leaflet, Leaflet.draw, Supercluster and jQuery from the npm registry once, so maps render offline."""
    from gis.assets import STATIC_DIR, fetch

    fetched = fetch()
    click.echo(f"fetched {', '.join(fetched)} into {STATIC_DIR / 'vendor'}" if fetched else "map assets present")


@main.command()
@click.pass_obj
def migrate(obj: Context) -> None:
    """Bring the schema to the newest migration."""
    from gis.db import current_revision, migrate as run_migrations

    run_migrations(obj.engine())
    click.echo(f"schema at revision {current_revision(obj.engine())}")


@main.command()
@click.option("--accounts", is_flag=True, help="Also make one account per role (demo-admin, demo-planner, "
              "demo-inspector, demo-viewer) with random passwords, printed once.")
@click.pass_obj
def demo(obj: Context, accounts: bool) -> None:
    """Load the demo inventory: reference data, real Kazakh sites and a settlement layer (idempotent)."""
    from gis.demo import demo_accounts, load_demo

    report = load_demo(obj.engine(), obj.actor())
    click.echo(
        f"demo: {len(report.created)} sites added, {len(report.kept)} already present; "
        f"{report.reference['contaminant']} contaminants, {report.reference['guideline_value']} guideline values; "
        f"{report.settlements} settlements"
    )
    if accounts:
        _echo_accounts(demo_accounts(obj.engine(), obj.actor()))


def _echo_accounts(accounts: list) -> None:
    made = [a for a in accounts if a[3] is not None]
    if made:
        click.echo("demo accounts (sign in on the app's sidebar; the passwords are shown this once and stored only "
                   "as hashes):")
    for name, role, regions, password in made:
        scope = f", regions {', '.join(regions)}" if regions else ""
        click.echo(f"  {name:<15} {role}{scope}\tpassword: {password}")
    kept = [a[0] for a in accounts if a[3] is None]
    if kept:
        click.echo(f"demo accounts {', '.join(kept)} exist already (their passwords were shown when they were made); "
                   "set a new one with `sites users passwd NAME --generate`")


@main.command()
@click.option("--format", "fmt", type=click.Choice([*DATA_FORMATS, "html", *PRINT_FORMATS]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@map_options
@click.option("--public", is_flag=True, help="As the public view shows the register: confidential sites only on a "
              "0.1 degree grid, without footprint, note or score explanation (for handing out).")
@click.pass_obj
def export(obj: Context, fmt: str, output: Path, public: bool, **options) -> None:
    """Export the live sites with their latest scores (data formats; shp as a .zip), as one offline HTML map, or
    printed on a map (png at 300 dpi, vector pdf)."""
    from sites.permissions import PUBLIC

    actor = PUBLIC if public else obj.actor()
    if fmt in PRINT_FORMATS:
        click.echo(print_sheet(obj.engine(), fmt, output, options, actor=actor))
        return
    given = {name: value for name, value in options.items() if value is not None}
    given["actor"] = actor
    if fmt == "html":
        refuse_map_options(fmt, options, "html")
        from gis.html_export import export_html

        exported = export_html(obj.engine(), output, **given)
        click.echo(f"wrote {len(exported.codes)} sites to {exported.path} ({exported.bytes / 1e6:.1f} MB, "
                   "works offline)")
        return
    refuse_map_options(fmt, options, "data")
    from gis.export import export_sites

    count = export_sites(obj.engine(), fmt, output, **given)
    click.echo(f"wrote {count} sites to {output}")


@main.command()
@click.option("--port", type=int, default=None, help="Port to serve on (default PORT or 8501).")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Interface to listen on; 0.0.0.0 lets other machines of the network in.")
@click.pass_obj
def serve(obj: Context, port: int | None, address: str) -> None:
    """Serve the map app (Ctrl-C stops it; the data stays)."""
    app = Path(__file__).resolve().parents[1] / "app.py"
    port = port or obj.settings.app_port
    env = dict(os.environ, DATABASE_URL=obj.url())
    click.echo(f"Serving the register at http://localhost:{port}  (Ctrl-C to stop)")
    args = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port), "--server.address", address,
            "--server.headless", "true", "--server.enableStaticServing", "true",
            "--browser.gatherUsageStats", "false"]
    os.execve(sys.executable, args, env)


@main.group()
def users() -> None:
    """Register users, their roles, passwords and sign-in."""


def _password_options(command):
    command = click.option("--generate", is_flag=True,
                           help="Set a random password and print it once (it is stored only as a hash).")(command)
    return click.option("--password-stdin", "from_stdin", is_flag=True,
                        help="Read the password from the first line of standard input.")(command)


def _new_password(name: str, from_stdin: bool, generate: bool, prompt: bool) -> tuple[str | None, bool]:
    """The password to set (or None) and whether it was generated; refuses both sources at once."""
    from sites.accounts import generate_password

    if from_stdin and generate:
        raise click.UsageError("choose one of --password-stdin and --generate")
    if generate:
        return generate_password(), True
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line, False
    if prompt:
        return click.prompt(f"New password for {name}", hide_input=True, confirmation_prompt=True), False
    return None, False


def _show_generated(name: str, password: str) -> None:
    click.echo(f"password for {name}: {password}")
    click.echo("  (shown this once and stored only as a hash: pass it on safely; `sites users passwd` sets another)")


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "inspector", "planner", "admin"]), required=True)
@click.option("--region", "regions", multiple=True, help="Region scope (KATO or ISO code); repeatable.")
@click.option("--email", default=None, help="Email the single sign-on provider gives for this user (optional).")
@_password_options
@click.pass_obj
def users_add(obj: Context, name: str, role: str, regions: tuple[str, ...], email: str | None, from_stdin: bool,
              generate: bool) -> None:
    """Add a user. With --generate or --password-stdin they can sign in to the app; there is never a default
    password (without either, set one later with `sites users passwd NAME`)."""
    from gis.services import Register

    password, generated = _new_password(name, from_stdin, generate, prompt=False)
    added = Register(obj.engine()).add_user(obj.actor(), name, role, regions, password=password, email=email)
    click.echo(f"added {added.name} ({added.role}; regions: {', '.join(sorted(added.regions)) or 'all'})")
    if generated:
        _show_generated(name, password)
    elif password is None:
        click.echo(f"  no password yet: {name} cannot sign in until `sites users passwd {name}`"
                   + (" (or single sign-on with the email given)" if email else ""))


@users.command("passwd")
@click.argument("name")
@_password_options
@click.pass_obj
def users_passwd(obj: Context, name: str, from_stdin: bool, generate: bool) -> None:
    """Set NAME's password (asked twice unless --generate or --password-stdin). It also unlocks the account and
    ends NAME's running app sessions."""
    from gis.services import Register

    password, generated = _new_password(name, from_stdin, generate, prompt=True)
    Register(obj.engine()).set_password(obj.actor(), name, password)
    click.echo(f"password of {name} changed; their app sessions end at their next action")
    if generated:
        _show_generated(name, password)


@users.command("deactivate")
@click.argument("name")
@click.option("--undo", is_flag=True, help="Reactivate the user instead.")
@click.pass_obj
def users_deactivate(obj: Context, name: str, undo: bool) -> None:
    """Deactivate NAME: they can no longer sign in or act, their sessions end, their history stays."""
    from gis.services import Register

    Register(obj.engine()).set_active(obj.actor(), name, active=undo)
    click.echo(f"{name} {'reactivated' if undo else 'deactivated'}")


@users.command("list")
@click.pass_obj
def users_list(obj: Context) -> None:
    """List users: name, role, region scope, active, sign-in (password, locked until), email."""
    from gis.services import Register

    for user in Register(obj.engine()).list_users():
        scope = ",".join(user["regions"]) or "-"
        sign_in = "password" if user["password_set"] else "no password"
        if user["locked_until"] is not None:
            sign_in += f", locked until {user['locked_until']:%Y-%m-%d %H:%M %Z}"
        click.echo(f"{user['name']}\t{user['role']}\t{scope}\t{'active' if user['active'] else 'inactive'}\t"
                   f"{sign_in}\t{user['email'] or '-'}")


def _pairs(values: tuple[str, ...]) -> dict[str, str | None]:
    """FIELD=VALUE arguments to a dict; an empty VALUE clears the field."""
    fields: dict[str, str | None] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected FIELD=VALUE, received {item!r}")
        fields[name.strip()] = value.strip() or None
    return fields


def _show(site: dict) -> None:
    import json

    printable = {k: v for k, v in site.items() if v is not None}
    click.echo(json.dumps(printable, default=str, ensure_ascii=False, indent=2))


@main.group()
def site() -> None:
    """Add, edit, archive and inspect single sites (every change audited)."""


@site.command("add")
@click.argument("fields", nargs=-1, required=True)
@click.option("--at", "at", help="Coordinates in any form an inspector has: 52.2871, 76.9674 · 52°17'14\"N 76°58'03\"E · "
              "43U 500000 5795000 · X=5795000 Y=13512000 (Pulkovo-1942 GK). Replaces lat= and lon=.")
@click.option("--within", type=click.FloatRange(1, 50_000), default=500.0, show_default=True,
              help="Duplicate check: stored sites this close (metres), or with a similar name, stop the add.")
@click.option("--new-site", is_flag=True, help="Add even if the duplicate check finds sites: it is a different site.")
@click.option("--related-to", metavar="CODE", help="Add even so, noting the site it may be related to.")
@click.pass_obj
def site_add(obj: Context, fields: tuple[str, ...], at: str | None, within: float, new_site: bool,
             related_to: str | None) -> None:
    """Add a site from FIELD=VALUE pairs, e.g. name_en=... lat=50.05 lon=72.95 activity=chemical_plant
    location_precision=settlement. The code is generated when not given. Stored sites nearby or with a similar
    name stop the add (exit 1) unless --new-site or --related-to says what they are."""
    from gis.field_entry import possible_duplicates
    from gis.services import Register
    from sites.records import validate_site

    data = _pairs(fields)
    if at:
        data.update(zip(("lat", "lon"), _parse_at(at)))
    if related_to:
        data["location_note"] = f"Possibly related to {related_to} (noted at entry by {obj.user})"
    elif not new_site:
        cleaned = validate_site(data)  # the register's own checks first: a bad lat is refused with its message
        _stop_on_duplicates(possible_duplicates(obj.engine(), cleaned["lat"], cleaned["lon"], _name(cleaned),
                                                within_m=within))
    stored = Register(obj.engine()).create_site(obj.actor(), data)
    click.echo(f"added {stored['code']} (version {stored['version']})")


@site.command("nearby")
@click.option("--at", "at", required=True, help="Coordinates in any accepted form (see `sites site add --help`).")
@click.option("--name", help="Also list sites with a similar name.")
@click.option("--within", type=click.FloatRange(1, 50_000), default=500.0, show_default=True, help="Metres.")
@click.pass_obj
def site_nearby(obj: Context, at: str, name: str | None, within: float) -> None:
    """List stored sites near a point or with a similar name: the duplicate check the add page runs."""
    from gis.field_entry import possible_duplicates

    lat, lon = _parse_at(at)
    click.echo(f"{lat:.6f} N, {lon:.6f} E")
    for found in possible_duplicates(obj.engine(), lat, lon, name, within_m=within):
        click.echo(f"{found['code']}\t{found['reason']}\t{found['name']}")


def _parse_at(text: str) -> tuple[float, float]:
    from gis.crs import parse_point

    lat, lon, _ = parse_point(text)
    return round(lat, 6), round(lon, 6)


def _name(data: dict) -> str | None:
    return next((data[k] for k in ("name_en", "name_ru", "name_kk") if data.get(k)), None)


def _stop_on_duplicates(found: list[dict]) -> None:
    if not found:
        return
    lines = "\n".join(f"  {d['code']}: {d['name']} ({d['reason']})" for d in found)
    raise click.ClickException(
        f"possible duplicates of stored sites:\n{lines}\nNothing was added. If it is one of them, edit that site; "
        "otherwise repeat with --new-site, or --related-to CODE.")


@site.command("edit")
@click.argument("code")
@click.argument("fields", nargs=-1, required=True)
@click.option("--version", "expected", type=int, required=True, help="The version you read; stale edits are refused.")
@click.pass_obj
def site_edit(obj: Context, code: str, fields: tuple[str, ...], expected: int) -> None:
    """Change fields of site CODE, if it is still at --version."""
    from gis.services import Register

    stored = Register(obj.engine()).update_site(obj.actor(), code, expected, _pairs(fields))
    click.echo(f"updated {code} to version {stored['version']}")


@site.command("archive")
@click.argument("code")
@click.option("--version", "expected", type=int, required=True)
@click.option("--restore", is_flag=True, help="Bring an archived site back.")
@click.pass_obj
def site_archive(obj: Context, code: str, expected: int, restore: bool) -> None:
    """Archive site CODE (it leaves the map and rankings; nothing is deleted), or restore it."""
    from gis.services import Register

    stored = Register(obj.engine()).archive_site(obj.actor(), code, expected, archived=not restore)
    click.echo(f"{'restored' if restore else 'archived'} {code} (version {stored['version']})")


@site.command("show")
@click.argument("code")
@click.pass_obj
def site_show(obj: Context, code: str) -> None:
    """Print site CODE as JSON."""
    from gis.services import Register

    _show(Register(obj.engine()).get_site(code))


@site.command("history")
@click.argument("code")
@click.pass_obj
def site_history(obj: Context, code: str) -> None:
    """Print the audit trail of site CODE, oldest first."""
    from gis.services import Register

    for entry in Register(obj.engine()).history(code):
        before, after = entry["before"] or {}, entry["after"] or {}
        changed = sorted(k for k in after if before.get(k) != after.get(k) and k not in ("version", "updated_at"))
        when = entry["at"].strftime("%Y-%m-%d %H:%M:%S")
        if entry["entity"] != "site":  # a sample, contaminant, inspection or attachment of the site
            click.echo(f"{when}\t{entry['actor']}\t{entry['action']} {entry['entity']} {entry['entity_id']}\t\t")
            continue
        click.echo(f"{when}\t{entry['actor']}\t{entry['action']}\tv{after.get('version')}\t{', '.join(changed)}")


@main.command()
@click.option("--method", default="kz-screening", show_default=True, help="Scoring method.")
@click.option("--guidelines", default="kz_pdk_soil", show_default=True,
              help="Guideline set every exceedance ratio is computed against (never mixed within a ranking).")
@click.pass_obj
def score(obj: Context, method: str, guidelines: str) -> None:
    """Score every live site and append the scores to the history."""
    from gis.scoring import rescore

    run = rescore(obj.engine(), obj.actor(), method=method, guidelines=guidelines)
    summary = ", ".join(f"class {k}: {run.classes[k]}" for k in ("1", "2", "3", "N", "I") if run.classes[k])
    version = f" {run.method_version}" if run.method_version else ""
    click.echo(f"scored {run.sites} sites with {method}{version} against {guidelines} ({summary or 'none'})")


@main.command()
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the N highest.")
@click.option("--region", default=None, help="Region KATO or ISO code (KZ-PAV).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "xlsx"]), default="table",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of printing (required for xlsx).")
@click.pass_obj
def rank(obj: Context, top: int | None, region: str | None, fmt: str, output: Path | None) -> None:
    """The ranking: latest score of every live site, highest first."""
    from gis.ranking_output import render, render_xlsx
    from gis.scoring import ranking
    from sites.regions import parse_region

    if fmt == "xlsx" and output is None:
        raise InvalidInput("output", None, "a file to write the workbook to (-o PATH) with --format xlsx")
    rows = ranking(obj.engine(), top=top, region=parse_region(region) if region else None)
    if not rows:
        raise SitesError("no scored sites; run `sites score` first")
    if output is None:
        click.echo(render(rows, fmt), nl=False)
        return
    if not output.parent.is_dir():
        raise InvalidInput("output", str(output), "a file in an existing folder")
    data = render_xlsx(rows) if fmt == "xlsx" else render(rows, fmt).encode("utf-8")
    output.write_bytes(data)
    click.echo(f"wrote the ranking of {len(rows)} sites to {output}")
