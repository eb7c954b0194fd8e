"""The audit trail read back: rows per site, user, period and action, newest first, exported as CSV or JSON lines."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from sqlalchemy import Connection, Engine, Integer, and_, case, func, or_, select, text
from sqlalchemy.sql import ColumnElement, Select

from gis import tables as t
from gis.services import CHILD_ENTITIES
from sites import vocab
from sites.errors import InvalidInput, NotFound, SitesError
from sites.permissions import Actor, require, require_audit
from sites.report_format import csv_cell

COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "site_code", "geom_sha256", "before", "after")
FORMATS = ("csv", "jsonl")
DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000
EXPORT_NAME = "kz-sites audit export"
MOMENT = "a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM[:SS] with an optional offset such as +05:00 (UTC when none)"


@dataclass(frozen=True)
class AuditFilter:
    """Which audit rows to read; None means any. ``since`` and ``until`` are timezone-aware and both included."""

    site: str | None = None
    user: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    action: str | None = None

    def describe(self) -> dict[str, str | None]:
        """The filters as an export's header names them (times in ISO 8601, None for any)."""
        return {"site": self.site, "user": self.user, "since": _iso(self.since), "until": _iso(self.until),
                "action": self.action}


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: where, in which format, how many rows, as of when (the snapshot's time)."""

    path: Path
    fmt: str
    rows: int
    exported_at: dt.datetime


def audit_filter(site: str | None = None, user: str | None = None, since: Any = None, until: Any = None,
                 action: str | None = None) -> AuditFilter:
    """Check filters as a user typed them.

    ``since`` and ``until`` take a date (a whole day in UTC, both ends included) or an ISO 8601 time.
    """
    if action and action not in vocab.AUDIT_ACTION:
        raise InvalidInput("action", action, "one of " + ", ".join(vocab.AUDIT_ACTION))
    start = parse_moment("since", since)
    end = parse_moment("until", until, end_of_day=True)
    if start and end and end < start:
        raise InvalidInput("until", until, f"a moment at or after since ({_iso(start)})")
    return AuditFilter(site or None, user or None, start, end, action or None)


def parse_moment(field: str, value: Any, *, end_of_day: bool = False) -> dt.datetime | None:
    """A date or time as a timezone-aware datetime; a bare date is its first (or, for ``end_of_day``, last)
    microsecond in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return _day_bound(value, end_of_day)
    written = str(value).strip()
    try:
        if len(written) == 10:  # YYYY-MM-DD; fromisoformat would also take a time's first ten characters
            return _day_bound(dt.date.fromisoformat(written), end_of_day)
        return parse_moment(field, dt.datetime.fromisoformat(written))
    except ValueError:
        raise InvalidInput(field, value, MOMENT) from None


def _day_bound(day: dt.date, end_of_day: bool) -> dt.datetime:
    clock = dt.time.max if end_of_day else dt.time.min
    return dt.datetime.combine(day, clock, tzinfo=dt.timezone.utc)


# ---- reading ---------------------------------------------------------------------------------------------

def list_audit(engine: Engine, actor: Actor, filters: AuditFilter = AuditFilter(), *,
               limit: int | None = None, before: int | None = None) -> list[dict[str, Any]]:
    """The audit rows ``filters`` select, newest first, if ``actor`` may read them.

    At most ``limit`` rows (default 50); ``before`` (an id) gives the next page: only rows older than it.
    """
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", limit, f"a number of rows from 1 to {MAX_LIMIT}")
    with engine.connect() as conn:
        query = audit_query(filters, check_access(conn, actor, filters)).limit(limit)
        if before is not None:
            query = query.where(t.audit.c.id < before)
        return [_plain(row) for row in conn.execute(query).mappings()]


def check_access(conn: Connection, actor: Actor, filters: AuditFilter) -> int | None:
    """Refuse unknown sites and users and what ``actor`` may not read; return the named site's id."""
    site_id = region = None
    if filters.site:
        found = conn.execute(select(t.site.c.id, t.site.c.region_kato).where(t.site.c.code == filters.site)).first()
        if found is None:
            raise NotFound(f"no site with code {filters.site!r}")
        site_id, region = found
    if filters.user and conn.execute(select(t.app_user.c.id).where(t.app_user.c.name == filters.user)).first() is None:
        raise InvalidInput("user", filters.user, "the name of a register user (`sites users list` shows them)")
    require_audit(actor, user=filters.user, site=site_id is not None, site_region=region)
    return site_id


def audit_query(filters: AuditFilter, site_id: int | None = None) -> Select:
    """The rows ``filters`` select with their site's code, newest first (built here, run by the caller)."""
    a = t.audit.c
    # The site a row belongs to: its own id for a site row, after.site_id for a sample, inspection...
    site_ref = case((a.entity == "site", a.entity_id),
                    (a.entity.in_(CHILD_ENTITIES), a.after.op("->>")("site_id"))).cast(Integer)
    return (
        select(a.id, a.at, a.actor, a.action, a.entity, a.entity_id, t.site.c.code.label("site_code"),
               a.geom_sha256, a.before, a.after)
        .select_from(t.audit.outerjoin(t.site, t.site.c.id == site_ref))
        .where(*_conditions(filters, site_id))
        .order_by(a.id.desc())
    )


def _conditions(filters: AuditFilter, site_id: int | None) -> list[ColumnElement[bool]]:
    a = t.audit.c
    found = []
    if site_id is not None:  # the same rows as Register.history, so the indexes of migration 0004 serve both
        found.append(or_(and_(a.entity == "site", a.entity_id == str(site_id)),
                         and_(a.entity.in_(CHILD_ENTITIES), a.after.op("->>")("site_id") == str(site_id))))
    if filters.user:
        found.append(a.actor == filters.user)
    if filters.since:
        found.append(a.at >= filters.since)
    if filters.until:
        found.append(a.at <= filters.until)
    if filters.action:
        found.append(a.action == filters.action)
    return found


def _plain(row) -> dict[str, Any]:
    values = dict(row)
    values["at"] = values["at"].astimezone(dt.timezone.utc)
    return values


# ---- exporting -------------------------------------------------------------------------------------------

def export_audit(engine: Engine, actor: Actor, filters: AuditFilter, fmt: str, path: Path) -> ExportReport:
    """Write the rows ``filters`` select to ``path`` as CSV or JSON lines, after a header naming the filters and
    the export time; the count and the rows come from one snapshot.

    The file is written under a temporary name beside ``path`` (readable by its owner only, as it holds the
    trail) and renamed when complete, so a failed export never leaves a partial file at ``path``.
    """
    if fmt not in FORMATS:
        raise InvalidInput("format", fmt, "one of " + ", ".join(FORMATS))
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidInput("output", str(path), "a file in an existing folder")
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        query = audit_query(filters, check_access(conn, actor, filters))
        exported_at = conn.execute(select(func.now())).scalar_one().astimezone(dt.timezone.utc)
        count = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        header = {"export": EXPORT_NAME, "exported_at": _iso(exported_at), "exported_by": actor.name,
                  "filters": filters.describe(), "rows": count, "columns": list(COLUMNS)}
        rows = (_plain(row) for row in conn.execute(query.execution_options(yield_per=1000)).mappings())
        _write_replacing(path, lambda out: WRITERS[fmt](out, header, rows))
    return ExportReport(path, fmt, count, exported_at)


def _write_csv(out: IO[str], header: dict[str, Any], rows: Iterable[dict[str, Any]]) -> None:
    # The header's lines start with '#' and come before the column names: a reader skips them.
    out.write(f"# {header['export']}\n# exported_at: {header['exported_at']}\n")
    out.write(f"# exported_by: {json.dumps(header['exported_by'], ensure_ascii=False)}\n")
    out.write(f"# filters: {json.dumps(header['filters'], ensure_ascii=False)}\n# rows: {header['rows']}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(_csv_value(row[name])) for name in COLUMNS])


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, dt.datetime):
        return _iso(value)
    return "" if value is None else value


def _write_jsonl(out: IO[str], header: dict[str, Any], rows: Iterable[dict[str, Any]]) -> None:
    out.write(json.dumps(header, ensure_ascii=False) + "\n")
    for row in rows:
        out.write(json.dumps(dict(row, at=_iso(row["at"])), ensure_ascii=False, sort_keys=True) + "\n")


WRITERS: dict[str, Callable[[IO[str], dict[str, Any], Iterable[dict[str, Any]]], None]] = {
    "csv": _write_csv, "jsonl": _write_jsonl,
}


def _write_replacing(path: Path, write: Callable[[IO[str]], None]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")  # mode 600
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.timezone.utc).isoformat()


# ---- the app's database role -----------------------------------------------------------------------------

# The register's own tables, views and sequences in schema public (never an extension's), owned by the caller.
OWNED = text("""
SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
   AND pg_get_userbyid(c.relowner) = current_user
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY c.relname
""")

# What would let a role undo the separation: superuser (bypasses privileges), CREATEROLE (may grant itself the
# owner's role), membership of the owner, owning the database (and so schema public, whose owner drops any table).
POWERS = text("""
SELECT r.rolsuper, r.rolcreaterole, pg_has_role(r.oid, current_user, 'MEMBER'),
       r.oid = (SELECT datdba FROM pg_database WHERE datname = current_database())
  FROM pg_roles r WHERE r.rolname = :role
""")

READ_ONLY_TABLES = {"alembic_version": "SELECT", "audit": "SELECT, INSERT"}  # audit: read and append only


def grant_runtime_role(engine: Engine, actor: Actor, role: str) -> dict[str, str]:
    """Let ``role`` run the app without owning anything: read and write the register's tables, but only read
    and append to the audit trail. Run as the tables' owner (the role migrations run as); returns what each
    object was granted.

    Without ownership the role can neither update, delete nor truncate audit rows, nor switch the append-only
    trigger off, nor drop the table. Grants are not kept by ``sites restore`` nor given to tables a later
    migration creates: run this again after each. Only an admin (``manage_users``) may.
    """
    require(actor, "manage_users")
    granted = {}
    with engine.begin() as conn:
        _check_runtime_role(conn, role)
        quoted = conn.dialect.identifier_preparer.quote(role)
        for kind, name in conn.execute(OWNED).all():
            rights, target = _rights(kind, name)
            object_name = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"REVOKE ALL ON {target} {object_name} FROM {quoted}"))
            conn.execute(text(f"GRANT {rights} ON {target} {object_name} TO {quoted}"))
            granted[name] = rights
    return granted


def _rights(kind: str, name: str) -> tuple[str, str]:
    if kind == "S":
        return "USAGE, SELECT", "SEQUENCE"  # nextval() for new ids
    if kind in ("v", "m"):
        return "SELECT", "TABLE"
    return READ_ONLY_TABLES.get(name, "SELECT, INSERT, UPDATE, DELETE"), "TABLE"


def _check_runtime_role(conn: Connection, role: str) -> None:
    """Refuse a caller that does not own the audit table, and a role that could undo the separation."""
    me = conn.execute(text("SELECT current_user")).scalar_one()
    owner = conn.execute(text("SELECT pg_get_userbyid(relowner) FROM pg_class "
                              "WHERE oid = to_regclass('public.audit')")).scalar()
    if owner is None:
        raise SitesError("the database has no audit table: run `sites migrate` first")
    if owner != me:
        raise SitesError(f"table audit is owned by {owner}, not by {me}: run this as the tables' owner "
                         "(the role `sites migrate` runs as)")
    found = conn.execute(POWERS, {"role": role}).first()
    if found is None:
        raise NotFound(f"no database role named {role!r}: a superuser creates it first "
                       f"(CREATE ROLE {role} LOGIN PASSWORD '...')")
    if any(found):
        raise InvalidInput("role", role, f"a role that is not a superuser, has no CREATEROLE, does not own the "
                                         f"database and is not (a member of) the tables' owner {me}: each of these "
                                         "could switch the audit's append-only trigger off or drop the table")
