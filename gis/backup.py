"""Backups of the whole register in one tar file (database dump, attachment files, manifest) and their restore."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, Engine, func, select, table, text
from sqlalchemy.exc import SQLAlchemyError

from gis import tables as t
from gis.cluster import ClusterError, bin_dir
from gis.db import alembic_config, current_revision, migrate
from sites.errors import InvalidInput, SitesError
from sites.permissions import Actor, require

FORMAT = "kz-sites-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files/"
CHUNK = 1 << 20

SEEDED_TABLES = ("alembic_version", "region")
"""Tables every migrated database fills by itself; rows there do not make a register 'hold data'."""

_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/-]{1,300}")


class BackupError(SitesError):
    """A backup could not be written or read, or a restore was refused; the register was left as it was."""


@dataclass(frozen=True)
class BackupReport:
    """What ``backup`` wrote: the file, its size, the rows per table and the attachment files it holds."""

    path: Path
    size_bytes: int
    revision: str
    tables: dict[str, int]
    files: int
    missing_files: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    """What ``restore`` did: the backup's revision and the schema's now, rows per table (checked), files written."""

    path: Path
    created_at: str
    revision_restored: str
    revision_now: str
    tables: dict[str, int]
    files_written: int
    files_present: int
    replaced: dict[str, int]
    missing_files: tuple[str, ...]
    seconds: float


# ---- back up ------------------------------------------------------------------------------------

def backup(engine: Engine, path: Path, files_dir: Path, *, actor: Actor, overwrite: bool = False) -> BackupReport:
    """Write the database, its attachment files and a manifest to one tar file at ``path``.

    A folder as ``path`` gets a dated file name inside it. The file is built under a temporary name beside its final
    place and renamed only when complete, so a failed backup never leaves a partial file at ``path``. Only an
    ``actor`` allowed ``backup_restore`` (admins) backs up: the file holds everything, users and the audit included.
    """
    require(actor, "backup_restore")
    started = time.monotonic()
    target = _target(Path(path), overwrite)
    try:
        facts, files, missing = _build(engine, target, Path(files_dir))
    except OSError as error:  # disk full, no write permission: say so, not a traceback
        raise BackupError(f"could not write the backup {target} ({error}); nothing was written there") from error
    return BackupReport(target, target.stat().st_size, facts["schema_revision"], facts["tables"], len(files),
                        tuple(missing), time.monotonic() - started)


def _build(engine: Engine, target: Path, files_dir: Path) -> tuple[dict[str, Any], list[str], list[str]]:
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.", suffix=".part") as work:
        dump, archive = Path(work) / DUMP, Path(work) / "backup.tar"
        facts, attachments = _dump(engine, dump)
        files, missing = _present_files(files_dir, attachments)
        manifest = dict(facts, members=_members(dump, files_dir, files), missing_files=missing)
        _write_archive(archive, manifest, dump, files_dir, files)
        os.replace(archive, target)
    _fsync_folder(target.parent)
    return facts, files, missing


def _target(path: Path, overwrite: bool) -> Path:
    if path.is_dir():
        path = path / f"sites-backup-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}.tar"
    if not path.parent.is_dir():
        raise InvalidInput("path", str(path), "a file in an existing folder")
    if path.exists() and not overwrite:
        raise InvalidInput("path", str(path), "a file that does not exist yet (or --overwrite to replace it)")
    return path


def _dump(engine: Engine, out: Path) -> tuple[dict[str, Any], list[str]]:
    """pg_dump the database and read the manifest's facts in the same snapshot, so its counts match the dump."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            facts = _facts(conn)
            attachments = _attachment_paths(conn) if "attachment" in facts["tables"] else []
            _run([tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={out}",
                  f"--dbname={_conninfo(engine)}"], _environment(engine))
    return facts, attachments


def _facts(conn: Connection) -> dict[str, Any]:
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        raise BackupError("the database has no schema revision: expected a register brought up with `sites migrate`")
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "app_version": _app_version(), "schema_revision": revision,
        "database": conn.execute(text("SELECT current_database()")).scalar_one(),
        "server_version": conn.execute(text("SHOW server_version")).scalar_one(),
        "pg_dump_version": _run([tool("pg_dump"), "--version"]).strip(),
        "extensions": dict(conn.execute(text("SELECT extname, extversion FROM pg_extension ORDER BY 1")).all()),
        "tables": table_counts(conn),
    }


def _app_version() -> str:
    try:
        return metadata.version("kz-legacy-sites")
    except metadata.PackageNotFoundError:  # running from a checkout that was never pip-installed
        return "unknown"


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows in each of the register's own tables (schema public, extension tables such as spatial_ref_sys left out)."""
    names = list(conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT EXISTS (SELECT FROM pg_depend d "
        "WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') ORDER BY 1")).scalars())
    return {name: conn.execute(select(func.count()).select_from(table(name, schema="public"))).scalar_one()
            for name in names}


def _attachment_paths(conn: Connection) -> list[str]:
    a = t.attachment
    rows = conn.execute(select(a.c.storage_path, a.c.thumbnail_path)).all()
    return sorted({path for row in rows for path in row if path})


def _present_files(files_dir: Path, paths: list[str]) -> tuple[list[str], list[str]]:
    """The attachment files on disk, and those the database names but the folder lacks (reported, not fatal:
    a backup that stopped at one lost photo would leave the ministry with no backup at all)."""
    # A path leaving the folder (never written by the register) counts as missing: it is not followed.
    present = [p for p in paths if _is_relative(p) and (files_dir / p).is_file()]
    found = set(present)
    return present, [p for p in paths if p not in found]


def _members(dump: Path, files_dir: Path, files: list[str]) -> dict[str, dict[str, Any]]:
    members = {DUMP: _describe(dump)}
    members.update({FILES + path: _describe(files_dir / path) for path in files})
    return members


def _describe(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(CHUNK):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def _write_archive(out: Path, manifest: dict[str, Any], dump: Path, files_dir: Path, files: list[str]) -> None:
    """The manifest first (so a reader learns what to expect before the data), then the dump, then the files."""
    with out.open("wb") as raw:
        os.fchmod(raw.fileno(), 0o600)  # the whole register, users and audit trail included: its owner's only
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            body = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(time.time()), 0o644
            tar.addfile(info, io.BytesIO(body))
            tar.add(dump, arcname=DUMP, filter=_anonymous)
            for path in files:
                tar.add(files_dir / path, arcname=FILES + path, filter=_anonymous)
        raw.flush()
        os.fsync(raw.fileno())  # on disk before the rename makes it the backup


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # The backup travels between machines: local user names and ids mean nothing there.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)  # the rename itself survives a power cut
    finally:
        os.close(handle)


# ---- read and verify ------------------------------------------------------------------------------

def verify(path: Path) -> dict[str, Any]:
    """Check every member of the backup at ``path`` against its manifest; return the manifest. Changes nothing."""
    with tempfile.TemporaryDirectory(prefix="sites-verify-") as work:
        manifest = _read(Path(path), Path(work))
        _listing(Path(work) / DUMP, manifest["tables"])  # pg_restore can read the dump, not only its bytes are right
    return manifest


def _read(path: Path, work: Path) -> dict[str, Any]:
    """Verify the whole archive and extract its database dump into ``work``; nothing else is written."""
    _check_exists(path)
    try:
        with tarfile.open(path, mode="r:*") as tar:  # also a backup someone gzipped for storage
            first = tar.next()
            manifest = _manifest(tar, first, path)
            seen = {m.name for m in tar if m is not first and _check_member(tar, m, manifest, work, path)}
    except (tarfile.TarError, EOFError) as error:
        raise BackupError(f"{path} is damaged or incomplete ({error}): expected a whole tar file made by "
                          "`sites backup`; nothing was restored") from error
    except OSError as error:
        raise BackupError(f"{path} could not be read and checked ({error}); nothing was restored") from error
    missing = sorted(set(manifest["members"]) - seen)
    if missing:
        raise BackupError(f"{path} is incomplete: {len(missing)} file(s) its manifest lists are missing "
                          f"(first: {missing[0]}); nothing was restored")
    return manifest


def _check_exists(path: Path) -> None:
    if not path.is_file():
        state = "a folder" if path.is_dir() else "no such file"
        raise InvalidInput("backup", f"{path} ({state})", "an existing backup file made by `sites backup`")
    if not tarfile.is_tarfile(path):
        raise InvalidInput("backup", f"{path} (not a tar archive)", "a backup file made by `sites backup`")


def _manifest(tar: tarfile.TarFile, first: tarfile.TarInfo | None, path: Path) -> dict[str, Any]:
    if first is None or first.name != MANIFEST or not first.isfile():
        received = "an empty archive" if first is None else f"a tar file starting with {first.name!r}"
        raise InvalidInput("backup", f"{path} ({received})", f"a register backup starting with {MANIFEST}")
    try:
        manifest = json.loads(tar.extractfile(first).read())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError(f"{path}: its {MANIFEST} is not valid JSON ({error}); nothing was restored") from error
    _check_manifest(manifest, path)
    return manifest


def _check_manifest(manifest: Any, path: Path) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput("backup", str(path), f"a register backup (manifest format {FORMAT!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} is in backup format version {manifest.get('format_version')!r}; this version of "
                          f"the register reads version {FORMAT_VERSION}: upgrade the register first")
    members, tables = manifest.get("members"), manifest.get("tables")
    good = (isinstance(members, dict) and DUMP in members and isinstance(tables, dict)
            and isinstance(manifest.get("schema_revision"), str) and isinstance(manifest.get("extensions"), dict)
            and all(_good_member(name, entry) for name, entry in members.items())
            and all(_TABLE_NAME.fullmatch(str(name)) and type(n) is int and n >= 0 for name, n in tables.items()))
    if not good:
        raise BackupError(f"{path}: its manifest is malformed (members, tables, schema revision or extensions); "
                          "nothing was restored")


def _good_member(name: str, entry: Any) -> bool:
    if not isinstance(entry, dict) or not _SHA256.fullmatch(str(entry.get("sha256"))):
        return False
    if type(entry.get("bytes")) is not int:
        return False
    return name == DUMP or (name.startswith(FILES) and _is_relative(name[len(FILES):]))


def _check_member(tar: tarfile.TarFile, member: tarfile.TarInfo, manifest: dict[str, Any], work: Path,
                  path: Path) -> bool:
    expected = manifest["members"].get(member.name)
    if expected is None or not member.isfile():
        raise BackupError(f"{path} holds {member.name!r}, which its manifest does not list: expected only "
                          "the files the manifest names; nothing was restored")
    destination = work / DUMP if member.name == DUMP else None
    digest, size = _copy_hashing(tar.extractfile(member), destination)
    if digest != expected["sha256"] or size != expected["bytes"]:
        raise BackupError(f"{path} is damaged: {member.name} has SHA-256 {digest} ({size} bytes), its manifest "
                          f"expects {expected['sha256']} ({expected['bytes']} bytes); nothing was restored")
    return True


def _copy_hashing(source: IO[bytes], destination: Path | None) -> tuple[str, int]:
    """Hash a stream, writing it to ``destination`` when given; return the SHA-256 and the byte count."""
    digest, size = hashlib.sha256(), 0
    with (destination.open("wb") if destination else open(os.devnull, "wb")) as out:
        while block := source.read(CHUNK):
            digest.update(block)
            size += len(block)
            out.write(block)
        out.flush()
        if destination:
            os.fsync(out.fileno())
    return digest.hexdigest(), size


def _is_relative(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(_SAFE_PATH.fullmatch(path)) and not path.startswith("/") and ".." not in parts and "." not in parts


# ---- restore ---------------------------------------------------------------------------------------

def restore(engine: Engine, path: Path, files_dir: Path, *, actor: Actor, replace: bool = False) -> RestoreReport:
    """Restore the backup at ``path`` into the database of ``engine`` and the folder ``files_dir``.

    Every checksum is verified before anything is touched. A register that holds data is replaced only with
    ``replace``. Attachment files are written first (they are named by content, so extra ones harm nothing), then
    the database is replaced in one transaction that also checks each table's row count against the manifest;
    any failure rolls it back whole. A backup from an older schema is migrated afterwards. Only an ``actor``
    allowed ``backup_restore`` (admins) restores.
    """
    require(actor, "backup_restore")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sites-restore-") as work:
        manifest = _read(Path(path), Path(work))
        listing = _listing(Path(work) / DUMP, manifest["tables"])
        head = _newest_known(engine, manifest["schema_revision"])
        held = _check_target(engine, manifest, replace)
        written, present = _restore_files(Path(path), manifest, Path(files_dir))
        _restore_database(engine, Path(work) / DUMP, listing, manifest["tables"])
    engine.dispose()  # pooled connections may hold plans of the tables just dropped
    if head != manifest["schema_revision"]:
        _migrate(engine, manifest["schema_revision"], head)
    return RestoreReport(Path(path), str(manifest.get("created_at")), manifest["schema_revision"],
                         current_revision(engine) or "", manifest["tables"], written, present, held,
                         tuple(manifest.get("missing_files") or ()), time.monotonic() - started)


def _migrate(engine: Engine, restored: str, head: str) -> None:
    try:
        migrate(engine)
    except SQLAlchemyError as error:
        raise BackupError(f"the backup was restored at schema revision {restored}, but migrating it to {head} "
                          f"failed ({error.__class__.__name__}: {str(error).splitlines()[0]}); "
                          "fix the cause and run `sites migrate`") from error


def _newest_known(engine: Engine, revision: str) -> str:
    """The code's newest revision; a backup at a revision the code does not know (a newer one) is refused."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    head = script.get_current_head()
    if revision not in {r.revision for r in script.walk_revisions()}:
        raise BackupError(f"the backup's schema is at revision {revision}, which this version of the register does "
                          f"not know (it knows up to {head}): upgrade the register's code, then restore")
    return head


def _check_target(engine: Engine, manifest: dict[str, Any], replace: bool) -> dict[str, int]:
    """Refuse a register holding data (unless replacing) or lacking an extension the backup needs."""
    with engine.connect() as conn:
        held = holdings(conn)
        _check_extensions(conn, manifest["extensions"])
        name = conn.execute(text("SELECT current_database()")).scalar_one()
    if held and not replace:
        rows = ", ".join(f"{table}: {count}" for table, count in held.items())
        raise BackupError(f"database {name} already holds register data ({rows}): expected an empty register; "
                          "restoring replaces everything in it, so repeat with --replace if that is intended")
    return held


def holdings(conn: Connection) -> dict[str, int]:
    """Tables holding rows beyond what migrations seed (the regions and the system user); empty for a new register."""
    counts = {name: n for name, n in table_counts(conn).items() if n and name not in SEEDED_TABLES}
    if "app_user" in counts:
        others = select(func.count()).select_from(t.app_user).where(t.app_user.c.name != "system")
        counts["app_user"] = conn.execute(others).scalar_one()
    return {name: n for name, n in counts.items() if n}


def _check_extensions(conn: Connection, needed: dict[str, str]) -> None:
    installed = set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
    superuser = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    for name in sorted(set(needed) - installed):
        trusted = conn.execute(text("SELECT bool_or(trusted) FROM pg_available_extension_versions "
                                    "WHERE name = :name"), {"name": name}).scalar()
        if trusted is None:
            raise BackupError(f"the backup needs the {name} extension, which this PostgreSQL server lacks: "
                              f"install it (for PostGIS: apt-get install postgresql-<version>-postgis-3)")
        if not (trusted or superuser):
            raise BackupError(f"the backup needs the {name} extension: expected it in the database, which lacks "
                              f"it; a superuser must run CREATE EXTENSION {name} there first "
                              "(`sites db up` does so for the embedded cluster)")


def _listing(dump: Path, tables: dict[str, int]) -> str:
    """pg_restore's table of contents for the dump, without entries a non-superuser may not restore.

    Left out: comments on extensions (only their owner may set them) and the data of tables that are not the
    register's own, such as PostGIS's spatial_ref_sys (the extension fills it itself).
    """
    lines = _run([tool("pg_restore"), "--list", str(dump)]).splitlines()
    kept = []
    for line in lines:
        data = re.search(r"; \d+ \d+ TABLE DATA (\S+) (\S+) ", line)
        if " COMMENT - EXTENSION " in line or (data and (data[1] != "public" or data[2] not in tables)):
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def _restore_files(path: Path, manifest: dict[str, Any], files_dir: Path) -> tuple[int, int]:
    """Write the backup's attachment files the folder lacks (or holds damaged); return (written, already present)."""
    try:
        return _write_files(path, manifest, files_dir)
    except OSError as error:
        raise BackupError(f"could not write the attachment files into {files_dir} ({error}); "
                          "the database is unchanged") from error


def _write_files(path: Path, manifest: dict[str, Any], files_dir: Path) -> tuple[int, int]:
    written = present = 0
    with tarfile.open(path, mode="r:*") as tar:
        for member in tar:
            if not member.name.startswith(FILES):
                continue
            expected = manifest["members"][member.name]["sha256"]
            final = files_dir / member.name[len(FILES):]
            if final.is_file() and _describe(final)["sha256"] == expected:
                present += 1
                continue
            _write_file(tar.extractfile(member), final, expected, path)
            written += 1
    return written, present


def _write_file(source: IO[bytes], final: Path, expected: str, path: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    os.close(handle)
    try:
        digest, _ = _copy_hashing(source, Path(temporary))
        if digest != expected:  # the backup changed since it was verified
            raise BackupError(f"{path} changed while being restored: {final.name} no longer matches its manifest")
        os.replace(temporary, final)
    finally:
        Path(temporary).unlink(missing_ok=True)


# Drops the register's own objects in schema public (never an extension's), so that a backup from any revision
# loads into any database: pg_restore --clean would drop only what the backup holds, and tries to drop extensions.
CLEAR = """
SET client_min_messages = warning;
DO $clear$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
           format('%I.%I', n.nspname, c.relname) AS name, 1 AS step
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT EXISTS (SELECT FROM pg_depend d
           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
           p.oid::regprocedure::text, 2
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND NOT EXISTS (SELECT FROM pg_depend d
           WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
    UNION ALL
    SELECT CASE ty.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, format('%I.%I', n.nspname, ty.typname), 3
      FROM pg_type ty JOIN pg_namespace n ON n.oid = ty.typnamespace
     WHERE n.nspname = 'public' AND ty.typtype IN ('e', 'd') AND NOT EXISTS (SELECT FROM pg_depend d
           WHERE d.classid = 'pg_type'::regclass AND d.objid = ty.oid AND d.deptype = 'e')
    ORDER BY step, kind DESC
  LOOP
    EXECUTE format('DROP %s IF EXISTS %s CASCADE', item.kind, item.name);
  END LOOP;
END $clear$;
"""


def _restore_database(engine: Engine, dump: Path, listing: str, tables: dict[str, int]) -> None:
    """Clear, load and count in one transaction that Python commits only if pg_restore finished cleanly.

    pg_restore writes the SQL; psql runs it. Python feeds psql itself so that it, not psql reaching the end of its
    input, decides between COMMIT and ROLLBACK: a pg_restore that stopped half-way must not commit half a register.
    """
    list_file = dump.with_suffix(".list")
    list_file.write_text(listing)
    load = [tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", f"--dbname={_conninfo(engine)}"]
    script = [tool("pg_restore"), "--no-owner", "--no-privileges", f"--use-list={list_file}", "--file=-", str(dump)]
    with tempfile.TemporaryFile() as load_errors, tempfile.TemporaryFile() as script_errors:
        psql = subprocess.Popen(load, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=load_errors,
                                env=_environment(engine))
        producer = subprocess.Popen(script, stdout=subprocess.PIPE, stderr=script_errors)
        produced = _pump(producer, psql, tables)
        loaded = psql.wait()
        if loaded != 0:
            raise BackupError("restore failed and was rolled back; the database is unchanged: "
                              + _last_lines(load_errors))
        if produced != 0:
            raise BackupError("pg_restore could not read the dump; the database is unchanged: "
                              + _last_lines(script_errors))


def _pump(producer: subprocess.Popen, psql: subprocess.Popen, tables: dict[str, int]) -> int:
    """Send BEGIN, the clearing, pg_restore's script and then COMMIT (after the row-count check) or ROLLBACK."""
    try:
        psql.stdin.write(b"BEGIN;\n" + CLEAR.encode())
        shutil.copyfileobj(producer.stdout, psql.stdin, CHUNK)
        produced = producer.wait()
        psql.stdin.write((_count_check(tables) + "COMMIT;\n" if produced == 0 else "ROLLBACK;\n").encode())
    except BrokenPipeError:  # psql stopped at an error and rolled back; its own message says why
        producer.stdout.close()  # lets pg_restore, blocked on a full pipe, stop too
        produced = producer.wait()
    finally:
        producer.stdout.close()
        try:
            psql.stdin.close()
        except BrokenPipeError:
            pass
    return produced


def _count_check(tables: dict[str, int]) -> str:
    """A DO block that raises (so the transaction rolls back) when a table's rows differ from the manifest's."""
    checks = "".join(
        f"  SELECT count(*) INTO found FROM public.\"{name}\";\n"
        f"  IF found <> {count} THEN RAISE EXCEPTION 'table {name}: the backup holds {count} rows, "
        f"the restore gave %', found; END IF;\n"
        for name, count in sorted(tables.items()))  # names were checked against [a-z_][a-z0-9_]* on reading
    return f"DO $check$\nDECLARE found bigint;\nBEGIN\n{checks}END $check$;\n"


def _last_lines(stream: IO[bytes], keep: int = 3) -> str:
    stream.seek(0)
    lines = [re.sub(r"^psql:[^:]*:\d+: ", "", line).strip()
             for line in stream.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return " / ".join(lines[-keep:]) or "no message"


# ---- the PostgreSQL client programs ---------------------------------------------------------------

def tool(name: str) -> str:
    """A PostgreSQL client program of the newest installed server (the embedded cluster's), else one on PATH."""
    try:
        candidate = bin_dir() / name
    except ClusterError:
        candidate = None
    if candidate is not None and candidate.is_file():
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(f"{name} not found: expected it in /usr/lib/postgresql/<version>/bin or on PATH; install "
                      "the PostgreSQL client programs (apt-get install postgresql-client)")


def _conninfo(engine: Engine) -> str:
    """The database's connection parameters for the client programs, without the password."""
    url = engine.url
    params = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    params.update({key: value if isinstance(value, str) else value[-1] for key, value in url.query.items()})
    return make_conninfo(**{key: str(value) for key, value in params.items() if value is not None})


def _environment(engine: Engine) -> dict[str, str]:
    # The password goes in the environment, never on a command line, where `ps` would show it to every user.
    env = dict(os.environ)
    if engine.url.password:
        env["PGPASSWORD"] = engine.url.password
    return env


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        detail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise BackupError(f"{Path(cmd[0]).name} failed: {detail or f'exit status {result.returncode}'}")
    return result.stdout
