"""The audit trail against the real PostGIS: append-only, geometry hashes, queries, exports, permissions, CLI, roles."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import secrets
import stat
import uuid

import psycopg
import pytest
import shapely
from alembic import command
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

import gis.audit
from gis.audit import AuditFilter, audit_filter, audit_query, export_audit, grant_runtime_role, list_audit
from gis.db import alembic_config, make_engine, migrate
from gis.services import Register
from sites.errors import InvalidInput, NotFound, PermissionDenied, SitesError
from sites.permissions import SYSTEM_USER, Actor
from sites.records import geometry_sha256
from tests.conftest import _admin, _admin_url, cli_invoker
from tests.gis.factories import site_data

PAVLODAR, SHYMKENT = "550000000", "790000000"
ADMIN = Actor(SYSTEM_USER, "admin")  # backups and restores need an admin
SQUARE = "POLYGON((76.96 52.26, 76.98 52.26, 76.98 52.28, 76.96 52.28, 76.96 52.26))"


@pytest.fixture
def register(engine):
    register = Register(engine, rescore_on_write=False)
    from gis.reference import load_reference

    load_reference(engine, register.actor())
    return register


@pytest.fixture
def admin(register):
    return register.actor()


@pytest.fixture
def trail(register, admin):
    """Ivan (inspector, Pavlodar) adds a site and a sample there; the system adds and edits one in Shymkent."""
    for name, role, regions in (("ivan", "inspector", ["KZ-PAV"]), ("vera", "viewer", []),
                                ("pia", "planner", []), ("ada", "admin", [])):
        register.add_user(admin, name, role, regions)
    ivan = register.actor("ivan")
    pavlodar = register.create_site(ivan, site_data())["code"]
    register.add_sample(ivan, pavlodar, {"contaminant": "hg", "medium": "soil", "value": "3,2", "unit": "mg/kg"})
    shymkent = register.create_site(admin, site_data(name_en="Shymkent lead smelter", lat=42.31, lon=69.6,
                                                     region_kato=SHYMKENT, activity="mining_smelting"))["code"]
    register.update_site(admin, shymkent, 1, {"stage": "registered"})
    return {"pavlodar": pavlodar, "shymkent": shymkent}


def audit_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM audit ORDER BY id")).all()


# ---- append-only -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit SET actor = 'someone else'",
    "UPDATE audit SET after = NULL WHERE entity = 'site'",
    "UPDATE audit SET actor = 'x' WHERE false",  # refused even when it would match nothing
    "DELETE FROM audit",
    "DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)",
    "TRUNCATE audit",
])
def test_the_apps_role_cannot_update_delete_or_truncate_audit_rows(engine, trail, statement):
    before = audit_rows(engine)
    with pytest.raises(DBAPIError, match="the audit trail is append-only") as refused, engine.begin() as conn:
        conn.execute(text(statement))
    assert refused.value.orig.sqlstate == "42501"  # insufficient_privilege
    assert audit_rows(engine) == before and len(before) > 4


def test_the_database_stamps_each_row_with_its_own_clock(engine, trail):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit (at, actor, action, entity, entity_id) "
                          "VALUES ('2001-01-01', 'system', 'insert', 'note', 'x')"))
        at, now = conn.execute(text("SELECT at, now() FROM audit ORDER BY id DESC LIMIT 1")).one()
    assert at == now  # a writer cannot back-date a change


def test_a_restore_replaces_the_audit_and_brings_its_triggers_back(engine, register, admin, trail, tmp_path):
    from gis.backup import backup, restore

    backup(engine, tmp_path / "b.tar", tmp_path / "files", actor=ADMIN)
    kept = audit_rows(engine)
    register.update_site(admin, trail["pavlodar"], 1, {"lat": 52.2703})  # not in the backup
    restore(engine, tmp_path / "b.tar", tmp_path / "files", replace=True, actor=ADMIN)
    assert audit_rows(engine) == kept
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit"))
    register.update_site(admin, trail["pavlodar"], 1, {"lat": 52.2704})
    newest = list_audit(engine, admin, limit=1)[0]
    assert newest["geom_sha256"] == stored_geometry_hash(engine, trail["pavlodar"]) and newest["id"] > kept[-1][0]


# ---- the geometry's SHA-256 ------------------------------------------------------------------------------

def stored_geometry_hash(engine, code: str) -> str:
    """The hash computed afresh from the geometry as the database stores it."""
    with engine.connect() as conn:
        lat, lon, footprint = conn.execute(text(
            "SELECT ST_Y(geom), ST_X(geom), ST_AsBinary(footprint) FROM site WHERE code = :code"), {"code": code}).one()
    return geometry_sha256(lat, lon, footprint and shapely.from_wkb(bytes(footprint)))


def test_editing_the_geometry_records_its_new_hash_in_the_audit(engine, register, admin):
    code = register.create_site(admin, site_data())["code"]
    first = stored_geometry_hash(engine, code)
    register.update_site(admin, code, 1, {"lat": 52.2701, "footprint": SQUARE})
    moved = stored_geometry_hash(engine, code)
    register.add_sample(admin, code, {"contaminant": "hg", "medium": "soil", "value": "1", "unit": "mg/kg"})
    rows = list_audit(engine, admin, AuditFilter(site=code))
    assert [(r["action"], r["entity"]) for r in rows] == [("insert", "sample"), ("update", "site"), ("insert", "site")]
    assert moved != first
    assert [r["geom_sha256"] for r in rows] == [moved, moved, first]
    assert rows[1]["after"]["geom_sha256"] == moved and rows[1]["before"]["geom_sha256"] == first
    assert register.get_site(code)["geom_sha256"] == moved


def test_migration_0005_fills_the_hash_of_rows_written_before_it(engine, register, admin):
    code = register.create_site(admin, site_data())["code"]
    with engine.begin() as conn:
        config = alembic_config(engine)
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    engine.dispose()  # pooled connections may hold statements prepared against the dropped column
    register.update_site(admin, code, 1, {"lat": 52.2702})  # written at 0004, without the column or its trigger
    register.add_sample(admin, code, {"contaminant": "hg", "medium": "soil", "value": "1", "unit": "mg/kg"})
    migrate(engine)
    engine.dispose()
    rows = list_audit(engine, admin, AuditFilter(site=code))
    assert [(r["entity"], r["action"]) for r in rows] == [("sample", "insert"), ("site", "update"), ("site", "insert")]
    moved, first = rows[1]["after"]["geom_sha256"], rows[2]["after"]["geom_sha256"]
    assert [r["geom_sha256"] for r in rows] == [moved, moved, first]  # the sample: the site's hash when added
    assert moved == stored_geometry_hash(engine, code) != first


# ---- queries ---------------------------------------------------------------------------------------------

def test_a_sites_rows_include_its_samples_and_only_its_own(engine, admin, trail):
    rows = list_audit(engine, admin, audit_filter(site=trail["pavlodar"]))
    assert [(r["entity"], r["site_code"]) for r in rows] == [("sample", trail["pavlodar"]), ("site", trail["pavlodar"])]
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)


def test_rows_by_user_and_by_action_newest_first(engine, admin, trail):
    mine = list_audit(engine, admin, audit_filter(user="ivan"))
    assert [(r["action"], r["entity"]) for r in mine] == [("insert", "sample"), ("insert", "site")]
    updates = list_audit(engine, admin, audit_filter(action="update"))
    assert [(r["entity"], r["site_code"]) for r in updates] == [("site", trail["shymkent"]), ("reference", None)]
    assert updates[0]["after"]["stage"] == "registered"
    everything = list_audit(engine, admin)
    assert len(everything) == len(audit_rows(engine)) and everything[0]["site_code"] == trail["shymkent"]
    assert all(r["at"].tzinfo == dt.timezone.utc for r in everything)


def test_rows_by_date_and_by_time(engine, register, admin, trail):
    total = len(audit_rows(engine))
    day = list_audit(engine, admin)[0]["at"].date()
    assert len(list_audit(engine, admin, audit_filter(since=str(day), until=str(day)))) == total
    assert list_audit(engine, admin, audit_filter(until=str(day - dt.timedelta(days=1)))) == []
    assert list_audit(engine, admin, audit_filter(since=str(day + dt.timedelta(days=1)))) == []
    with engine.connect() as conn:
        middle = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    register.update_site(admin, trail["pavlodar"], 1, {"stage": "registered"})
    later = list_audit(engine, admin, audit_filter(since=middle.isoformat()))
    assert [(r["action"], r["site_code"]) for r in later] == [("update", trail["pavlodar"])]
    assert len(list_audit(engine, admin, audit_filter(until=middle.isoformat()))) == total


def test_pages_follow_each_other_without_gaps(engine, admin, trail):
    pages = [list_audit(engine, admin, limit=3)]
    while pages[-1]:
        pages.append(list_audit(engine, admin, limit=3, before=pages[-1][-1]["id"]))
    assert [len(page) for page in pages[:-2]] == [3] * (len(pages) - 2) and len(pages) > 3
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in list_audit(engine, admin)]


def test_the_query_names_each_filter_with_bound_parameters():
    query = audit_query(audit_filter(user="ivan", since="2025-05-01", action="update"), site_id=4)
    compiled = query.compile()
    assert "ivan" not in str(compiled) and "ORDER BY audit.id DESC" in str(compiled)
    assert {"ivan", "update", "4"} <= {str(v) for v in compiled.params.values()}


@pytest.mark.parametrize("arguments, field, received, expected", [
    ({"since": "2025-13-01"}, "since", "2025-13-01", "a date YYYY-MM-DD or a time"),
    ({"until": "yesterday"}, "until", "yesterday", "a date YYYY-MM-DD or a time"),
    ({"since": "2025-05-02", "until": "2025-05-01"}, "until", "2025-05-01",
     "a moment at or after since (2025-05-02T00:00:00+00:00)"),
    ({"action": "delete"}, "action", "delete", "one of insert, update, archive, restore"),
])
def test_bad_filters_say_what_was_expected_and_received(arguments, field, received, expected):
    with pytest.raises(InvalidInput) as refused:
        audit_filter(**arguments)
    assert (refused.value.field, refused.value.received) == (field, received)
    assert expected in refused.value.expected


def test_unknown_users_and_sites_and_oversized_pages_are_refused(engine, admin, trail):
    with pytest.raises(InvalidInput, match=r"user: expected the name of a register user .*, received 'bob'"):
        list_audit(engine, admin, audit_filter(user="bob"))
    with pytest.raises(NotFound, match="no site with code 'KZ-PAV-9999'"):
        list_audit(engine, admin, audit_filter(site="KZ-PAV-9999"))
    with pytest.raises(InvalidInput, match="limit: expected a number of rows from 1 to 10000"):
        list_audit(engine, admin, limit=10_001)


# ---- exports ---------------------------------------------------------------------------------------------

def read_csv_export(path) -> tuple[list[str], list[dict[str, str]]]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    return header, list(csv.DictReader(lines[len(header):]))


def test_csv_export_reads_back_with_its_header(engine, admin, trail, tmp_path):
    path = tmp_path / "audit.csv"
    report = export_audit(engine, admin, audit_filter(site=trail["shymkent"]), "csv", path)
    header, rows = read_csv_export(path)
    assert header[0] == "# kz-sites audit export\n" and f"# rows: {report.rows}\n" in header
    assert f"# exported_at: {report.exported_at.isoformat()}\n" in header and '# exported_by: "system"\n' in header
    filters = json.loads(next(h for h in header if h.startswith("# filters: "))[len("# filters: "):])
    assert filters == {"site": trail["shymkent"], "user": None, "since": None, "until": None, "action": None}
    listed = list_audit(engine, admin, audit_filter(site=trail["shymkent"]))
    assert report.rows == len(rows) == len(listed) == 2
    assert [int(r["id"]) for r in rows] == [r["id"] for r in listed]
    assert json.loads(rows[0]["after"])["stage"] == "registered" and rows[0]["geom_sha256"] == listed[0]["geom_sha256"]
    assert dt.datetime.fromisoformat(rows[0]["at"]) == listed[0]["at"] and rows[1]["before"] == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and os.listdir(tmp_path) == ["audit.csv"]


def test_jsonl_export_of_the_whole_trail_reads_back(engine, admin, trail, tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text("an older export")
    report = export_audit(engine, admin, audit_filter(since="2000-01-01"), "jsonl", path)
    header, *rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert header["export"] == "kz-sites audit export"
    assert header["rows"] == report.rows == len(rows) == len(audit_rows(engine))
    assert header["filters"]["since"] == "2000-01-01T00:00:00+00:00" and header["columns"][0] == "id"
    listed = list_audit(engine, admin)
    assert [r["id"] for r in rows] == [r["id"] for r in listed]
    added = next(r for r in rows if r["entity"] == "site" and r["actor"] == "ivan")
    assert added["after"]["code"] == trail["pavlodar"] and len(added["geom_sha256"]) == 64
    assert rows == json.loads(json.dumps([dict(r, at=r["at"].isoformat()) for r in listed]))


def test_a_failed_export_leaves_no_file(engine, admin, trail, tmp_path, monkeypatch):
    def broken(value):
        raise OSError("disk full")

    monkeypatch.setattr(gis.audit, "_csv_value", broken)
    with pytest.raises(OSError, match="disk full"):
        export_audit(engine, admin, AuditFilter(), "csv", tmp_path / "audit.csv")
    assert os.listdir(tmp_path) == []
    with pytest.raises(InvalidInput, match="output: expected a file in an existing folder"):
        export_audit(engine, admin, AuditFilter(), "csv", tmp_path / "missing" / "audit.csv")


# ---- permissions -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("user, filters, allowed", [
    ("ada", {}, True),                          # admins read and export the whole trail
    ("ada", {"user": "ivan"}, True),
    ("system", {"site": "shymkent"}, True),
    ("ivan", {"user": "ivan"}, True),           # anyone reads their own rows
    ("ivan", {"site": "shymkent"}, True),       # a site's rows follow the site's read rights (all may read)
    ("ivan", {}, False),
    ("ivan", {"user": "ada"}, False),
    ("vera", {"user": "vera"}, True),
    ("vera", {"site": "pavlodar"}, True),
    ("vera", {"action": "update"}, False),
    ("pia", {"since": "2000-01-01"}, False),
    ("pia", {"user": "ivan"}, False),
])
def test_who_may_read_and_export_which_rows(engine, register, trail, tmp_path, user, filters, allowed):
    actor = register.actor(user)
    if "site" in filters:
        filters = dict(filters, site=trail[filters["site"]])
    for read in (lambda: list_audit(engine, actor, audit_filter(**filters)),
                 lambda: export_audit(engine, actor, audit_filter(**filters), "jsonl", tmp_path / "a.jsonl")):
        if allowed:
            read()
        else:
            with pytest.raises(PermissionDenied, match=f"user {user} .* may not read"):
                read()
    assert (tmp_path / "a.jsonl").exists() is allowed


def test_a_deactivated_user_reads_nothing_not_even_their_own(engine, trail):
    gone = Actor("ivan", "inspector", frozenset({PAVLODAR}), active=False)
    with pytest.raises(PermissionDenied, match="deactivated"):
        list_audit(engine, gone, audit_filter(user="ivan"))


# ---- the CLI ---------------------------------------------------------------------------------------------

@pytest.fixture
def run(db_url, monkeypatch):
    return cli_invoker(db_url, monkeypatch)


def test_cli_list_filters_and_pages(run, trail):
    result = run("audit", "list", "--site", trail["pavlodar"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("id\tat (UTC)\tuser") and len(lines) == 3
    newest = lines[1].split("\t")
    assert newest[2:4] == ["ivan", "insert"] and newest[4].startswith("sample ") and newest[5] == trail["pavlodar"]
    assert len(newest[6]) == 64
    paged = run("audit", "list", "--limit", "2")
    assert paged.exit_code == 0 and "more rows may follow: repeat with --before" in paged.output
    updates = run("audit", "list", "--action", "update", "--since", "2000-01-01")
    assert updates.output.splitlines()[1].split("\t")[-1] == "stage"


def test_cli_export_writes_csv_and_jsonl(run, trail, tmp_path):
    for fmt in ("csv", "jsonl"):
        path = tmp_path / f"audit.{fmt}"
        result = run("audit", "export", "--format", fmt, "-o", str(path), "--user", "ivan")
        assert result.exit_code == 0 and result.output.startswith(f"wrote 2 audit rows to {path}")
    _, rows = read_csv_export(tmp_path / "audit.csv")
    assert [r["actor"] for r in rows] == ["ivan", "ivan"]
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize("arguments, message", [
    (("audit", "list", "--since", "14.05.2025"), "Error: since: expected a date YYYY-MM-DD or a time"),
    (("audit", "list", "--user", "bob"), "Error: user: expected the name of a register user"),
    (("audit", "list", "--site", "KZ-PAV-9999"), "Error: no site with code 'KZ-PAV-9999'"),
    (("--as", "vera", "audit", "list"), "Error: user vera (viewer) may not read the whole audit trail"),
    (("--as", "vera", "audit", "export", "--format", "csv", "-o", "x.csv"), "may not read the whole audit trail"),
    (("audit", "grant-runtime", "OWNER"), "Error: role: expected a role that is not a superuser"),
    (("audit", "grant-runtime", "no_such_role_here"), "Error: no database role named 'no_such_role_here'"),
])
def test_cli_refusals_are_one_clear_line(run, trail, db_url, tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    owner = make_url(db_url).username
    result = run(*[owner if a == "OWNER" else a for a in arguments])
    assert result.exit_code == 1 and message in result.output and os.listdir(tmp_path) == []


def test_cli_a_viewer_lists_their_own_rows(run, trail):
    result = run("--as", "vera", "audit", "list", "--user", "vera")
    assert result.exit_code == 0 and result.output == "no audit rows match\n"


# ---- a runtime role that does not own the tables ---------------------------------------------------------

@pytest.fixture
def runtime_url(db_url):
    """A login role for the app alone, created by the superuser (docs/operations.md, database roles)."""
    with psycopg.connect(_admin_url()) as conn:
        powers = "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        if not conn.execute(powers).fetchone()[0]:
            pytest.skip("creating a role needs CREATEROLE, which DATABASE_URL's role lacks")
    role, password = f"sites_rt_{os.getpid()}_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
    _admin(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    try:
        yield make_url(db_url).set(username=role, password=password).render_as_string(hide_password=False)
    finally:
        _admin(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)), make_url(db_url).database)
        _admin(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_runtime_role_works_the_register_but_cannot_touch_the_audit(engine, register, admin, runtime_url,
                                                                      tmp_path):
    role = make_url(runtime_url).username
    granted = grant_runtime_role(engine, admin, role)
    assert granted["audit"] == "SELECT, INSERT" and granted["site"] == "SELECT, INSERT, UPDATE, DELETE"
    assert granted["alembic_version"] == "SELECT" and granted["audit_id_seq"] == "USAGE, SELECT"
    runtime = make_engine(runtime_url)
    try:
        works = Register(runtime, rescore_on_write=False)
        code = works.create_site(admin, site_data())["code"]
        works.update_site(admin, code, 1, {"lat": 52.2705})
        works.add_sample(admin, code, {"contaminant": "hg", "medium": "soil", "value": "2", "unit": "mg/kg"})
        assert len(list_audit(runtime, admin, audit_filter(site=code))) == 3
        from gis.backup import backup

        made = backup(runtime, tmp_path / "b.tar", tmp_path / "files", actor=ADMIN)
        assert made.tables["audit"] > 3  # backups need no owner
        before = audit_rows(engine)
        for statement, refusal in [
            ("UPDATE audit SET actor = 'x'", "permission denied for table audit"),
            ("DELETE FROM audit", "permission denied for table audit"),
            ("TRUNCATE audit", "permission denied for table audit"),
            ("ALTER TABLE audit DISABLE TRIGGER audit_append_only", "must be owner of table audit"),
            ("DROP TRIGGER audit_append_only ON audit", "must be owner of (table|relation) audit"),
            ("DROP TABLE audit", "must be owner of table audit"),
        ]:
            with pytest.raises(DBAPIError, match=refusal), runtime.begin() as conn:
                conn.execute(text(statement))
        assert audit_rows(engine) == before
        with pytest.raises(SitesError, match="run this as the tables' owner"):
            grant_runtime_role(runtime, admin, role)
    finally:
        runtime.dispose()


def test_the_owner_or_a_missing_role_is_refused_as_runtime_role(engine, admin, trail):
    with pytest.raises(InvalidInput, match="not a superuser, has no CREATEROLE, does not own the database"):
        grant_runtime_role(engine, admin, engine.url.username)
    with pytest.raises(InvalidInput, match="role: expected a role that is not a superuser"):
        grant_runtime_role(engine, admin, "postgres")
    with pytest.raises(NotFound, match="no database role named 'nobody_at_all'"):
        grant_runtime_role(engine, admin, "nobody_at_all")
    with pytest.raises(PermissionDenied, match="may not manage users"):
        grant_runtime_role(engine, Actor("vera", "viewer"), "nobody_at_all")
