"""Inspections and their photos and documents: files stored once by SHA-256, rows and files saved all or nothing."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ColumnElement, Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from gis import tables as t
from gis.errors import translate_integrity_error
from gis.services import write_audit
from gis.settings import Settings
from sites.attachments import (
    base_type, check_size, clean_filename, extension, geotag_from_gps, is_image, media_label, sniff_media_type,
    validate_inspection,
)
from sites.errors import Conflict, InvalidInput, NotFound, SitesError
from sites.permissions import Actor, require

THUMBNAIL_PX = 320
"""Longest side of a thumbnail: sharp in a 2-column list on a laptop, about 20 kB as JPEG."""

THUMBNAIL_QUALITY = 80
GPS_IFD = 0x8825  # EXIF pointer to the GPS directory
MAX_LISTED = 5_000
"""Row cap of the lists: a site has tens of inspections, never thousands."""

# Pillow decoders allowed per sniffed type, so Pillow never guesses a different format than the sniffer did.
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/tiff": "TIFF"}


@dataclass(frozen=True)
class Upload:
    """A checked file ready to store: its type told by content, hash, geotag and thumbnail."""

    filename: str
    content: bytes
    media_type: str
    sha256: str
    geotag: tuple[float, float] | None = None
    geotag_note: str | None = None
    thumbnail: bytes | None = None

    @property
    def storage_path(self) -> str:
        """Path under the files folder, named by content so the same bytes are stored once."""
        return f"{self.sha256[:2]}/{self.sha256}.{extension(self.media_type)}"

    @property
    def thumbnail_path(self) -> str | None:
        return f"thumbs/{self.sha256[:2]}/{self.sha256}.jpg" if self.thumbnail is not None else None


def prepare(filename: str, content: bytes) -> Upload:
    """Check a file (name, size, type by content) and read what the register keeps about it.

    Photos get a thumbnail and their EXIF geotag; a photo without one is accepted, with ``geotag_note`` saying why.
    HEIC/HEIF photos are kept as they are: Pillow cannot decode them without a plugin, so they get no thumbnail
    and their geotag is not read.
    """
    name = clean_filename(filename)
    check_size(name, len(content))
    media_type = sniff_media_type(content, name)
    upload = Upload(name, content, media_type, hashlib.sha256(content).hexdigest())
    if not is_image(media_type):
        return upload
    if base_type(media_type) not in _PILLOW_FORMATS:
        note = f"{media_label(media_type)} photos are stored as they are: no decoder here reads their geotag"
        return replace(upload, geotag_note=note)
    gps, thumbnail = _read_image(name, media_type, content)
    geotag, note = _geotag(gps)
    return replace(upload, geotag=geotag, geotag_note=note, thumbnail=thumbnail)


def _read_image(name: str, media_type: str, content: bytes) -> tuple[dict[int, Any], bytes]:
    """The EXIF GPS directory and a thumbnail; a file whose first bytes lie about being an image is refused."""
    try:
        with Image.open(io.BytesIO(content), formats=[_PILLOW_FORMATS[base_type(media_type)]]) as image:
            _check_pixels(name, image.size)
            gps = dict(image.getexif().get_ifd(GPS_IFD))
            return gps, _thumbnail(image)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise InvalidInput("file", f"{name} ({error})",
                           f"a {media_label(media_type)} image that can be decoded") from error


# Phone cameras reach about 200 MP; beyond this a PNG or TIFF of 25 MB could decode to gigabytes of memory.
MAX_PIXELS = 120_000_000


def _check_pixels(name: str, size: tuple[int, int]) -> None:
    if size[0] * size[1] > MAX_PIXELS:
        raise InvalidInput("file", f"{name} ({size[0]} x {size[1]} pixels)",
                           f"an image of at most {MAX_PIXELS // 1_000_000} million pixels")


def _thumbnail(image: Image.Image) -> bytes:
    """A JPEG at most THUMBNAIL_PX on its longest side, turned upright as the camera's EXIF orientation says."""
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))  # shrinks while decoding (JPEG draft): cheap for big photos
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "L"):
        rgba = upright.convert("RGBA")  # transparent areas of a PNG become white, not black
        upright = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


def _geotag(gps: Mapping[int, Any]) -> tuple[tuple[float, float] | None, str | None]:
    """The position and, when there is none, why: the photo is kept either way and flagged."""
    try:
        position = geotag_from_gps(gps)
    except InvalidInput as error:  # a damaged geotag must not cost the inspector the photo
        return None, f"unreadable geotag ({error.message})"
    return position, None if position else "no GPS position in the photo's EXIF"


# ---- writes ---------------------------------------------------------------------------------

def add_inspection(engine: Engine, actor: Actor, site_code: str, data: Mapping[str, Any],
                   photos: Iterable[tuple[str, bytes]] = (), *, files_dir: Path | None = None) -> int:
    """Store an inspection of ``site_code`` with its photos (``(filename, bytes)`` pairs); return its id.

    All or nothing: if any photo is refused, neither the inspection nor any file is stored.
    ``inspector`` defaults to the acting user.
    """
    cleaned = validate_inspection(data)
    with _saving(engine, files_dir) as (conn, staging):
        uploads = (prepare(filename, content) for filename, content in photos)  # checked one by one, as stored
        inspection_id = insert_inspection(conn, staging, actor, site_code, cleaned, uploads)
    return inspection_id


def insert_inspection(conn: Connection, staging: "Staging", actor: Actor, site_code: str, data: Mapping[str, Any],
                      uploads: Iterable[Upload] = ()) -> int:
    """:func:`add_inspection` within the caller's transaction, with photos already :func:`prepare`-d.

    Files are staged in ``staging``; the caller publishes them after its commit (or discards them), so no file
    exists without its row. Returns the inspection's id.
    """
    cleaned = validate_inspection(data)
    site = _locked_site(conn, site_code)
    require(actor, "edit_site", site["region_kato"])
    row = dict(cleaned, site_id=site["id"], inspector=cleaned["inspector"] or actor.name)
    inspection_id = conn.execute(insert(t.inspection).values(**row).returning(t.inspection.c.id)).scalar_one()
    write_audit(conn, actor, "insert", "inspection", inspection_id, None, row)
    for upload in uploads:
        _store(conn, staging, actor, site, upload, inspection_id)
    return inspection_id


def attach(engine: Engine, actor: Actor, site_code: str, filename: str, content: bytes,
           inspection_id: int | None = None, *, files_dir: Path | None = None) -> dict[str, Any]:
    """Attach a photo or document to a site (and optionally one of its inspections); return it as listed.

    The file is refused unless its content is an accepted type within the size limit. The same content twice on
    one site is refused as a duplicate; on another site it gets its own row but is stored once. The result adds
    ``geotag_note`` (why a photo has no geotag) to the fields of :func:`list_attachments`.

    Raises
    ------
    InvalidInput
        The file's name, size or type; an ``inspection_id`` that is not an inspection of this site.
    PermissionDenied
        The actor may not edit sites in the site's region.
    Conflict
        The same content is already attached to this site.
    """
    with _saving(engine, files_dir) as (conn, staging):
        site = _locked_site(conn, site_code)
        require(actor, "edit_site", site["region_kato"])
        _check_inspection(conn, site, inspection_id)
        upload = prepare(filename, content)
        attachment_id = _store(conn, staging, actor, site, upload, inspection_id)
        stored = _attachments(conn, t.attachment.c.id == attachment_id)[0]
    return dict(stored, geotag_note=upload.geotag_note)


def _store(conn: Connection, staging: "Staging", actor: Actor, site: Mapping[str, Any], upload: Upload,
           inspection_id: int | None) -> int:
    """Stage the file (and thumbnail) and insert its row with an audit entry; return the attachment id."""
    _refuse_duplicate(conn, site, upload)
    staging.stage(upload.storage_path, upload.content)
    if upload.thumbnail is not None:
        staging.stage(upload.thumbnail_path, upload.thumbnail)
    row = {
        "site_id": site["id"], "inspection_id": inspection_id, "filename": upload.filename,
        "media_type": upload.media_type, "size_bytes": len(upload.content), "sha256": upload.sha256,
        "storage_path": upload.storage_path, "thumbnail_path": upload.thumbnail_path, "created_by": actor.name,
    }
    lat, lon = upload.geotag or (None, None)
    geotag = None if upload.geotag is None else func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    new_id = conn.execute(insert(t.attachment).values(**row, geotag=geotag).returning(t.attachment.c.id)).scalar_one()
    write_audit(conn, actor, "insert", "attachment", new_id, None, dict(row, lat=lat, lon=lon))
    return new_id


def _locked_site(conn: Connection, code: str) -> dict[str, Any]:
    """The site's id and region, its row locked so two uploads of the same file cannot both pass the duplicate check."""
    query = select(t.site.c.id, t.site.c.code, t.site.c.region_kato).where(t.site.c.code == code).with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound(f"no site with code {code!r}")
    return dict(row)


def _check_inspection(conn: Connection, site: Mapping[str, Any], inspection_id: int | None) -> None:
    if inspection_id is None:
        return
    owner = conn.execute(select(t.inspection.c.site_id).where(t.inspection.c.id == inspection_id)).scalar()
    if owner != site["id"]:
        raise InvalidInput("inspection", inspection_id, f"the id of an inspection of site {site['code']}")


def _refuse_duplicate(conn: Connection, site: Mapping[str, Any], upload: Upload) -> None:
    """The same bytes attached twice to one site is a slip (a double tap), never new evidence."""
    query = select(t.attachment.c.id, t.attachment.c.filename).where(
        t.attachment.c.site_id == site["id"], t.attachment.c.sha256 == upload.sha256)
    earlier = conn.execute(query).first()
    if earlier is not None:
        raise Conflict(f"{upload.filename} has the same content as attachment {earlier.id} ({earlier.filename}) "
                       f"of site {site['code']}; nothing was stored")


# ---- files, all or nothing with the rows ------------------------------------------------------

class Staging:
    """Files written under temporary names beside their final place, renamed only once the rows are committed.

    A failure before the commit removes the temporary files, so no file exists without its row. Names are content
    hashes: a final name that exists already holds these bytes and is not written again. Files are never deleted
    (attachments are not), so a name published for one row stays valid for every other row sharing it.

    Renaming after the commit (not before) means a failed commit can never remove a file another upload of the same
    bytes has just committed a row for. The price is a window of one ``rename`` after the commit: a process killed
    there leaves the row with its bytes still under the temporary name ``.<sha256>.<ext>.*.part`` beside it.
    """

    def __init__(self, root: Path):
        self.root = root
        self._pending: dict[Path, Path] = {}  # final -> temporary

    @classmethod
    def at(cls, files_dir: Path | None = None) -> "Staging":
        """A staging for the files folder ``files_dir`` (None: the one the environment's settings name)."""
        return cls(_root(files_dir))

    def stage(self, relative: str, data: bytes) -> None:
        final = self.root / relative
        if final.exists() or final in self._pending:
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
        self._pending[final] = Path(temporary)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # on disk before the row that points at it commits

    def publish(self) -> None:
        for final, temporary in list(self._pending.items()):
            os.replace(temporary, final)
            del self._pending[final]

    def discard(self) -> None:
        for temporary in self._pending.values():
            temporary.unlink(missing_ok=True)
        self._pending.clear()


@contextmanager
def _saving(engine: Engine, files_dir: Path | None) -> Iterator[tuple[Connection, Staging]]:
    """One transaction plus staged files: files appear after the commit; on any failure, no row and no file."""
    staging = Staging.at(files_dir)
    try:
        with engine.begin() as conn:
            yield conn, staging
        staging.publish()
    except IntegrityError as error:  # raised in the body or at commit (deferred checks)
        raise translate_integrity_error(error) from error
    finally:
        staging.discard()  # after a failure: the temporary files; after publishing there is nothing left


def _root(files_dir: Path | None) -> Path:
    """The files folder: as passed by the edge (CLI, app), else from the environment's settings."""
    return Path(files_dir) if files_dir is not None else Settings.from_env().files_dir


# ---- reads ----------------------------------------------------------------------------------

def list_inspections(engine: Engine, site_code: str) -> list[dict[str, Any]]:
    """Inspections of a site, newest first, each with its number of attachments."""
    i = t.inspection
    count = (select(func.count()).select_from(t.attachment)
             .where(t.attachment.c.inspection_id == i.c.id).scalar_subquery())
    with engine.connect() as conn:
        site_id = _site_id(conn, site_code)
        query = (select(i.c.id, i.c.inspected_on, i.c.inspector, i.c.condition, i.c.findings, i.c.created_at,
                        count.label("attachments"))
                 .where(i.c.site_id == site_id).order_by(i.c.inspected_on.desc(), i.c.id.desc()).limit(MAX_LISTED))
        return [dict(row, site_code=site_code) for row in conn.execute(query).mappings()]


def list_attachments(engine: Engine, site_code: str) -> list[dict[str, Any]]:
    """Attachments of a site, oldest first.

    Each has its id, site_code, inspection_id, filename, media_type, size_bytes, sha256, lat and lon of the
    geotag, ``distance_m`` from the site (geodesic, metres), ``is_photo``, ``geotag_missing`` (a photo without
    geotag), storage and thumbnail paths relative to the files folder, created_at and created_by.
    """
    with engine.connect() as conn:
        return _attachments(conn, t.attachment.c.site_id == _site_id(conn, site_code))


def read_attachment(engine: Engine, attachment_id: int, *,
                    files_dir: Path | None = None) -> tuple[dict[str, Any], bytes]:
    """An attachment's description (as :func:`list_attachments` gives it) and its stored bytes."""
    meta = _attachment(engine, attachment_id)
    return meta, _read(_root(files_dir), meta["storage_path"], attachment_id)


def read_thumbnail(engine: Engine, attachment_id: int, *, files_dir: Path | None = None) -> bytes | None:
    """The JPEG thumbnail of a photo, or None for documents and photos without one (HEIC/HEIF)."""
    meta = _attachment(engine, attachment_id)
    if meta["thumbnail_path"] is None:
        return None
    return _read(_root(files_dir), meta["thumbnail_path"], attachment_id)


def _attachment(engine: Engine, attachment_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = _attachments(conn, t.attachment.c.id == attachment_id)
    if not rows:
        raise NotFound(f"no attachment with id {attachment_id}")
    return rows[0]


def _attachments(conn: Connection, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    a, s = t.attachment, t.site
    distance = func.ST_Distance(func.geography(a.c.geotag), func.geography(s.c.geom))
    query = (
        select(a.c.id, s.c.code.label("site_code"), a.c.inspection_id, a.c.filename, a.c.media_type, a.c.size_bytes,
               a.c.sha256, func.ST_Y(a.c.geotag).label("lat"), func.ST_X(a.c.geotag).label("lon"),
               distance.label("distance_m"), a.c.storage_path, a.c.thumbnail_path, a.c.created_at, a.c.created_by)
        .select_from(a.join(s, a.c.site_id == s.c.id)).where(where).order_by(a.c.id).limit(MAX_LISTED)
    )
    return [_described(dict(row)) for row in conn.execute(query).mappings()]


def _described(row: dict[str, Any]) -> dict[str, Any]:
    photo = is_image(row["media_type"])
    return dict(row, is_photo=photo, geotag_missing=photo and row["lat"] is None)


def _site_id(conn: Connection, code: str) -> int:
    site_id = conn.execute(select(t.site.c.id).where(t.site.c.code == code)).scalar()
    if site_id is None:
        raise NotFound(f"no site with code {code!r}")
    return site_id


def _read(root: Path, relative: str, attachment_id: int) -> bytes:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):  # paths come from the database; never read outside the folder
        raise SitesError(f"attachment {attachment_id} points outside the files folder: {relative!r}")
    if not path.is_file():
        raise NotFound(f"the file of attachment {attachment_id} ({relative}) is missing from {root}")
    return path.read_bytes()
