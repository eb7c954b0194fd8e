"""Backup and restore against the real PostGIS: emptied databases, damaged files, replacing, schema revisions, CLI."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil
import tarfile

import pytest
from alembic.script import ScriptDirectory
from PIL import Image
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gis.backup import BackupError, backup, restore, tool, verify
from gis.db import alembic_config, current_revision, make_engine, migrate
from gis.demo import load_demo
from gis.inspections import add_inspection, attach, list_attachments, read_attachment
from gis.reference import load_reference
from gis.services import Register
from sites.errors import InvalidInput
from sites.permissions import SYSTEM_USER, Actor
from tests.conftest import _admin, app_url, cli_invoker, demo_site_count, drop_database, new_database
from tests.gis.factories import site_data

ADMIN = Actor(SYSTEM_USER, "admin")  # who backs up and restores here: the system user, as `sites` acts by default
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def photo(colour: str = "olive") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), colour).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def files(tmp_path):
    return tmp_path / "files"


@pytest.fixture
def admin(engine):
    return Register(engine).actor()


def add_site_with_evidence(engine, admin, files, name: str = "Backup test plant") -> str:
    """A site with a sample, an inspection with a photo (stored with its thumbnail) and a PDF: three files."""
    load_reference(engine, admin)  # the contaminant catalogue the sample names
    register = Register(engine)
    code = register.create_site(admin, site_data(name_en=name))["code"]
    register.add_sample(admin, code, {"contaminant": "hg", "medium": "soil", "value": "<0,05", "unit": "mg/kg"})
    inspection = add_inspection(engine, admin, code, {"inspected_on": "2025-05-14", "condition": "poor"},
                                [("tailings.jpg", photo())], files_dir=files)
    attach(engine, admin, code, "lab report.pdf", PDF, inspection, files_dir=files)
    return code


def fingerprint(engine) -> dict[str, object]:
    """Rows and a checksum per table, sequence positions, indexes and constraints of schema public.

    A row's text form writes geometries as hex EWKB, so the checksum covers every coordinate and SRID exactly;
    rows are ordered by that text, which orders them as completely as a primary key would.
    """
    with engine.connect() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                  "AND tablename <> 'spatial_ref_sys' ORDER BY 1")).scalars().all()
        tables = {name: tuple(conn.execute(text(
            f'SELECT count(*), md5(coalesce(string_agg(r::text, E\'\\n\' ORDER BY r::text), \'\')) '
            f'FROM public."{name}" r')).one()) for name in names}
        sequences = dict(conn.execute(text("SELECT sequencename, last_value FROM pg_sequences "
                                           "WHERE schemaname = 'public'")).all())
        indexes = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                                         "AND tablename <> 'spatial_ref_sys'")).all())
        constraints = sorted(conn.execute(text(
            "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = 'public' AND conrelid <> 'spatial_ref_sys'::regclass")).scalars())
    return {"tables": tables, "sequences": sequences, "indexes": indexes, "constraints": constraints}


def file_hashes(folder) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def empty_database(engine, db_url) -> None:
    """Drop the database and create it again as `sites db up` would: owned by the app role, PostGIS only."""
    name = make_url(db_url).database
    engine.dispose()
    drop_database(name)
    _admin(sql.SQL("CREATE DATABASE {} OWNER sites").format(sql.Identifier(name)))
    _admin(sql.SQL("CREATE EXTENSION postgis"), name)


def rewrite_manifest(source, target, change) -> None:
    """Copy a backup, changing only its manifest (so every member's checksum still holds)."""
    with tarfile.open(source) as old, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as new:
        for member in old:
            data = old.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
            info = copy.copy(member)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))


# ---- the round trip -------------------------------------------------------------------------------

def test_restore_into_an_emptied_database_gives_back_every_row_and_file(engine, db_url, admin, files, tmp_path):
    load_demo(engine, admin)
    code = add_site_with_evidence(engine, admin, files)
    before, before_files = fingerprint(engine), file_hashes(files)
    assert len(before_files) == 3

    made = backup(engine, tmp_path / "register.tar", files, actor=ADMIN)
    assert made.tables["site"] == demo_site_count() + 1 and made.tables["attachment"] == 2
    assert made.files == 3 and made.missing_files == () and made.revision == current_revision(engine)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files", "register.tar"]  # no temporary left over
    assert (tmp_path / "register.tar").stat().st_mode & 0o777 == 0o600

    empty_database(engine, db_url)
    shutil.rmtree(files)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar() == 1
    restored = restore(engine, tmp_path / "register.tar", files, actor=ADMIN)

    assert fingerprint(engine) == before
    assert file_hashes(files) == before_files
    assert restored.tables == made.tables and restored.files_written == 3 and restored.replaced == {}
    assert restored.revision_now == restored.revision_restored == made.revision
    register = Register(engine)
    stored = register.create_site(register.actor(), site_data(name_en="Added after the restore", lat=50.1))
    assert stored["id"] == max(register.get_site(c)["id"] for c in register.site_codes())  # ids go on
    attachment_id = max(a["id"] for a in list_attachments(engine, code))
    meta, content = read_attachment(engine, attachment_id, files_dir=files)
    assert content == PDF and meta["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_a_migrated_empty_register_is_filled_without_replace(engine, admin, files, tmp_path, template_database):
    add_site_with_evidence(engine, admin, files)
    before = fingerprint(engine)
    backup(engine, tmp_path / "b.tar", files, actor=ADMIN)
    other = new_database(template_database)  # migrated: regions and the system user, nothing else
    target = make_engine(app_url(other))
    try:
        restored = restore(target, tmp_path / "b.tar", tmp_path / "other-files", actor=ADMIN)
        assert fingerprint(target) == before and restored.replaced == {}
        assert file_hashes(tmp_path / "other-files") == file_hashes(files)
    finally:
        target.dispose()
        drop_database(other)


def test_verify_reads_the_manifest_and_checks_without_changing_anything(engine, admin, files, tmp_path):
    add_site_with_evidence(engine, admin, files)
    backup(engine, tmp_path / "b.tar", files, actor=ADMIN)
    manifest = verify(tmp_path / "b.tar")
    assert manifest["format"] == "kz-sites-backup" and manifest["schema_revision"] == current_revision(engine)
    assert manifest["database"] == engine.url.database and manifest["app_version"]
    assert manifest["extensions"]["postgis"] and manifest["tables"]["site"] == 1
    assert set(manifest["members"]) == {"database.dump", *(f"files/{p}" for p in file_hashes(files))}
    assert all(manifest["members"][f"files/{p}"]["sha256"] == h for p, h in file_hashes(files).items())


# ---- refusals that leave everything as it was --------------------------------------------------------

def _flip_a_byte_of_the_dump(path):
    with tarfile.open(path) as tar:
        offset = tar.getmember("database.dump").offset_data + 200
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _not_a_tar(path):
    path.write_bytes(b"code,name\nKZ-1,plant\n" * 50)


def _no_manifest(path):
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))


def _cut_between_members(path):
    with tarfile.open(path) as tar:
        dump = tar.getmember("database.dump")
    path.write_bytes(path.read_bytes()[: dump.offset_data + (dump.size + 511) // 512 * 512])


def _missing(path):
    path.unlink()


@pytest.mark.parametrize("damage, message", [
    (_flip_a_byte_of_the_dump, "is damaged: database.dump has SHA-256"),
    (_truncate, "damaged or incomplete"),
    (_cut_between_members, "is incomplete: 3 file(s) its manifest lists are missing"),
    (_not_a_tar, "backup: expected a backup file made by `sites backup`, received"),
    (_no_manifest, "expected a register backup starting with manifest.json"),
    (_missing, "no such file"),
], ids=["flipped byte", "truncated", "cut between members", "not a tar", "no manifest", "missing"])
def test_a_damaged_backup_is_refused_and_changes_nothing(engine, admin, files, tmp_path, damage, message):
    add_site_with_evidence(engine, admin, files)
    path = tmp_path / "b.tar"
    backup(engine, path, files, actor=ADMIN)
    Register(engine).create_site(admin, site_data(name_en="Added after the backup", lat=51.0))
    before = fingerprint(engine)
    damage(path)
    with pytest.raises((BackupError, InvalidInput)) as refused:
        restore(engine, path, tmp_path / "restored-files", replace=True, actor=ADMIN)
    assert message in refused.value.message
    assert fingerprint(engine) == before and not (tmp_path / "restored-files").exists()


def test_restoring_over_a_register_with_data_needs_replace(engine, admin, files, tmp_path):
    add_site_with_evidence(engine, admin, files)
    at_backup = fingerprint(engine)
    backup(engine, tmp_path / "b.tar", files, actor=ADMIN)
    Register(engine).create_site(admin, site_data(name_en="Added after the backup", lat=51.0))
    after = fingerprint(engine)

    with pytest.raises(BackupError, match=r"already holds register data \(.*site: 2.*--replace"):
        restore(engine, tmp_path / "b.tar", files, actor=ADMIN)
    assert fingerprint(engine) == after

    replaced = restore(engine, tmp_path / "b.tar", files, replace=True, actor=ADMIN)
    assert fingerprint(engine) == at_backup
    assert replaced.replaced["site"] == 2 and replaced.files_present == 3 and replaced.files_written == 0


def test_a_restore_failing_inside_the_database_rolls_back_whole(engine, admin, files, tmp_path):
    add_site_with_evidence(engine, admin, files)
    backup(engine, tmp_path / "b.tar", files, actor=ADMIN)
    Register(engine).create_site(admin, site_data(name_en="Added after the backup", lat=51.0))
    before = fingerprint(engine)
    rewrite_manifest(tmp_path / "b.tar", tmp_path / "lying.tar", lambda m: m["tables"].update(site=999))
    with pytest.raises(BackupError, match="table site: the backup holds 999 rows, the restore gave 1"):
        restore(engine, tmp_path / "lying.tar", files, replace=True, actor=ADMIN)
    assert fingerprint(engine) == before  # the tables were dropped and reloaded, then all of it rolled back


def test_a_backup_from_a_newer_schema_is_refused(engine, admin, files, tmp_path):
    add_site_with_evidence(engine, admin, files)
    backup(engine, tmp_path / "b.tar", files, actor=ADMIN)
    rewrite_manifest(tmp_path / "b.tar", tmp_path / "newer.tar", lambda m: m.update(schema_revision="9999"))
    before = fingerprint(engine)
    with pytest.raises(BackupError, match="revision 9999, which this version of the register does not know"):
        restore(engine, tmp_path / "newer.tar", files, replace=True, actor=ADMIN)
    assert fingerprint(engine) == before


def test_a_backup_from_an_older_schema_is_restored_then_migrated(engine, db_url, files, tmp_path):
    empty_database(engine, db_url)
    migrate(engine, "0003")
    register = Register(engine)
    register.create_site(register.actor(), site_data())
    made = backup(engine, tmp_path / "old.tar", files, actor=ADMIN)
    assert made.revision == "0003"

    empty_database(engine, db_url)
    restored = restore(engine, tmp_path / "old.tar", files, actor=ADMIN)
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert (restored.revision_restored, restored.revision_now) == ("0003", head)
    assert current_revision(engine) == head and Register(engine).site_codes() != []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_audit_site_children'")).scalar()


# ---- writing the backup ----------------------------------------------------------------------------

def test_an_existing_file_is_kept_unless_overwrite_and_a_folder_gets_a_dated_name(engine, files, tmp_path):
    path = tmp_path / "b.tar"
    path.write_bytes(b"an older backup")
    with pytest.raises(InvalidInput, match="a file that does not exist yet"):
        backup(engine, path, files, actor=ADMIN)
    assert path.read_bytes() == b"an older backup"
    assert backup(engine, path, files, overwrite=True, actor=ADMIN).size_bytes == path.stat().st_size
    with pytest.raises(InvalidInput, match="a file in an existing folder"):
        backup(engine, tmp_path / "nowhere" / "b.tar", files, actor=ADMIN)
    dated = backup(engine, tmp_path, files, actor=ADMIN).path
    assert dated.parent == tmp_path and dated.name.startswith("sites-backup-") and dated.suffix == ".tar"


def test_a_failed_backup_leaves_no_file(engine, db_url, files, tmp_path):
    empty_database(engine, db_url)  # PostGIS but no schema: not a register
    with pytest.raises(BackupError, match="no schema revision"):
        backup(engine, tmp_path / "b.tar", files, actor=ADMIN)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_attachment_file_is_reported_not_fatal(engine, admin, files, tmp_path):
    add_site_with_evidence(engine, admin, files)
    lost = next(p for p in files.rglob("*.pdf"))
    lost.unlink()
    made = backup(engine, tmp_path / "b.tar", files, actor=ADMIN)
    assert made.missing_files == (str(lost.relative_to(files)),) and made.files == 2


def test_a_missing_client_program_is_named():
    with pytest.raises(BackupError, match="pg_nowhere not found: expected it in /usr/lib/postgresql"):
        tool("pg_nowhere")


# ---- the command line ------------------------------------------------------------------------------

def test_cli_backup_check_refuse_and_replace(db_url, engine, admin, files, tmp_path, monkeypatch):
    monkeypatch.setenv("SITES_FILES_DIR", str(files))
    run = cli_invoker(db_url, monkeypatch)
    add_site_with_evidence(engine, admin, files)
    path = tmp_path / "b.tar"

    made = run("backup", str(path))
    assert made.exit_code == 0 and f"wrote {path}" in made.output and "3 attachment files" in made.output
    again = run("backup", str(path))
    assert again.exit_code == 1 and "--overwrite" in again.output

    checked = run("restore", str(path), "--check")
    assert checked.exit_code == 0 and "every file matches its SHA-256 (3 attachment files)" in checked.output
    assert "  site\t1" in checked.output

    refused = run("restore", str(path))
    assert refused.exit_code == 1 and "Error: database" in refused.output and "--replace" in refused.output

    run("site", "add", "name_en=Second plant", "lat=51.5", "lon=70.1", "activity=mining_smelting",
        "location_precision=settlement", "--new-site")
    shutil.rmtree(files)
    restored = run("restore", str(path), "--replace")
    assert restored.exit_code == 0, restored.output
    assert "every table's row count matches the backup" in restored.output
    assert "3 written, 0 already present" in restored.output
    assert "replaced what the register held before" in restored.output
    assert len(Register(engine).site_codes()) == 1 and len(file_hashes(files)) == 3

    missing = run("restore", str(tmp_path / "nowhere.tar"))
    assert missing.exit_code == 1
    assert "backup: expected an existing backup file made by `sites backup`, received" in missing.output
