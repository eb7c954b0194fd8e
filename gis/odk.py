"""Import ODK Central and KoboToolbox exports of the kz_legacy_sites form: each submission stored all or nothing."""

from __future__ import annotations

import hashlib
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, NamedTuple

import orjson
from shapely.geometry import Polygon
from shapely.validation import explain_validity
from sqlalchemy import Connection, Engine, Text, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from gis import tables as t
from gis.duplicates import find_duplicates
from gis.errors import translate_integrity_error
# The bulk importer's checked unpacking (paths kept inside the archive, truncation refused), shared not copied.
from gis.import_readers import SourceRow, Table, extract_entry, file_sha256, open_zip, read_table, safe_entries
from gis.inspections import Staging, Upload, insert_inspection, prepare
from gis.layer_import import clean_geometry
from gis.services import Register, write_audit
from gis.site_import import STORED_PROBLEMS, Report
from gis.xlsform import FORM_ID, QUESTIONS, form_version, unit_of_slug
from sites import vocab
from sites.attachments import validate_inspection
from sites.errors import Conflict, InvalidInput, PermissionDenied, SitesError
from sites.permissions import Actor, require_somewhere
from sites.records import FIELDS_BY_NAME, KAZAKHSTAN_EXTENT, Extent, validate_site
from sites.samples import validate_sample, validate_site_contaminant

__all__ = ["SOURCE", "Export", "Submission", "open_export", "submissions", "parse_geoshape", "import_export"]

SOURCE = f"odk:{FORM_ID}"
MAIN_FILE = f"{FORM_ID}.csv"
REPEATS = ("contaminant", "sample", "photo")
DEFAULT_MAX_MB = 1000.0  # photos make field exports far larger than the tables `sites import` reads
EXPECTED_EXPORT = (f"an ODK Central 'CSV zip with media' export of form {FORM_ID} ({MAIN_FILE}, its repeat tables and "
                   "media/), or a KoboToolbox CSV export of it with XML values and headers")
SITE_QUESTIONS = ("name_en", "name_ru", "activity", "location_precision", "containment", "accessibility", "area_ha",
                  "description")
# Where each flavour puts the geopoint: ODK Central splits it; KoboToolbox adds _location_* columns or keeps one.
GEOPOINT_COLUMNS = (("location-Latitude", "location-Longitude", "location-Altitude", "location-Accuracy"),
                    ("_location_latitude", "_location_longitude", "_location_altitude", "_location_precision"))
INSTANCE_COLUMNS = ("meta-instanceID", "meta/instanceID")
DEPRECATED_COLUMNS = ("meta-deprecatedID", "meta/deprecatedID")
KEY_COLUMNS = ("KEY", "meta/rootUuid", "_uuid") + INSTANCE_COLUMNS
# Central's ReviewState; KoboToolbox's _validation_status (its uid or its label).
REJECTED_REVIEWS = {"rejected", "validation_status_not_approved", "not approved"}
# Register fields of a sample -> the sample repeat's column holding them.
SAMPLE_COLUMNS = {"contaminant": "sample_contaminant", "medium": "sample_medium", "value": "result",
                  "qualifier": "result", "unit": "unit", "detection_limit": "detection_limit", "depth_m": "depth_m",
                  "sampled_on": "sampled_on", "laboratory": "laboratory", "source": "KEY"}
CONTAMINANT_COLUMNS = {"contaminant": "contaminant_code", "medium": "contaminant_medium", "status": "status",
                       "source": "KEY"}
INSPECTION_COLUMNS = {"inspected_on": "inspected_on", "condition": "containment", "findings": "findings",
                      "inspector": "SubmitterName"}


def _questions() -> dict[str | None, tuple[str, ...]]:
    """Question names of the form by repeat (None: the main table), as the export names its columns."""
    found: dict[str | None, list[str]] = {None: []}
    repeat = None
    for kind, name, *_ in QUESTIONS:
        if kind == "begin_repeat":
            repeat = name
            found[repeat] = []
        elif kind == "end_repeat":
            repeat = None
        else:
            found[repeat].append(name)
    return {name: tuple(names) for name, names in found.items()}


QUESTION_NAMES = _questions()


# ---- reading the export ---------------------------------------------------------------------------------------------
@dataclass
class Export:
    """An export as read: main table, repeat tables and media files (extracted until :func:`open_export` ends)."""

    name: str
    sha256: str
    flavour: str
    main: Table
    repeats: dict[str, Table]
    media: dict[str, Path]
    notes: list[str] = field(default_factory=list)


@contextmanager
def open_export(path: str | Path, max_bytes: int = int(DEFAULT_MAX_MB * 1_000_000)) -> Iterator[Export]:
    """Read an ODK Central "CSV zip with media" export of the form, or a KoboToolbox CSV of its main table.

    Parameters
    ----------
    path
        The zip as ODK Central gives it (``kz_legacy_sites.csv``, ``kz_legacy_sites-contaminant.csv``,
        ``kz_legacy_sites-sample.csv``, ``kz_legacy_sites-photo.csv``, ``media/``; also inside one folder, as when
        the unzipped export is zipped again), a zip holding one KoboToolbox CSV, or that CSV itself.
    max_bytes
        The file, and the zip's contents once unpacked, must not be larger.

    Raises
    ------
    InvalidInput
        For an unsafe, truncated or oversized archive, or one that is not an export of the form.
    """
    path = Path(path)
    _check_file(path, max_bytes)
    if path.suffix.lower() == ".csv":
        main = _read_csv(path, max_bytes)
        yield _export(path.name, main, {}, {})
        return
    with open_zip(path) as archive, tempfile.TemporaryDirectory(prefix="sites-odk-") as folder:
        entries = safe_entries(archive, path.name)
        unpacked = sum(info.file_size for info in entries)
        if unpacked > max_bytes:
            raise InvalidInput("file", f"{path.name} unpacking to {unpacked:,} bytes",
                               f"an archive whose contents total at most {max_bytes:,} bytes")
        extracted = [extract_entry(archive, info, Path(folder), path.name) for info in entries]
        yield _from_archive(path, {relative: target for target, relative in extracted}, max_bytes)


def _check_file(path: Path, max_bytes: int) -> None:
    if not path.is_file() or path.suffix.lower() not in (".zip", ".csv"):
        raise InvalidInput("file", str(path), "an existing .zip or .csv file: " + EXPECTED_EXPORT)
    if path.stat().st_size > max_bytes:
        raise InvalidInput("file", f"{path.name} of {path.stat().st_size:,} bytes",
                           f"a file of at most {max_bytes:,} bytes")


def _from_archive(path: Path, files: dict[str, Path], max_bytes: int) -> Export:
    """The main table, the repeat tables beside it and the files of its media folder."""
    main_entry = _main_entry(files, path.name)
    folder = PurePosixPath(main_entry).parent
    repeats, notes = {}, []
    for entry, extracted in files.items():
        where = PurePosixPath(entry)
        repeat = where.stem.removeprefix(f"{FORM_ID}-")
        if where.parent != folder or where.suffix.lower() != ".csv" or entry == main_entry:
            continue
        if repeat in REPEATS and where.stem != repeat:
            repeats[repeat] = _read_csv(extracted, max_bytes, ("PARENT_KEY",))
        else:
            notes.append(f"{entry}: not a table of form {FORM_ID}; ignored")
    media = {PurePosixPath(e).name: p for e, p in files.items() if PurePosixPath(e).parent == folder / "media"}
    export = _export(path.name, _read_csv(files[main_entry], max_bytes), repeats, media)
    export.sha256, export.notes = file_sha256(path), export.notes + notes
    return export


def _main_entry(files: dict[str, Path], archive: str) -> str:
    """The main table: ``kz_legacy_sites.csv`` wherever it is, else the archive's only CSV (KoboToolbox names it
    after the form's title)."""
    named = [e for e in files if PurePosixPath(e).name == MAIN_FILE]
    others = [e for e in files if e.lower().endswith(".csv") and not PurePosixPath(e).name.startswith(FORM_ID)]
    found = named or (others if len(others) == 1 else [])
    if len(found) != 1:
        listing = ", ".join(sorted(files)[:12]) or "nothing"
        raise InvalidInput("file", f"{archive} holding {listing}", EXPECTED_EXPORT)
    return found[0]


def _read_csv(path: Path, max_bytes: int, required: tuple[str, ...] = ()) -> Table:
    """A table of the export; the delimiter is taken from the header line (multi-line answers can fool sniffing)."""
    with path.open("rb") as handle:
        header = handle.readline(65536)
    delimiter = max((b",", b";", b"\t"), key=header.count).decode()
    table = read_table(path, delimiter=delimiter, max_bytes=max_bytes)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InvalidInput("file", f"{table.name} without column {missing[0]}", EXPECTED_EXPORT)
    return table


def _export(name: str, main: Table, repeats: dict[str, Table], media: dict[str, Path]) -> Export:
    columns = set(main.columns)
    located = any({lat, lon} <= columns for lat, lon, *_ in GEOPOINT_COLUMNS) or "location" in columns
    if not located or "activity" not in columns or not columns & set(KEY_COLUMNS):
        shown = ", ".join(main.columns[:8])
        raise InvalidInput("file", f"{main.name} with columns {shown}...",
                           f"{EXPECTED_EXPORT}: question names as headers, the location, activity and instanceID")
    flavour = "ODK Central" if "KEY" in columns else "KoboToolbox" if "_uuid" in columns else "ODK"
    tables = [main, *repeats.values()]
    notes = [f"{flavour} export: {', '.join(f'{t.name} ({len(t.rows)} rows)' for t in tables)}, "
             f"{len(media)} media files"]
    if not repeats and flavour != "ODK Central":
        notes.append("no repeat tables: contaminants, samples and photos are read only from ODK Central exports")
    return Export(name, main.sha256, flavour, main, repeats, media, notes)


# ---- submissions ----------------------------------------------------------------------------------------------------
@dataclass
class Entry:
    """One row of a table of the export: where it is (file and line) and its values."""

    where: str
    values: dict[str, Any]
    error: str | None = None


@dataclass
class Submission:
    """A main-table row with its repeat rows; ``key`` stays the same across edits, ``version`` does not."""

    number: int
    main: Entry
    key: str | None
    version: str | None
    previous: str | None
    repeats: dict[str, list[Entry]] = field(default_factory=dict)

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of the answers (not of export metadata such as review state): equal when unedited."""
        content = {"main": _content(self.main.values, None),
                   **{name: [_content(e.values, name) for e in rows] for name, rows in self.repeats.items()}}
        return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def value(self, column: str) -> str | None:
        return _blank(self.main.values.get(column))


def submissions(export: Export) -> list[Submission]:
    """The export's submissions in file order, each with its repeat rows (found by ``PARENT_KEY``)."""
    found = [_submission(number, export.main, row) for number, row in enumerate(export.main.rows, start=1)]
    by_key: dict[str, Submission] = {}
    for submission in found:
        if submission.key:
            by_key.setdefault(submission.key, submission)
    for name, table in export.repeats.items():
        orphans = 0
        for row in table.rows:
            parent = by_key.get(_blank(row.values.get("PARENT_KEY")) or "")
            if parent is None:
                orphans += 1
                continue
            _add_repeat(parent.repeats.setdefault(name, []), Entry(f"{table.name} {row.where}", row.values, row.error))
        if orphans:
            export.notes.append(f"{table.name}: {orphans} rows whose PARENT_KEY is no submission's KEY; ignored")
    return found


def _submission(number: int, table: Table, row: SourceRow) -> Submission:
    values = row.values
    version = _first(values, INSTANCE_COLUMNS) or _uuid(values.get("_uuid"))
    key = _blank(values.get("KEY")) or _uuid(_first(values, ("meta/rootUuid", "_uuid"))) or version
    entry = Entry(f"{table.name} {row.where}", values, row.error)
    return Submission(number, entry, key, version, _first(values, DEPRECATED_COLUMNS))


def _add_repeat(rows: list[Entry], entry: Entry) -> None:
    """Add a repeat row; one repeating an earlier row's KEY (an export concatenated twice) is dropped if identical."""
    key = _blank(entry.values.get("KEY"))
    earlier = next((e for e in rows if key and _blank(e.values.get("KEY")) == key), None)
    if earlier is None:
        rows.append(entry)
    elif earlier.values != entry.values:
        entry.error = f"repeats the KEY {key} of {earlier.where} with other values"
        rows.append(entry)


def _content(values: dict[str, Any], repeat: str | None) -> dict[str, Any]:
    names = set(QUESTION_NAMES[repeat]) | ({"KEY"} if repeat else set(INSTANCE_COLUMNS))
    return {k: v for k, v in values.items() if k in names or (repeat is None and "location" in k.lower())}


def _first(values: dict[str, Any], columns: tuple[str, ...]) -> str | None:
    return next((text for c in columns if (text := _blank(values.get(c)))), None)


def _blank(value: Any) -> Any:
    """Empty cells as None; text stripped."""
    if isinstance(value, str):
        return value.strip() or None
    return value


def _uuid(value: Any) -> str | None:
    """A KoboToolbox uuid as an instanceID: ``_uuid`` lacks the ``uuid:`` prefix ``meta/instanceID`` carries."""
    text = _blank(value)
    return text if text is None or text.startswith("uuid:") else f"uuid:{text}"


def parse_geoshape(text: str) -> Polygon:
    """A polygon from an ODK geoshape, ``"lat lon alt acc;lat lon alt acc;..."`` (closed if the last point is not
    the first).

    Examples
    --------
    >>> parse_geoshape("50.1 72.9 0 5;50.1 73.0 0 5;50.2 73.0 0 5").wkt
    'POLYGON ((72.9 50.1, 73 50.1, 73 50.2, 72.9 50.1))'
    """
    expected = "a boundary of at least three points written 'lat lon altitude accuracy', separated by ';'"
    points = []
    for part in filter(None, (p.strip() for p in str(text).split(";"))):
        numbers = part.split()
        try:
            lat, lon = float(numbers[0]), float(numbers[1])
        except (IndexError, ValueError):
            raise InvalidInput("footprint", part, expected) from None
        points.append((lon, lat))
    if len(set(points)) < 3:
        raise InvalidInput("footprint", str(text)[:80], expected)
    if points[0] != points[-1]:
        points.append(points[0])
    return Polygon(points)


# ---- import ---------------------------------------------------------------------------------------------------------
def import_export(engine: Engine, actor: Actor, path: str | Path, *, dry_run: bool = False, valid_only: bool = False,
                  files_dir: Path | None = None, extent: Extent = KAZAKHSTAN_EXTENT,
                  max_bytes: int = int(DEFAULT_MAX_MB * 1_000_000)) -> Report:
    """Import an export of the form: each submission becomes a site with its contaminants and samples, and an
    inspection (condition = the containment seen) with its photos.

    Parameters
    ----------
    engine, actor
        The register and who imports (``edit_site`` in each submission's region, as for single edits).
    path
        See :func:`open_export`.
    dry_run
        Check everything, including the database's own rules, and store nothing.
    valid_only
        Store the valid submissions; by default one rejected submission stores nothing.
    files_dir
        Where photos go (None: the settings' files folder).
    extent, max_bytes
        Where sites may lie; the largest file (and unpacked archive) read.

    Returns
    -------
    Report
        As :mod:`gis.site_import` gives it: ``rows_read == imported + unchanged + rejected``, counted in
        submissions; every rejection names the submission, file and line, column, value and reason.

    Notes
    -----
    Each submission is stored in one savepoint of the import's transaction: site, contaminants, samples,
    inspection, attachments, import records and audit rows, or nothing; its photo files appear after the commit.
    Submissions are keyed by instanceID (Central's ``KEY``, which edits keep; Kobo's ``meta/rootUuid`` or
    ``_uuid``) in ``import_record`` under source ``odk:kz_legacy_sites``: one imported before with the same answers
    is unchanged; with other answers (edited: a new instanceID, ``deprecatedID``) it is rejected, never overwritten.
    The same instanceID twice in one export is rejected as a repeat; so are submissions rejected in review.

    Supported: ODK Central's CSV zip (with or without media; a photo listed but missing from ``media/`` rejects its
    submission) and KoboToolbox's CSV (XML values and headers; ``,`` or ``;``; the point as ``_location_latitude``/
    ``_location_longitude`` or one ``location`` column). Not supported: Kobo's label headers, its XLS export and
    attachment downloads (so a Kobo CSV gives sites and inspections without contaminants, samples or photos),
    repeat tables without ``PARENT_KEY``, questions moved into groups, and photo URLs instead of files.
    """
    require_somewhere(actor, "edit_site")  # who may edit nowhere is refused before the export is opened
    started = time.perf_counter()
    with open_export(path, max_bytes) as export:
        job = _Import(Register(engine, rescore_on_write=False, extent=extent), actor, export, dry_run=dry_run,
                      valid_only=valid_only, files_dir=files_dir)
        try:
            with engine.connect() as conn, conn.begin() as transaction:
                if not job.run(conn):
                    transaction.rollback()
            if job.report.committed:
                job.publish()
        except IntegrityError as error:  # raised at commit (deferred checks)
            raise translate_integrity_error(error) from error
        finally:
            job.discard()
    if job.report.committed and job.site_ids:
        from gis.scoring import rescore_changed  # scoring pulls in exposure queries; only a commit needs them

        rescore_changed(engine, job.site_ids)
    job.report.seconds = time.perf_counter() - started
    return job.report


@dataclass
class _Plan:
    """What one submission becomes, checked: the register's records in, ready to store."""

    site: dict[str, Any]
    contaminants: list[dict[str, Any]]
    samples: list[tuple[Entry, dict[str, Any]]]
    inspection: dict[str, Any]
    uploads: list[Upload]
    origins: dict[str, str]


class _Earlier(NamedTuple):
    """A submission imported before: its instanceID, answers' SHA-256, batch and the site it became."""

    key: str
    sha256: str
    batch: int
    code: str


class _NoFiles:
    """Staging for a dry run: photos are checked but no file is written."""

    def stage(self, relative: str, data: bytes) -> None:
        pass

    def publish(self) -> None:
        pass

    def discard(self) -> None:
        pass


class _Import:
    """One import of an export in one transaction: a savepoint per submission, the batch settled at the end."""

    def __init__(self, register: Register, actor: Actor, export: Export, *, dry_run: bool, valid_only: bool,
                 files_dir: Path | None):
        self.register, self.actor, self.export = register, actor, export
        self.dry_run, self.valid_only, self.files_dir = dry_run, valid_only, files_dir
        self.report = Report("odk", SOURCE, export.name, dry_run=dry_run)
        self.rejected: set[int] = set()
        self.stagings: list[Staging | _NoFiles] = []
        self.site_ids: list[int] = []
        self.batch_id: int | None = None
        self.catalogue: set[str] = set()

    def run(self, conn: Connection) -> bool:
        """Check and store every submission; return whether to commit."""
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext("import:" + SOURCE))))
        found = submissions(self.export)
        self.report.rows_read, self.report.notes = len(found), self.export.notes + self._version_notes(found)
        self.catalogue = set(conn.execute(select(t.contaminant.c.code)).scalars())
        self.batch_id = self._insert_batch(conn)
        for submission in self._not_stored(conn, self._admissible(found)):
            plan = self._plan(submission)
            if plan is not None:
                self._store(conn, submission, plan)
        return self._settle(conn)

    def publish(self) -> None:
        for staging in self.stagings:
            staging.publish()

    def discard(self) -> None:
        for staging in self.stagings:
            staging.discard()

    # ---- problems ---------------------------------------------------------------------------------------------------
    def reject(self, submission: Submission, where: str, column: str, value: Any, reason: str, kind: str) -> None:
        self.report.reject(SourceRow(submission.number, where, {}), column, value, reason, kind)
        self.rejected.add(submission.number)

    def warn(self, submission: Submission, where: str, column: str, value: Any, reason: str, kind: str) -> None:
        self.report.warn(SourceRow(submission.number, where, {}), column, value, reason, kind)

    def invalid(self, submission: Submission, where: str, error: InvalidInput, columns: dict[str, str]) -> None:
        column = "/".join(columns.get(f, f) for f in error.field.split("/"))
        expected = f"{column}: expected {error.expected}"
        self.reject(submission, where, column, error.received, f"{expected}, received {error.received!r}", expected)

    # ---- which submissions are new ----------------------------------------------------------------------------------
    def _admissible(self, found: list[Submission]) -> list[Submission]:
        """Submissions to check further: unreadable, undecrypted, review-rejected and repeated ones are rejected."""
        seen: dict[str, Submission] = {}
        kept = []
        for submission in found:
            if self._refused_whole(submission, seen):
                continue
            kept.append(submission)
            seen.update({i: submission for i in (submission.key, submission.version) if i})
        return kept

    def _refused_whole(self, submission: Submission, seen: dict[str, Submission]) -> bool:
        main, where = submission.main, submission.main.where
        review = (submission.value("ReviewState") or submission.value("_validation_status") or "").lower()
        first = next((seen[i] for i in (submission.key, submission.version, submission.previous) if i in seen), None)
        if main.error:
            self.reject(submission, where, "(row)", None, main.error, "row does not fit the header")
        elif submission.key is None:
            self.reject(submission, where, "KEY", None, "KEY: expected the submission's instanceID, received none",
                        "no instanceID")
        elif submission.value("Status"):
            self.reject(submission, where, "Status", submission.value("Status"), "an encrypted submission ODK Central "
                        "could not decrypt: export it with the form's private key", "not decrypted")
        elif review in REJECTED_REVIEWS:
            self.reject(submission, where, "ReviewState", review, "rejected in review on the server; not imported",
                        "rejected in review")
        elif first is not None:
            how = "edits" if submission.previous in (first.key, first.version) else "repeats"
            self.reject(submission, where, "KEY", submission.key, f"{how} submission {first.number} "
                        f"({first.main.where}, instanceID {first.version}) of this export; the first is kept",
                        "repeated submission")
        return submission.number in self.rejected

    def _not_stored(self, conn: Connection, found: list[Submission]) -> list[Submission]:
        """New submissions; imported ones are unchanged, or rejected when edited since."""
        stored = self._stored(conn, sorted({i for s in found for i in (s.key, s.version, s.previous) if i}))
        fresh = []
        for submission in found:
            same = stored.get(submission.key)
            earlier = same or stored.get(submission.previous) or stored.get(submission.version)
            if same is not None and same.sha256 == submission.sha256:
                self.report.unchanged += 1
            elif earlier is None:
                fresh.append(submission)
            else:
                self.reject(submission, submission.main.where, "KEY", submission.key, f"was imported before as site "
                            f"{earlier.code} (batch {earlier.batch}, instanceID {earlier.key}) and edited since "
                            f"(instanceID now {submission.version}); the stored site is kept: make the change in the "
                            "register", "edited since an earlier import")
        return fresh

    def _stored(self, conn: Connection, ids: list[str]) -> dict[str, _Earlier]:
        """Import records of the sites of these instanceIDs."""
        r, s = t.import_record, t.site
        listed = bindparam("ids", ids, type_=ARRAY(Text))  # one array parameter, however many submissions
        query = (select(r.c.row_key, r.c.row_sha256, r.c.batch_id, s.c.code).join(s, s.c.id == r.c.entity_id)
                 .where(r.c.source == SOURCE, r.c.entity == "site", r.c.row_key == any_(listed)))
        return {row.row_key: _Earlier(*row) for row in conn.execute(query)} if ids else {}

    # ---- checking one submission ------------------------------------------------------------------------------------
    def _plan(self, submission: Submission) -> _Plan | None:
        """The submission's records, every problem reported; None when any was found."""
        before = len(self.report.rejections)
        for entries in submission.repeats.values():
            for entry in (e for e in entries if e.error):
                self.reject(submission, entry.where, "(row)", None, entry.error, "row does not fit the header")
        site, origins = self._site(submission)
        plan = _Plan(site, self._contaminants(submission), self._samples(submission), {}, [], origins)
        plan.uploads, captions = self._photos(submission)
        plan.inspection = self._inspection(submission, site, captions)
        return plan if len(self.report.rejections) == before else None

    def _site(self, submission: Submission) -> tuple[dict[str, Any], dict[str, str]]:
        data = {name: submission.value(name) for name in SITE_QUESTIONS}
        origins = {name: name for name in data}
        self._locate(submission, data, origins)
        self._outline(submission, data)
        data["sources"] = (f"ODK submission {submission.version or submission.key} of form {FORM_ID} "
                           f"{submission.value('FormVersion') or submission.value('__version__') or ''}").strip()
        before = len(self.report.rejections)
        for name, value in data.items():
            try:
                FIELDS_BY_NAME[name].clean(name, value)
            except InvalidInput as error:
                self.invalid(submission, submission.main.where, error, origins)
        if len(self.report.rejections) == before:
            try:
                validate_site(data, self.register.extent)
            except InvalidInput as error:
                self.invalid(submission, submission.main.where, error, origins)
        return data, origins

    def _locate(self, submission: Submission, data: dict[str, Any], origins: dict[str, str]) -> None:
        """lat/lon from the geopoint, and its accuracy and altitude as the location note."""
        values = submission.main.values
        columns = next((c for c in GEOPOINT_COLUMNS if c[0] in values), None)
        if columns is not None:
            point = [submission.value(c) for c in columns]
        else:
            columns = ("location",) * 4
            point = ((submission.value("location") or "").split() + [None] * 4)[:4]
        data["lat"], data["lon"] = point[0], point[1]
        origins.update(lat=columns[0], lon=columns[1], location_note=columns[3], footprint="footprint",
                       sources="KEY", region_kato=f"{columns[0]}/{columns[1]}")
        data["location_note"] = _gps_note(point[2], point[3])

    def _outline(self, submission: Submission, data: dict[str, Any]) -> None:
        """The footprint from the geoshape; an outline crossing itself is repaired and warned about."""
        text = submission.value("footprint")
        if text is None:
            return
        where = submission.main.where
        try:
            shape = parse_geoshape(text)
        except InvalidInput as error:
            self.invalid(submission, where, error, {})
            return
        fixed, repaired = clean_geometry(shape, "Polygon")
        if fixed is None:
            self.reject(submission, where, "footprint", text[:80], "footprint: expected an outline that can be "
                        f"repaired ({explain_validity(shape)})", "footprint cannot be repaired")
        elif repaired:
            self.warn(submission, where, "footprint", explain_validity(shape), "outline repaired with make_valid "
                      f"({explain_validity(shape)}); check it", "footprint repaired")
        data["footprint"] = fixed

    def _contaminants(self, submission: Submission) -> list[dict[str, Any]]:
        """Contaminant rows checked against the catalogue; one contaminant and medium twice is merged."""
        found: dict[tuple, dict[str, Any]] = {}
        for entry in submission.repeats.get("contaminant", []):
            values = entry.values
            data = {"contaminant": _blank(values.get("contaminant_code")),
                    "medium": _blank(values.get("contaminant_medium")), "status": _blank(values.get("status")),
                    "source": f"ODK {_blank(values.get('KEY')) or submission.key}"}
            if not self._catalogued(submission, entry, "contaminant_code", data["contaminant"]):
                continue
            try:
                row = validate_site_contaminant(data)
            except InvalidInput as error:
                self.invalid(submission, entry.where, error, CONTAMINANT_COLUMNS)
                continue
            pair = (row["contaminant"], row["medium"])
            if pair in found:
                self.warn(submission, entry.where, "contaminant_code", "/".join(pair), "the same contaminant and "
                          "medium twice; kept once (confirmed if either says so)", "contaminant repeated")
                data["status"] = "confirmed" if "confirmed" in (found[pair]["status"], row["status"]) else row["status"]
            found[pair] = data
        return list(found.values())

    def _samples(self, submission: Submission) -> list[tuple[Entry, dict[str, Any]]]:
        """Sample rows: catalogue, unit (the form's slug), result as the lab wrote it ("<0,05", "н/о")."""
        checked = []
        for entry in submission.repeats.get("sample", []):
            values = {k: _blank(v) for k, v in entry.values.items()}
            data = {field: values.get(column) for field, column in SAMPLE_COLUMNS.items()
                    if field not in ("qualifier", "source")}
            data["unit"] = unit_of_slug(data["unit"]) if data["unit"] else None
            data["source"] = f"ODK {values.get('KEY') or submission.key}"
            if not self._catalogued(submission, entry, "sample_contaminant", data["contaminant"]):
                continue
            try:
                validate_sample(data)
            except InvalidInput as error:
                self.invalid(submission, entry.where, error, SAMPLE_COLUMNS)
                continue
            checked.append((entry, data))
        return checked

    def _catalogued(self, submission: Submission, entry: Entry, column: str, code: str | None) -> bool:
        if code in self.catalogue:
            return True
        self.reject(submission, entry.where, column, code, f"{column}: expected a contaminant code of the register's "
                    f"catalogue (the form's list), received {code!r}", "contaminant not in the catalogue")
        return False

    def _photos(self, submission: Submission) -> tuple[list[Upload], list[str]]:
        """Each listed photo read from media/ and checked by content; captions kept for the findings."""
        uploads: dict[str, Upload] = {}
        captions = []
        for entry in submission.repeats.get("photo", []):
            name = _blank(entry.values.get("photo_file"))
            if name is None:
                self.warn(submission, entry.where, "photo_file", None, "a photo row without a file; skipped",
                          "photo row without a file")
                continue
            upload = self._photo(submission, entry, name)
            if upload is None:
                continue
            if upload.sha256 in uploads:
                self.warn(submission, entry.where, "photo_file", name, f"same content as "
                          f"{uploads[upload.sha256].filename}; stored once", "photo repeated")
                continue
            uploads[upload.sha256] = upload
            if caption := _blank(entry.values.get("caption")):
                captions.append(f"{upload.filename}: {caption}")
        return list(uploads.values()), captions

    def _photo(self, submission: Submission, entry: Entry, name: str) -> Upload | None:
        path = self.export.media.get(PurePosixPath(name.replace("\\", "/")).name)  # a name, never a path
        if path is None:
            self.reject(submission, entry.where, "photo_file", name, f"photo_file: expected media/{name} in the "
                        "export; it is listed but missing (export 'CSV with media' or add the file)",
                        "photo missing from the export")
            return None
        try:
            return prepare(name, path.read_bytes())
        except InvalidInput as error:
            self.invalid(submission, entry.where, error, {"file": "photo_file", "filename": "photo_file"})
            return None

    def _inspection(self, submission: Submission, site: dict[str, Any], captions: list[str]) -> dict[str, Any]:
        findings = "\n\n".join(filter(None, [submission.value("findings"),
                                             "Photo captions:\n" + "\n".join(captions) if captions else None]))
        condition = site.get("containment") if site.get("containment") in vocab.CONTAINMENT else None
        data = {"inspected_on": submission.value("inspected_on"), "condition": condition, "findings": findings or None,
                "inspector": submission.value("SubmitterName") or submission.value("_submitted_by")}
        try:
            validate_inspection(data)
        except InvalidInput as error:
            self.invalid(submission, submission.main.where, error, INSPECTION_COLUMNS)
        return data

    # ---- storing ----------------------------------------------------------------------------------------------------
    def _store(self, conn: Connection, submission: Submission, plan: _Plan) -> None:
        """Everything of one submission in one savepoint; a refusal rolls back to it and removes its files."""
        staging = _NoFiles() if self.dry_run else Staging.at(self.files_dir)
        self.stagings.append(staging)  # discarded with the others however the import ends, unless published
        try:
            with conn.begin_nested():
                self._warn_duplicates(conn, submission, plan.site)
                site = self.register.create_site_in(conn, self.actor, plan.site, plan.contaminants,
                                                    [data for _, data in plan.samples])
                inspection_id = insert_inspection(conn, staging, self.actor, site["code"], plan.inspection,
                                                  plan.uploads)
                self._record(conn, submission, plan, site["id"], inspection_id)
        except (SitesError, IntegrityError) as error:
            staging.discard()
            self._refused(submission, error, plan)
            return
        self.site_ids.append(site["id"])

    def _warn_duplicates(self, conn: Connection, submission: Submission, site: dict[str, Any]) -> None:
        name = site["name_en"] or site["name_ru"]
        found = find_duplicates(conn, float(site["lat"]), float(site["lon"]), name)
        if found:
            which = "; ".join(f"{d['code']} {d['name']!r} ({d['reason']})" for d in found[:3])
            column = "name_en" if site["name_en"] else "name_ru"
            self.warn(submission, submission.main.where, column, name, f"may be a stored site: {which}",
                      "possible duplicate of a stored site")

    def _refused(self, submission: Submission, error: SitesError | IntegrityError, plan: _Plan) -> None:
        """A refusal met while storing (the region's permission, a photo already attached, a database rule)."""
        if isinstance(error, IntegrityError):
            error = translate_integrity_error(error)
        where = submission.main.where
        if isinstance(error, InvalidInput):
            self.invalid(submission, where, error, {**plan.origins, "file": "photo_file", "filename": "photo_file"})
        elif isinstance(error, PermissionDenied):
            column = plan.origins["region_kato"]
            self.reject(submission, where, column, None, error.message, "not permitted in this region")
        else:
            kind = "already stored" if isinstance(error, Conflict) else type(error).__name__
            self.reject(submission, where, "(submission)", None, error.message, kind)

    def _record(self, conn: Connection, submission: Submission, plan: _Plan, site_id: int, inspection_id: int) -> None:
        """Import records: the site and inspection under the instanceID, each sample under its repeat KEY."""
        sample_ids = conn.execute(select(t.sample.c.id).where(t.sample.c.site_id == site_id)
                                  .order_by(t.sample.c.id)).scalars()
        rows = [(submission.key, submission.sha256, "site", site_id),
                (submission.key, submission.sha256, "inspection", inspection_id)]
        for number, ((entry, _), sample_id) in enumerate(zip(plan.samples, sample_ids), start=1):
            key = _blank(entry.values.get("KEY")) or f"{submission.key}/sample[{number}]"
            sha = hashlib.sha256(orjson.dumps(_content(entry.values, "sample"))).hexdigest()
            rows.append((key, sha, "sample", sample_id))
        conn.execute(insert(t.import_record), [
            {"batch_id": self.batch_id, "source": SOURCE, "row_key": key, "row_sha256": sha, "entity": entity,
             "entity_id": entity_id} for key, sha, entity, entity_id in rows])

    # ---- the batch --------------------------------------------------------------------------------------------------
    def _insert_batch(self, conn: Connection) -> int:
        """The batch row, counts filled in by :meth:`_settle` (its records need the id as they are written)."""
        mode = "valid" if self.valid_only else "all"
        values = dict(source=SOURCE, filename=self.export.name, file_sha256=self.export.sha256, target="odk",
                      mode=mode, mapping=self._description(), rows_read=0, imported=0, unchanged=0, rejected=0,
                      report={}, created_by=self.actor.name)
        return conn.execute(insert(t.import_batch).values(**values).returning(t.import_batch.c.id)).scalar_one()

    def _description(self) -> dict[str, Any]:
        return {"form_id": FORM_ID, "flavour": self.export.flavour, "current_form_version": form_version(),
                "repeats": sorted(self.export.repeats), "media_files": len(self.export.media)}

    def _settle(self, conn: Connection) -> bool:
        """Final counts; all or nothing holds the valid submissions back when any was rejected."""
        report = self.report
        report.rejections.sort(key=lambda problem: problem.row)  # found in phases; listed by submission
        report.warnings.sort(key=lambda problem: problem.row)
        report.imported, report.rejected = len(self.site_ids), len(self.rejected)
        if report.rejected and not self.valid_only:
            report.held_back, report.imported = report.imported, 0
            report.rejected += report.held_back
            self.site_ids = []
        if self.dry_run or not report.imported:
            return False
        report.batch_id, report.committed, report.site_ids = self.batch_id, True, list(self.site_ids)
        counts = {k: getattr(report, k) for k in ("rows_read", "imported", "unchanged", "rejected")}
        conn.execute(update(t.import_batch).where(t.import_batch.c.id == self.batch_id)
                     .values(**counts, report=report.to_json(limit=STORED_PROBLEMS)))
        write_audit(conn, self.actor, "insert", "import_batch", self.batch_id, None,
                    dict(source=SOURCE, file=self.export.name, target="odk", **counts))
        return True

    def _version_notes(self, found: list[Submission]) -> list[str]:
        current = form_version()
        versions = {s.value("FormVersion") or s.value("__version__") for s in found}
        other = sorted(versions - {current, None})
        if not other:
            return []
        return [f"submissions of form version {', '.join(other)} (the current form is {current}): choice lists may "
                "have changed since; every answer is checked against the register as it is now"]


def _gps_note(altitude: str | None, accuracy: str | None) -> str | None:
    """The GPS fix as the location note: how exact the point is matters to whoever goes back to the site."""
    try:
        parts = [f"accuracy {float(accuracy):.1f} m" if accuracy else None,
                 f"altitude {float(altitude):.0f} m" if altitude else None]
    except ValueError:
        return None  # a damaged note is no reason to lose the site; the point itself is checked
    parts = [p for p in parts if p]
    return f"ODK Collect GPS: {', '.join(parts)}" if parts else None
