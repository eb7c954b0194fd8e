"""Inspections, photos and documents against a real PostGIS and a real files folder: all or nothing, by content."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image
from pyproj import Geod
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError

from gis import inspections
from gis import tables as t
from gis.inspections import (
    add_inspection, attach, list_attachments, list_inspections, read_attachment, read_thumbnail,
)
from gis.services import Register
from sites.attachments import MAX_FILE_BYTES
from sites.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.conftest import cli_invoker
from tests.gis.factories import site_data

SITE_LAT, SITE_LON = 52.27, 76.97  # site_data()'s point
PHOTO_LAT, PHOTO_LON = 52.2712, 76.9731  # about 250 m east-north-east of it
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)


def jpeg(size=(1200, 800), gps: tuple[float, float] | None = None, orientation: int | None = None,
         colour="olive") -> bytes:
    """A JPEG photo; with ``gps`` its EXIF GPS directory holds that position as degrees, minutes, seconds."""
    exif = Image.Exif()
    if gps is not None:
        exif[0x8825] = {1: "N" if gps[0] >= 0 else "S", 2: _dms(gps[0]),
                        3: "E" if gps[1] >= 0 else "W", 4: _dms(gps[1])}
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees, minutes = int(value), int(value * 60 % 60)
    return float(degrees), float(minutes), round((value * 3600) % 60, 4)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (640, 640), (200, 30, 30, 128)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def register(engine):
    return Register(engine)


@pytest.fixture
def admin(register):
    return register.actor()


@pytest.fixture
def site(register, admin):
    return register.create_site(admin, site_data())


@pytest.fixture
def files(tmp_path):
    return tmp_path / "files"


def stored_files(folder) -> list[str]:
    """Every file under the files folder, temporary ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_geotagged_photo_keeps_hash_geotag_distance_and_a_thumbnail(engine, admin, site, files):
    content = jpeg(gps=(PHOTO_LAT, PHOTO_LON))
    stored = attach(engine, admin, site["code"], "DCIM/IMG_0001.JPG", content, files_dir=files)
    assert stored["filename"] == "IMG_0001.JPG" and stored["media_type"] == "image/jpeg"
    assert stored["sha256"] == hashlib.sha256(content).hexdigest() and stored["size_bytes"] == len(content)
    assert stored["lat"] == pytest.approx(PHOTO_LAT, abs=1e-6) and stored["lon"] == pytest.approx(PHOTO_LON, abs=1e-6)
    _, _, metres = Geod(ellps="WGS84").inv(SITE_LON, SITE_LAT, stored["lon"], stored["lat"])
    assert stored["distance_m"] == pytest.approx(metres, abs=0.5) and 240 < metres < 260
    assert stored["is_photo"] and not stored["geotag_missing"] and stored["geotag_note"] is None
    assert (files / stored["storage_path"]).read_bytes() == content
    meta, data = read_attachment(engine, stored["id"], files_dir=files)
    assert data == content and meta["sha256"] == stored["sha256"]
    with engine.connect() as conn:
        srid = conn.execute(select(func.ST_SRID(t.attachment.c.geotag))).scalar()
        audit = conn.execute(select(t.audit.c.actor, t.audit.c.after).where(t.audit.c.entity == "attachment")).one()
    assert srid == 4326 and audit.actor == "system" and audit.after["sha256"] == stored["sha256"]


def test_photo_without_geotag_is_accepted_and_flagged(engine, admin, site, files):
    stored = attach(engine, admin, site["code"], "IMG_0002.jpg", jpeg(), files_dir=files)
    assert stored["geotag_missing"] and stored["lat"] is None and stored["distance_m"] is None
    assert "no GPS position" in stored["geotag_note"]
    assert stored["thumbnail_path"] is not None
    assert [a["geotag_missing"] for a in list_attachments(engine, site["code"])] == [True]


@pytest.mark.parametrize("size, orientation, expected", [
    ((1200, 800), None, (320, 213)),
    ((1200, 600), 6, (160, 320)),  # shot with the phone turned: EXIF says rotate 90 degrees
    ((200, 100), None, (200, 100)),  # small photos are not enlarged
])
def test_thumbnails_are_upright_jpegs_of_at_most_320_px(engine, admin, site, files, size, orientation, expected):
    stored = attach(engine, admin, site["code"], "p.jpg", jpeg(size, orientation=orientation), files_dir=files)
    thumbnail = Image.open(io.BytesIO(read_thumbnail(engine, stored["id"], files_dir=files)))
    assert thumbnail.format == "JPEG" and thumbnail.size == expected and max(thumbnail.size) <= 320


def test_transparent_png_named_pdf_is_stored_as_png_with_a_thumbnail(engine, admin, site, files):
    stored = attach(engine, admin, site["code"], "site-plan.pdf", png(), files_dir=files)
    assert stored["media_type"] == "image/png" and stored["storage_path"].endswith(".png")
    thumbnail = Image.open(io.BytesIO(read_thumbnail(engine, stored["id"], files_dir=files)))
    assert thumbnail.size == (320, 320) and thumbnail.mode == "RGB"


def test_document_has_no_thumbnail_and_no_geotag_flag(engine, admin, site, files):
    stored = attach(engine, admin, site["code"], "protocol-1989.pdf", PDF, files_dir=files)
    assert stored["media_type"] == "application/pdf" and not stored["is_photo"] and not stored["geotag_missing"]
    assert stored["thumbnail_path"] is None and read_thumbnail(engine, stored["id"], files_dir=files) is None


def test_inspection_with_photos_is_listed_with_its_attachments(engine, admin, site, files):
    data = {"inspected_on": "2024-05-14", "condition": "poor", "findings": "Drums corroded; fence broken."}
    photos = [("a.jpg", jpeg(gps=(PHOTO_LAT, PHOTO_LON))), ("b.jpg", jpeg(colour="navy"))]
    new_id = add_inspection(engine, admin, site["code"], data, photos, files_dir=files)
    [listed] = list_inspections(engine, site["code"])
    assert listed["id"] == new_id and listed["condition"] == "poor" and listed["attachments"] == 2
    assert listed["inspector"] == "system" and str(listed["inspected_on"]) == "2024-05-14"
    attached = list_attachments(engine, site["code"])
    assert [(a["inspection_id"], a["geotag_missing"]) for a in attached] == [(new_id, False), (new_id, True)]
    assert len(stored_files(files)) == 4 and not [f for f in stored_files(files) if f.endswith(".part")]


def test_a_refused_photo_stores_neither_the_inspection_nor_any_file(engine, admin, site, files):
    photos = [("a.jpg", jpeg()), ("b.jpg", EXE)]
    with pytest.raises(InvalidInput) as refused:
        add_inspection(engine, admin, site["code"], {"inspected_on": "2024-05-14"}, photos, files_dir=files)
    assert refused.value.received == "b.jpg (a Windows executable)"
    assert count(engine, t.inspection) == 0 and count(engine, t.attachment) == 0
    assert stored_files(files) == []


def test_oversized_file_is_refused_leaving_no_row_and_no_file(engine, admin, site, files):
    content = jpeg()
    content += bytes(MAX_FILE_BYTES + 1 - len(content))
    with pytest.raises(InvalidInput) as refused:
        attach(engine, admin, site["code"], "huge.jpg", content, files_dir=files)
    assert refused.value.field == "file" and "25.0 MB" in refused.value.expected
    assert count(engine, t.attachment) == 0 and stored_files(files) == []


def test_html_named_jpg_is_refused(engine, admin, site, files):
    with pytest.raises(InvalidInput) as refused:
        attach(engine, admin, site["code"], "photo.jpg", b"<!doctype html><script>x()</script>", files_dir=files)
    assert refused.value.received == "photo.jpg (an HTML or XML page)"
    assert count(engine, t.attachment) == 0 and stored_files(files) == []


def test_bytes_with_a_jpeg_header_that_do_not_decode_are_refused(engine, admin, site, files):
    with pytest.raises(InvalidInput) as refused:
        attach(engine, admin, site["code"], "photo.jpg", b"\xff\xd8\xff" + bytes(500), files_dir=files)
    assert "a JPEG image that can be decoded" in refused.value.expected
    assert stored_files(files) == []


def test_inspector_of_another_region_is_refused(engine, register, admin, site, files):
    outsider = register.add_user(admin, "dana", "inspector", ["KZ-KAR"])
    with pytest.raises(PermissionDenied, match="only in their regions"):
        attach(engine, outsider, site["code"], "p.jpg", jpeg(), files_dir=files)
    with pytest.raises(PermissionDenied):
        add_inspection(engine, outsider, site["code"], {"inspected_on": "2024-05-14"}, files_dir=files)
    assert count(engine, t.inspection) == 0 and count(engine, t.attachment) == 0 and stored_files(files) == []
    local = register.add_user(admin, "aigerim", "inspector", ["KZ-PAV"])
    assert attach(engine, local, site["code"], "p.jpg", jpeg(), files_dir=files)["created_by"] == "aigerim"


def test_failing_insert_leaves_no_file_behind(engine, admin, site, files, monkeypatch):
    def failing_audit(conn, *args, **kwargs):
        conn.execute(text("SELECT 1 / 0"))  # the database refuses after the file was staged and the row inserted

    monkeypatch.setattr(inspections, "write_audit", failing_audit)
    with pytest.raises(DataError):
        attach(engine, admin, site["code"], "p.jpg", jpeg(gps=(PHOTO_LAT, PHOTO_LON)), files_dir=files)
    assert count(engine, t.attachment) == 0
    assert stored_files(files) == []


def test_same_content_is_refused_on_one_site_and_stored_once_across_sites(engine, register, admin, site, files):
    content = jpeg(gps=(PHOTO_LAT, PHOTO_LON))
    first = attach(engine, admin, site["code"], "a.jpg", content, files_dir=files)
    with pytest.raises(Conflict, match=f"same content as attachment {first['id']}"):
        attach(engine, admin, site["code"], "copy of a.jpg", content, files_dir=files)
    other = register.create_site(admin, site_data(name_en="Second site", lat=52.30, lon=77.00))
    second = attach(engine, admin, other["code"], "a.jpg", content, files_dir=files)
    assert second["storage_path"] == first["storage_path"] and second["distance_m"] > first["distance_m"]
    assert len(stored_files(files)) == 2  # the photo and its thumbnail, once each
    assert read_attachment(engine, second["id"], files_dir=files)[1] == content


def test_attaching_to_another_sites_inspection_or_an_unknown_site_is_refused(engine, register, admin, site, files):
    other = register.create_site(admin, site_data(name_en="Second site"))
    foreign = add_inspection(engine, admin, other["code"], {"inspected_on": "2024-05-14"}, files_dir=files)
    with pytest.raises(InvalidInput) as refused:
        attach(engine, admin, site["code"], "r.pdf", PDF, inspection_id=foreign, files_dir=files)
    assert refused.value.field == "inspection" and refused.value.received == foreign
    with pytest.raises(NotFound):
        attach(engine, admin, "KZ-PAV-0999", "r.pdf", PDF, files_dir=files)
    with pytest.raises(NotFound):
        read_attachment(engine, 12345, files_dir=files)
    assert count(engine, t.attachment) == 0 and stored_files(files) == []


# ---- the command line ----------------------------------------------------------------------

@pytest.fixture
def run(db_url, files, monkeypatch):
    monkeypatch.setenv("SITES_FILES_DIR", str(files))
    return cli_invoker(db_url, monkeypatch)


def test_cli_inspection_add_attach_and_list(run, site, files, tmp_path):
    code = site["code"]
    (tmp_path / "tagged.jpg").write_bytes(jpeg(gps=(PHOTO_LAT, PHOTO_LON)))
    (tmp_path / "untagged.jpg").write_bytes(jpeg(colour="navy"))
    (tmp_path / "protocol.pdf").write_bytes(PDF)
    added = run("inspection", "add", code, "--date", "2024-05-14", "--condition", "poor", "--findings", "Drums leak",
                "--photo", str(tmp_path / "tagged.jpg"), "--photo", str(tmp_path / "untagged.jpg"))
    assert added.exit_code == 0, added.output
    assert added.output.startswith(f"added inspection 1 of {code}")
    assert "tagged.jpg (JPEG" in added.output and "m from the site" in added.output
    assert "untagged.jpg (JPEG" in added.output and "no geotag (flagged)" in added.output
    attached = run("attach", code, str(tmp_path / "protocol.pdf"), "--inspection", "1")
    assert attached.exit_code == 0 and "protocol.pdf (PDF" in attached.output
    listed = run("inspection", "list", code)
    assert listed.output.startswith("1\t2024-05-14\tpoor\tsystem\t3 attachments\tDrums leak")
    [inspection] = json.loads(run("inspection", "list", code, "--json").output)
    assert [a["filename"] for a in inspection["attachments"]] == ["tagged.jpg", "untagged.jpg", "protocol.pdf"]
    assert len(stored_files(files)) == 5  # three files and two thumbnails, in SITES_FILES_DIR


def test_cli_refusals_are_one_line_with_exit_status_1(run, register, admin, site, files, tmp_path):
    code = site["code"]
    (tmp_path / "photo.jpg").write_bytes(b"<html><body>not a photo</body></html>")
    refused = run("attach", code, str(tmp_path / "photo.jpg"))
    assert refused.exit_code == 1
    assert "Error: file: expected a photo or document recognised by its content" in refused.output
    assert "received 'photo.jpg (an HTML or XML page)'" in refused.output
    bad = run("inspection", "add", code, "--date", "2024-05-14", "--condition", "collapsed")
    assert bad.exit_code == 1 and "condition: expected one of none, poor" in bad.output
    register.add_user(admin, "dana", "inspector", ["KZ-KAR"])
    (tmp_path / "ok.pdf").write_bytes(PDF)
    denied = run("--as", "dana", "attach", code, str(tmp_path / "ok.pdf"))
    assert denied.exit_code == 1 and "may edit sites only in their regions" in denied.output
    assert stored_files(files) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns; the register refuses
def test_an_image_of_too_many_pixels_is_refused_before_decoding():
    from PIL import Image

    from gis.inspections import MAX_PIXELS, prepare

    buffer = io.BytesIO()
    Image.new("1", (12_000, 10_001)).save(buffer, "PNG")  # 120 million 1-bit pixels compress to a few kB
    assert 12_000 * 10_001 > MAX_PIXELS
    with pytest.raises(InvalidInput, match="at most 120 million pixels"):
        prepare("huge.png", buffer.getvalue())
