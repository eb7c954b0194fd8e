"""Attachment rules without a database: type told by content, size limit, EXIF GPS degrees, inspection records."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from fractions import Fraction

import pytest

from sites.attachments import (
    DOCX, MAX_FILE_BYTES, XLSX, check_size, clean_filename, exif_degrees, geotag_from_gps, sniff_media_type,
    validate_inspection,
)
from sites.errors import InvalidInput

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(20)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)


def office(content_type: str, extra: str = "word/document.xml") -> bytes:
    """A minimal OOXML package declaring a main part of ``content_type``."""
    declared = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                f'2006/content-types"><Override PartName="/{extra}" ContentType="{content_type}"/></Types>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", declared)
        archive.writestr(extra, "<document/>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


ACCEPTED = [
    ("photo.jpg", JPEG, "image/jpeg"),
    ("map.pdf", PNG, "image/png"),  # the name says PDF, the content says PNG: content wins
    ("scan.tif", b"II*\x00" + bytes(20), "image/tiff"),
    ("scan.tiff", b"MM\x00*" + bytes(20), "image/tiff"),
    ("IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
    ("IMG_0002.heif", b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf", "image/heif"),
    ("photo.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(20), "image/webp"),
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    ("protocol.docx", office("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
     DOCX),
    ("results.xlsx", office("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                            "xl/workbook.xml"), XLSX),
    ("notes.txt", "Ртуть у старого цеха, запах хлора.\n".encode("utf-8"), "text/plain; charset=utf-8"),
    ("notes.txt", "<5 mg/kg everywhere but the pit\n".encode("utf-8"), "text/plain; charset=utf-8"),
    ("lab.csv", "вещество;мг/кг\nртуть;2,1\nсвинец;130\n".encode("cp1251"), "text/csv; charset=windows-1251"),
    ("lab.csv", "\ufeffcontaminant,value\nHg,2.1\n".encode("utf-8"), "text/csv; charset=utf-8"),
]


@pytest.mark.parametrize("name, content, media_type", ACCEPTED, ids=[f"{a[0]}->{a[2]}" for a in ACCEPTED])
def test_accepted_types_are_told_by_content(name, content, media_type):
    assert sniff_media_type(content, name) == media_type


REFUSED = [
    ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(50), "a Windows executable"),
    ("photo.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "an HTML or XML page"),
    ("photo.jpg", b"  <html>\n<body>hello</body></html>", "an HTML or XML page"),
    ("map.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "an HTML or XML page"),
    ("tool.txt", b"\x7fELF\x02\x01\x01" + bytes(50), "a Linux executable"),
    ("run.txt", b"#!/bin/sh\nrm -rf /\n", "a script"),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(50), "an old Office file"),
    ("macro.docx", office("application/vnd.ms-word.document.macroEnabled.main+xml"), "a macro-enabled Office file"),
    ("bundle.docx", plain_zip(), "a ZIP archive"),
    ("clip.heic", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "an ISO media file of brand 'isom'"),
    ("photo.heic", b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "an ISO media file of brand 'avif'"),
    ("data.csv", b"a,b\n1,\x00\x01\x02\n", "binary content"),
    ("data.csv", b"\x01\x02\x03\x04binary", "binary content"),
]


@pytest.mark.parametrize("name, content, seen", REFUSED, ids=[f"{r[0]}:{r[2][:24]}" for r in REFUSED])
def test_other_content_is_refused_saying_what_was_expected_and_received(name, content, seen):
    with pytest.raises(InvalidInput) as refused:
        sniff_media_type(content, name)
    assert refused.value.field == "file"
    assert refused.value.received.startswith(f"{name} ({seen}")
    assert "JPEG" in refused.value.expected and "PDF" in refused.value.expected
    assert "recognised by its content" in refused.value.expected


@pytest.mark.parametrize("size, ok", [(1, True), (MAX_FILE_BYTES, True), (MAX_FILE_BYTES + 1, False), (0, False)])
def test_size_limit(size, ok):
    if ok:
        check_size("f.jpg", size)
        return
    with pytest.raises(InvalidInput) as refused:
        check_size("f.jpg", size)
    assert refused.value.field == "file" and refused.value.received.startswith("f.jpg (")


@pytest.mark.parametrize("name, kept", [
    ("photo.jpg", "photo.jpg"),
    ("C:\\Users\\aigerim\\DCIM\\IMG_0001.JPG", "IMG_0001.JPG"),
    ("../../etc/passwd", "passwd"),
    ("  отчёт 1987.pdf ", "отчёт 1987.pdf"),
])
def test_filenames_keep_only_the_name(name, kept):
    assert clean_filename(name) == kept


@pytest.mark.parametrize("name", ["", "dir/", "..", "a\nb.jpg", "x" * 256])
def test_bad_filenames_are_refused(name):
    with pytest.raises(InvalidInput) as refused:
        clean_filename(name)
    assert refused.value.field == "filename"


@pytest.mark.parametrize("value, ref, axis, degrees", [
    (((52, 1), (16, 1), (1230, 100)), "N", "lat", 52 + 16 / 60 + 12.30 / 3600),
    ((33, 51, 36), "S", "lat", -33.86),
    ((Fraction(151), Fraction(12), Fraction(3960, 100)), "E", "lon", 151.211),
    ((77.0, 30.0, 0.0), b"W\x00", "lon", -77.5),
    ((76.0, 57.5, 0.0), "e", "lon", 76 + 57.5 / 60),
    ((52.5,), "N", "lat", 52.5),
    (((0, 1), (0, 1), (0, 1)), "S", "lat", 0.0),
])
def test_exif_rationals_become_decimal_degrees(value, ref, axis, degrees):
    assert exif_degrees(value, ref, axis) == pytest.approx(degrees, abs=1e-9)


@pytest.mark.parametrize("value, ref, axis, field", [
    (((52, 0), (16, 1), (0, 1)), "N", "lat", "GPSLatitude"),
    ((52, float("nan"), 0), "N", "lat", "GPSLatitude"),  # how Pillow reads a zero denominator
    ((52, 60, 0), "N", "lat", "GPSLatitude"),
    ((91, 0, 0), "N", "lat", "GPSLatitude"),
    ((181, 0, 0), "E", "lon", "GPSLongitude"),
    ((-52, 0, 0), "N", "lat", "GPSLatitude"),
    ("52 16 12", "N", "lat", "GPSLatitude"),
    ((1, 2, 3, 4), "N", "lat", "GPSLatitude"),
    ((52, 16, 12), "E", "lat", "GPSLatitudeRef"),
    ((76, 58, 0), "N", "lon", "GPSLongitudeRef"),
    ((76, 58, 0), None, "lon", "GPSLongitudeRef"),
])
def test_malformed_exif_positions_are_refused(value, ref, axis, field):
    with pytest.raises(InvalidInput) as refused:
        exif_degrees(value, ref, axis)
    assert refused.value.field == field


@pytest.mark.parametrize("gps, position", [
    ({1: "N", 2: (52, 16, 12), 3: "E", 4: (76, 58, 0)}, (52 + 16 / 60 + 12 / 3600, 76 + 58 / 60)),
    ({1: "S", 2: (33, 51, 36), 3: "W", 4: (70, 39, 0)}, (-33.86, -(70 + 39 / 60))),
    ({}, None),
    ({0: b"\x02\x02\x00\x00", 1: "N"}, None),  # a GPS directory holding only the version: no fix
    ({1: "N", 2: (0, 0, 0), 3: "E", 4: (0, 0, 0)}, None),  # zeros: the camera had no fix
])
def test_geotag_from_a_gps_directory(gps, position):
    found = geotag_from_gps(gps)
    assert found == (None if position is None else pytest.approx(position))


TODAY = dt.date(2025, 6, 1)


def test_inspection_is_cleaned_with_defaults():
    cleaned = validate_inspection({"inspected_on": "2025-05-30", "findings": "  Drums leaking.  "}, today=TODAY)
    assert cleaned == {"inspected_on": dt.date(2025, 5, 30), "condition": "unknown",
                       "findings": "Drums leaking.", "inspector": None}


@pytest.mark.parametrize("day", ["1900-01-01", "1987-09-14", "2025-06-01", "2025-06-02"])
def test_inspection_dates_from_1900_to_today_are_accepted(day):
    assert validate_inspection({"inspected_on": day}, today=TODAY)["inspected_on"] == dt.date.fromisoformat(day)


@pytest.mark.parametrize("data, field", [
    ({"inspected_on": "2025-06-03"}, "inspected_on"),  # the future (beyond a day of time-zone grace)
    ({"inspected_on": "1899-12-31"}, "inspected_on"),
    ({"inspected_on": "01.06.2025"}, "inspected_on"),
    ({}, "inspected_on"),
    ({"inspected_on": "2025-05-01", "condition": "broken"}, "condition"),
    ({"inspected_on": "2025-05-01", "findings": "x" * 20_001}, "findings"),
    ({"inspected_on": "2025-05-01", "findings": 42}, "findings"),
    ({"inspected_on": "2025-05-01", "weather": "rain"}, "weather"),
])
def test_invalid_inspections_are_refused(data, field):
    with pytest.raises(InvalidInput) as refused:
        validate_inspection(data, today=TODAY)
    assert refused.value.field == field
    assert refused.value.expected
