"""The register's service layer: every write goes through here, checked, versioned and audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable, Mapping

import shapely
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from gis import tables as t
from gis.errors import translate_integrity_error
from sites import vocab
from sites.errors import InvalidInput, NotFound, StaleWrite
from sites.accounts import check_password, check_user_name
from sites.permissions import RESERVED_NAMES, SYSTEM_USER, Actor, require
from sites.records import KAZAKHSTAN_EXTENT, SITE_FIELDS, Extent, geometry_sha256, validate_site
from sites.regions import parse_region, region_of
from sites.samples import validate_sample, validate_site_contaminant

STORED_FIELDS = [f.name for f in SITE_FIELDS if f.name not in ("lat", "lon", "footprint")]
SITE_COLUMNS = [t.site.c[name] for name in STORED_FIELDS] + [
    t.site.c.id, t.site.c.version, t.site.c.archived, t.site.c.geom_sha256,
    t.site.c.created_at, t.site.c.updated_at,
    func.ST_Y(t.site.c.geom).label("lat"), func.ST_X(t.site.c.geom).label("lon"),
    func.ST_AsText(t.site.c.footprint).label("footprint"),
]


CHILD_ENTITIES = ("site_contaminant", "sample", "inspection", "attachment")  # as indexed by migration 0004
USER_COLUMNS = [t.app_user.c[name] for name in ("name", "role", "regions", "active", "display_name", "email")]


class Register:
    """Reads and writes of sites, samples, users and layers, each as one transaction.

    ``extent`` (min lon, min lat, max lon, max lat) is where sites may lie: Kazakhstan for the national register;
    a training or test register loaded with foreign inventories passes ``sites.records.WORLD_EXTENT`` or a box.
    """

    def __init__(self, engine: Engine, *, rescore_on_write: bool = True, extent: Extent = KAZAKHSTAN_EXTENT):
        self.engine = engine
        self.rescore_on_write = rescore_on_write
        self.extent = extent

    # ---- users -----------------------------------------------------------------------------
    def actor(self, name: str = SYSTEM_USER) -> Actor:
        """Load the user ``name`` as an :class:`Actor`; unknown names are refused."""
        with self.engine.connect() as conn:
            # Only the columns every schema revision has: a backup's older schema is loaded as the system user.
            query = select(t.app_user.c.name, t.app_user.c.role, t.app_user.c.regions, t.app_user.c.active)
            row = conn.execute(query.where(t.app_user.c.name == name)).mappings().first()
        if row is None:
            raise NotFound(f"no user named {name!r}; create it with `sites users add` or act as 'system'")
        return Actor(row["name"], row["role"], frozenset(row["regions"]), row["active"])

    def add_user(self, actor: Actor, name: str, role: str, regions: Iterable[str] = (), display_name: str | None = None,
                 *, password: str | None = None, email: str | None = None) -> Actor:
        """Add a user; with ``password`` they can sign in to the app, with ``email`` through single sign-on.

        A user without either exists for the audit trail and ``sites --as`` only, until a password is set.
        """
        require(actor, "manage_users")
        check_user_name(name)
        if name in RESERVED_NAMES:
            raise InvalidInput("name", name, f"a name other than {' or '.join(sorted(RESERVED_NAMES))} (reserved)")
        if role not in vocab.ROLES:
            raise InvalidInput("role", role, "one of " + ", ".join(vocab.ROLES))
        scope = sorted({parse_region(r) for r in regions})
        row = {"name": name, "role": role, "regions": scope, "display_name": display_name,
               "email": _email(email)}
        secret = _password_values(name, password) if password is not None else {}
        with self._write() as conn:
            conn.execute(insert(t.app_user).values(**row, **secret))
            write_audit(conn, actor, "insert", "app_user", name, None, dict(row, password_set=bool(secret)))
        return Actor(name, role, frozenset(scope))

    def set_password(self, actor: Actor, name: str, password: str) -> None:
        """Give ``name`` a new password; it also unlocks the account and ends the user's running app sessions."""
        require(actor, "manage_users")
        if name in RESERVED_NAMES:
            raise InvalidInput("name", name, "a user who signs in (the system user never does)")
        values = _password_values(name, password)
        with self._write() as conn:
            before = self._user(conn, name)
            conn.execute(update(t.app_user).where(t.app_user.c.name == name).values(**values))
            write_audit(conn, actor, "update", "app_user", name, before, dict(before, password_set=True,
                                                                           failed_logins=0, locked_until=None))

    def set_active(self, actor: Actor, name: str, active: bool) -> None:
        """Deactivate (or reactivate) ``name``: a deactivated user can neither sign in nor act, and is kept."""
        require(actor, "manage_users")
        if name == SYSTEM_USER:
            raise InvalidInput("name", name, "a user other than system (scripts and data loads act as it)")
        with self._write() as conn:
            before = self._user(conn, name)
            conn.execute(update(t.app_user).where(t.app_user.c.name == name).values(active=active))
            write_audit(conn, actor, "update", "app_user", name, before, dict(before, active=active))

    @staticmethod
    def _user(conn: Connection, name: str) -> dict[str, Any]:
        """The user ``name`` as the audit trail records users: never the password hash itself."""
        query = select(*USER_COLUMNS, t.app_user.c.password_hash.isnot(None).label("password_set")).where(
            t.app_user.c.name == name).with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no user named {name!r}; `sites users list` lists them")
        return dict(row)

    def list_users(self) -> list[dict[str, Any]]:
        """Every user with role, regions, active, email, whether a password is set and any lock."""
        query = select(*USER_COLUMNS, t.app_user.c.password_hash.isnot(None).label("password_set"),
                       t.app_user.c.locked_until)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(t.app_user.c.name)).mappings()]

    # ---- sites: reads ----------------------------------------------------------------------
    def get_site(self, code: str, conn: Connection | None = None) -> dict[str, Any]:
        query = select(*SITE_COLUMNS).where(t.site.c.code == code)
        if conn is not None:
            row = conn.execute(query).mappings().first()
        else:
            with self.engine.connect() as own:
                row = own.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no site with code {code!r}")
        return dict(row)

    def site_codes(self, include_archived: bool = False) -> list[str]:
        query = select(t.site.c.code).order_by(t.site.c.code)
        if not include_archived:
            query = query.where(~t.site.c.archived)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def history(self, code: str) -> list[dict[str, Any]]:
        """Every audited change of one site and of its samples, contaminants, inspections and attachments,
        oldest first."""
        site_id = str(self.get_site(code)["id"])
        own = and_(t.audit.c.entity == "site", t.audit.c.entity_id == site_id)
        children = and_(t.audit.c.entity.in_(CHILD_ENTITIES), t.audit.c.after.op("->>")("site_id") == site_id)
        query = (
            select(t.audit).where(or_(own, children))
            .order_by(t.audit.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # ---- sites: writes ---------------------------------------------------------------------
    def create_site(self, actor: Actor, data: Mapping[str, Any], contaminants: Iterable[Mapping[str, Any]] = (),
                    samples: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """Validate and store a new site with its contaminants and samples, all or nothing.

        Returns the site as stored (with its code, id and version 1).
        """
        with self._write() as conn:
            stored = self.create_site_in(conn, actor, data, contaminants, samples)
        self._rescore([stored["id"]])
        return stored

    def create_site_in(self, conn: Connection, actor: Actor, data: Mapping[str, Any],
                       contaminants: Iterable[Mapping[str, Any]] = (),
                       samples: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """:meth:`create_site` within the caller's transaction, so more can be stored with it all or nothing.

        The caller commits (constraint violations surface as ``IntegrityError``) and rescores the site.
        """
        cleaned = validate_site(data, self.extent)
        found = [validate_site_contaminant(c) for c in contaminants]
        results = [validate_sample(s) for s in samples]
        _assign_admin_units(conn, cleaned)
        require(actor, "edit_site", cleaned["region_kato"])
        if cleaned["code"] is None:
            cleaned["code"] = _next_code(conn, cleaned["region_kato"])
        values = _row_values(cleaned)
        site_id = conn.execute(insert(t.site).values(**values).returning(t.site.c.id)).scalar_one()
        stored = self.get_site(cleaned["code"], conn)
        write_audit(conn, actor, "insert", "site", site_id, None, stored)
        for row in found:
            _insert_contaminant(conn, actor, site_id, row)
        for row in results:
            _insert_sample(conn, actor, site_id, row)
        return stored

    def update_site(self, actor: Actor, code: str, expected_version: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply ``changes`` if the site is still at ``expected_version``; otherwise refuse and change nothing."""
        with self._write() as conn:
            before = self._locked(conn, code)
            require(actor, "edit_site", before["region_kato"])
            _check_version(conn, before, expected_version)
            merged = {name: before.get(name) for name in (f.name for f in SITE_FIELDS)}
            merged.update(changes)
            cleaned = validate_site(merged, self.extent)
            if cleaned["code"] != code:
                raise InvalidInput("code", cleaned["code"], f"the site's own code {code}; codes never change")
            _assign_admin_units(conn, cleaned)
            require(actor, "edit_site", cleaned["region_kato"])
            values = _row_values(cleaned)
            values.update(version=t.site.c.version + 1, updated_at=func.now())
            conn.execute(update(t.site).where(t.site.c.id == before["id"]).values(**values))
            after = self.get_site(code, conn)
            write_audit(conn, actor, "update", "site", before["id"], before, after)
        self._rescore([before["id"]])
        return after

    def archive_site(self, actor: Actor, code: str, expected_version: int, archived: bool = True) -> dict[str, Any]:
        """Archive (or restore) a site: it leaves the map and rankings but nothing is deleted."""
        with self._write() as conn:
            before = self._locked(conn, code)
            require(actor, "edit_site", before["region_kato"])
            _check_version(conn, before, expected_version)
            conn.execute(
                update(t.site).where(t.site.c.id == before["id"])
                .values(archived=archived, version=t.site.c.version + 1, updated_at=func.now())
            )
            after = self.get_site(code, conn)
            write_audit(conn, actor, "archive" if archived else "restore", "site", before["id"], before, after)
        self._rescore([before["id"]])
        return after

    def add_contaminant(self, actor: Actor, code: str, data: Mapping[str, Any]) -> int:
        """Record that a site holds (or is suspected to hold) a contaminant in a medium; return its id."""
        row = validate_site_contaminant(data)
        with self._write() as conn:
            site = self._locked(conn, code)
            require(actor, "edit_site", site["region_kato"])
            new_id = _insert_contaminant(conn, actor, site["id"], row)
        self._rescore([site["id"]])
        return new_id

    def add_sample(self, actor: Actor, code: str, data: Mapping[str, Any]) -> int:
        """Store a sample result (value normalised to its medium's canonical unit); return its id."""
        row = validate_sample(data)
        with self._write() as conn:
            site = self._locked(conn, code)
            require(actor, "edit_site", site["region_kato"])
            new_id = _insert_sample(conn, actor, site["id"], row)
        self._rescore([site["id"]])
        return new_id

    # ---- helpers ---------------------------------------------------------------------------
    def _rescore(self, site_ids: list[int]) -> None:
        """Keep the ranking current: rescore what changed with the configuration of the latest run."""
        if self.rescore_on_write:
            from gis.scoring import rescore_changed  # scoring reads through this module; import late

            rescore_changed(self.engine, site_ids)

    def _locked(self, conn: Connection, code: str) -> dict[str, Any]:
        """Read a site and lock its row until the transaction ends, so version checks cannot race."""
        site_id = conn.execute(select(t.site.c.id).where(t.site.c.code == code).with_for_update()).scalar()
        if site_id is None:
            raise NotFound(f"no site with code {code!r}")
        return self.get_site(code, conn)

    def _write(self):
        return _Transaction(self.engine)


class _Transaction:
    """``engine.begin()`` that turns constraint violations into user errors naming the field."""

    def __init__(self, engine: Engine):
        self._context = engine.begin()

    def __enter__(self) -> Connection:
        return self._context.__enter__()

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            self._context.__exit__(exc_type, exc, tb)
        except IntegrityError as error:  # raised at commit (deferred checks)
            raise translate_integrity_error(error) from error
        if isinstance(exc, IntegrityError):
            raise translate_integrity_error(exc) from exc
        return False


def _check_version(conn: Connection, before: Mapping[str, Any], expected: int) -> None:
    if before["version"] == expected:
        return
    raise StaleWrite(before["code"], expected, before["version"], _changed_since(conn, before, expected))


def _changed_since(conn: Connection, current: Mapping[str, Any], version: int) -> dict[str, tuple]:
    """Fields that differ between ``version`` (read from the audit trail) and the stored row: (then, now)."""
    then = conn.execute(
        select(t.audit.c.after).where(
            t.audit.c.entity == "site", t.audit.c.entity_id == str(current["id"]),
            t.audit.c.after["version"].as_integer() == version,
        ).order_by(t.audit.c.id.desc()).limit(1)
    ).scalar()
    now = _jsonable(current)
    if then is None:
        return {}
    skip = {"version", "updated_at"}
    return {k: (then.get(k), now.get(k)) for k in now if k not in skip and then.get(k) != now.get(k)}


def _insert_contaminant(conn: Connection, actor: Actor, site_id: int, row: dict[str, Any]) -> int:
    row = dict(row, site_id=site_id)
    new_id = conn.execute(insert(t.site_contaminant).values(**row).returning(t.site_contaminant.c.id)).scalar_one()
    write_audit(conn, actor, "insert", "site_contaminant", new_id, None, row)
    return new_id


def _insert_sample(conn: Connection, actor: Actor, site_id: int, row: dict[str, Any]) -> int:
    row = dict(row, site_id=site_id, created_by=actor.name)
    new_id = conn.execute(insert(t.sample).values(**row).returning(t.sample.c.id)).scalar_one()
    write_audit(conn, actor, "insert", "sample", new_id, None, row)
    return new_id


def _row_values(cleaned: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: cleaned[name] for name in STORED_FIELDS}
    values["geom"] = func.ST_SetSRID(func.ST_MakePoint(cleaned["lon"], cleaned["lat"]), 4326)
    footprint = cleaned["footprint"]
    values["footprint"] = None if footprint is None else func.ST_GeomFromText(footprint.wkt, 4326)
    values["geom_sha256"] = geometry_sha256(cleaned["lat"], cleaned["lon"], footprint)
    return values


def _password_values(name: str, password: str) -> dict[str, Any]:
    """Columns that set a new password: its hash, when, and a clean slate of failed sign-ins."""
    from gis.auth import hash_password  # argon2 only where passwords are set

    return {"password_hash": hash_password(check_password(password, name)), "password_changed_at": func.now(),
            "failed_logins": 0, "locked_until": None}


def _email(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if text.count("@") != 1 or text.startswith("@") or text.endswith("@") or any(c.isspace() for c in text):
        raise InvalidInput("email", value, "an email address such as name@example.kz")
    return text


def _assign_admin_units(conn: Connection, cleaned: dict[str, Any]) -> None:
    """Take region and district from loaded boundaries; keep what was given where none covers the point."""
    point = func.ST_SetSRID(func.ST_MakePoint(cleaned["lon"], cleaned["lat"]), 4326)
    query = select(t.boundary.c.level, t.boundary.c.kato).where(func.ST_Covers(t.boundary.c.geom, point))
    for level, kato in conn.execute(query):
        cleaned["region_kato" if level == "region" else "district_kato"] = kato


def _next_code(conn: Connection, region_kato: str | None) -> str:
    return allocate_codes(conn, region_kato, 1)[0]


MAX_CODE = 9999  # codes are KZ-XXX-NNNN: four digits


def allocate_codes(conn: Connection, region_kato: str | None, count: int) -> list[str]:
    """The next ``count`` free codes of the region's series (KZ-XXX-NNNN outside any region), in order.

    The codes stay reserved until the caller's transaction ends; a bulk import takes a whole run at once.
    """
    region = region_of(region_kato)
    prefix = f"KZ-{region.abbr if region else 'XXX'}-"
    # Serialise code allocation per prefix so two inspectors saving at once never get the same code.
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(prefix))))
    numbers = func.substr(t.site.c.code, len(prefix) + 1)
    in_series = t.site.c.code.like(prefix + "%") & numbers.op("~")("^[0-9]{4}$")
    last = conn.execute(select(func.max(numbers.cast(t.Integer))).where(in_series)).scalar() or 0
    if last + count <= MAX_CODE:
        return [f"{prefix}{number:04d}" for number in range(last + 1, last + count + 1)]
    # The top of the series is taken (an imported code such as KZ-PAV-9999): use the numbers still free below it.
    used = set(conn.execute(select(numbers.cast(t.Integer)).where(in_series)).scalars())
    free = [number for number in range(1, MAX_CODE + 1) if number not in used][:count]
    if len(free) < count:
        raise InvalidInput("code", f"{count} more codes in {prefix}NNNN",
                           f"room in the series ({MAX_CODE - len(used)} of {MAX_CODE} codes free)")
    return [f"{prefix}{number:04d}" for number in free]


def write_audit(conn: Connection, actor: Actor, action: str, entity: str, entity_id: Any,
           before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
    conn.execute(insert(t.audit).values(
        actor=actor.name, action=action, entity=entity, entity_id=str(entity_id),
        before=_jsonable(before), after=_jsonable(after),
    ))


def _jsonable(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return json.loads(json.dumps(dict(row), default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, shapely.Geometry):
        return value.wkt
    raise TypeError(f"cannot store {type(value).__name__} in the audit trail")
