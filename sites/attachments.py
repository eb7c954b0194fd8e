"""Inspection records and their attachments: accepted file types told by content, size limit, EXIF GPS degrees."""

from __future__ import annotations

import datetime as dt
import io
import math
import numbers
import re
import zipfile
from typing import Any, Mapping, Sequence

from sites import vocab
from sites.errors import InvalidInput
from sites.records import clean_date

MAX_FILE_BYTES = 25 * 1024 * 1024
"""Largest accepted attachment (25 MiB). A 48-megapixel phone JPEG or HEIC is 5-15 MB and a scanned Soviet-era
report of some fifty pages as PDF is 10-20 MB, so field material fits; videos and whole archives, which would swell
the register's disk and every backup, do not."""

FINDINGS_MAX_CHARS = 20_000
"""Longest findings text: about eight printed pages, longer than any inspection protocol; a paste gone wrong
(a whole log file) is refused instead of filling the pages that list inspections."""

FILENAME_MAX_CHARS = 255
"""Longest original file name kept, the limit of common file systems."""

EARLIEST_INSPECTION = dt.date(1900, 1, 1)
"""Earliest inspection date accepted; older dates are typing errors (the register's archives start in Soviet times)."""

DATE_GRACE_DAYS = 1
"""Days after the server's today still accepted: Kazakhstan is UTC+5/+6, so a morning inspection there is dated
"tomorrow" by a server on UTC."""

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Accepted media types (without parameters) with the label users see and the extension files are stored under.
MEDIA_TYPES: dict[str, tuple[str, str]] = {
    "image/jpeg": ("JPEG", "jpg"),
    "image/png": ("PNG", "png"),
    "image/heic": ("HEIC", "heic"),
    "image/heif": ("HEIF", "heif"),
    "image/webp": ("WebP", "webp"),
    "image/tiff": ("TIFF", "tif"),
    "application/pdf": ("PDF", "pdf"),
    DOCX: ("DOCX", "docx"),
    XLSX: ("XLSX", "xlsx"),
    "text/plain": ("plain text", "txt"),
    "text/csv": ("CSV", "csv"),
}

EXPECTED_FILE = ("a photo or document recognised by its content as "
                 + ", ".join(label for label, _ in MEDIA_TYPES.values()))

# First bytes of accepted formats, and of formats refused with a plain description of what was received.
_SIGNATURES: tuple[tuple[bytes, str | None, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "a JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "a PNG image"),
    (b"II*\x00", "image/tiff", "a TIFF image"),
    (b"MM\x00*", "image/tiff", "a TIFF image"),
    (b"%PDF-", "application/pdf", "a PDF document"),
    (b"MZ", None, "a Windows executable"),
    (b"\x7fELF", None, "a Linux executable"),
    (b"\xca\xfe\xba\xbe", None, "a macOS executable or Java class"),
    (b"\xcf\xfa\xed\xfe", None, "a macOS executable"),
    (b"\xce\xfa\xed\xfe", None, "a macOS executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", None, "an old Office file (DOC/XLS); save it as DOCX, XLSX or PDF"),
    (b"GIF8", None, "a GIF image"),
    (b"Rar!", None, "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", None, "a 7-Zip archive"),
    (b"\x1f\x8b", None, "a gzip archive"),
    (b"#!", None, "a script"),
)

# ISO base media (ftyp box) brands of HEIF stills; "mif1"/"msf1" are generic HEIF unless AVIF is among the brands.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1"}

# The WHATWG MIME Sniffing standard's HTML patterns (plus XML and SVG): a browser would run such "text" as a page.
_MARKUP = re.compile(
    rb"\s*<(?:(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg)[\s>/]"
    rb"|!--|\?xml)", re.IGNORECASE)
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # tab, newlines and form feed are text
_NAME_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")

# EXIF GPS IFD tags (EXIF 2.3, section 4.6.6).
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4

INSPECTION_FIELDS = ("inspected_on", "condition", "findings", "inspector")


def media_label(media_type: str) -> str:
    """The short name users know a media type by, e.g. ``"JPEG"`` for ``image/jpeg; ...``."""
    return MEDIA_TYPES[base_type(media_type)][0]


def extension(media_type: str) -> str:
    """The extension a file of ``media_type`` is stored under, e.g. ``"jpg"``."""
    return MEDIA_TYPES[base_type(media_type)][1]


def base_type(media_type: str) -> str:
    """``media_type`` without parameters: ``"text/csv; charset=utf-8"`` -> ``"text/csv"``."""
    return media_type.split(";")[0].strip()


def is_image(media_type: str) -> bool:
    """Whether files of ``media_type`` are photos (a geotag is expected, a thumbnail is made)."""
    return base_type(media_type).startswith("image/")


def check_size(filename: str, size: int, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse an empty file or one larger than ``limit`` bytes.

    Examples
    --------
    >>> check_size("photo.jpg", 3_000_000)
    >>> check_size("film.mp4", 300_000_000)
    Traceback (most recent call last):
    ...
    sites.errors.InvalidInput: file: expected at most 25.0 MB (26214400 bytes), received 'film.mp4 (286.1 MB)'
    """
    if size <= 0:
        raise InvalidInput("file", f"{filename} (empty)", "a file with content")
    if size > limit:
        raise InvalidInput("file", f"{filename} ({size / 1_048_576:.1f} MB)",
                           f"at most {limit / 1_048_576:.1f} MB ({limit} bytes)")


def clean_filename(name: str) -> str:
    """The original file name to keep and show: folders stripped, control characters refused, length limited."""
    base = re.split(r"[\\/]", name or "")[-1].strip()
    if not base or base in (".", "..") or _NAME_CONTROLS.search(base) or len(base) > FILENAME_MAX_CHARS:
        raise InvalidInput("filename", name, f"a file name of 1 to {FILENAME_MAX_CHARS} printable characters")
    return base


def sniff_media_type(content: bytes, filename: str = "file") -> str:
    """Tell a file's media type from its content, never from its name; refuse anything not accepted.

    Text types carry their charset (``text/csv; charset=windows-1251``).

    Examples
    --------
    >>> sniff_media_type(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(16), "map.pdf")
    'image/png'
    >>> sniff_media_type("ПДК;мг/кг\\nртуть;2,1\\n".encode("cp1251"))
    'text/csv; charset=windows-1251'
    """
    media_type, received = _identify(content)
    if media_type is None:
        raise InvalidInput("file", f"{filename} ({received})", EXPECTED_FILE)
    return media_type


def _identify(content: bytes) -> tuple[str | None, str]:
    """The media type (None when refused) and a description of what the content is."""
    for prefix, media_type, description in _SIGNATURES:
        if content.startswith(prefix):
            return media_type, description
    for sniff in (_iso_media, _webp, _office):
        found = sniff(content)
        if found is not None:
            return found
    return _text(content)


def _iso_media(content: bytes) -> tuple[str | None, str] | None:
    """HEIC/HEIF stills: an ISO base media file whose first box is ``ftyp`` with a HEIF brand."""
    if content[4:8] != b"ftyp":
        return None
    size = int.from_bytes(content[:4], "big")
    brands = {content[i:i + 4] for i in range(16, min(size, len(content), 256), 4)} | {content[8:12]}
    if content[8:12] in _HEIC_BRANDS:
        return "image/heic", "a HEIC image"
    if brands & _HEIF_BRANDS and b"avif" not in brands:
        return "image/heif", "a HEIF image"
    return None, f"an ISO media file of brand {content[8:12].decode('latin-1')!r} (video or AVIF)"


def _webp(content: bytes) -> tuple[str | None, str] | None:
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", "a WebP image"
    if content[:4] == b"RIFF":
        return None, "a RIFF file (audio or video)"
    return None


def _office(content: bytes) -> tuple[str | None, str] | None:
    """DOCX or XLSX: a ZIP holding ``[Content_Types].xml`` that declares a document or workbook main part."""
    if not content.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            # Read at most 1 MB of the declaration: a crafted archive could inflate it without end.
            with archive.open("[Content_Types].xml") as declared:
                types = declared.read(1_048_576).decode("utf-8", "replace")
    except KeyError:
        return None, "a ZIP archive"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError):
        return None, "a damaged ZIP or Office file"
    return _office_kind(types)


def _office_kind(types: str) -> tuple[str | None, str]:
    if "macroEnabled" in types:
        return None, "a macro-enabled Office file; save it as DOCX, XLSX or PDF"
    if "wordprocessingml.document.main+xml" in types:
        return DOCX, "a DOCX document"
    if "spreadsheetml.sheet.main+xml" in types:
        return XLSX, "an XLSX workbook"
    return None, "an Office file of another kind (presentation, template...)"


def _text(content: bytes) -> tuple[str | None, str]:
    """Plain text or CSV in UTF-8 or Windows-1251 (what Russian Excel saves), without NULs or control codes."""
    if _MARKUP.match(content[:1024]):
        return None, "an HTML or XML page"
    decoded = _decode(content)
    if decoded is None or _TEXT_CONTROLS.search(decoded[0]):
        return None, "binary content"
    text, charset = decoded
    kind = "text/csv" if _looks_tabular(text) else "text/plain"
    return f"{kind}; charset={charset}", "text"


def _decode(content: bytes) -> tuple[str, str] | None:
    if b"\x00" in content:
        return None
    for codec, charset in (("utf-8-sig", "utf-8"), ("cp1251", "windows-1251")):
        try:
            return content.decode(codec), charset
        except UnicodeDecodeError:
            continue
    return None


def _looks_tabular(text: str) -> bool:
    """CSV when the first lines (at least two) all hold the same positive number of one delimiter."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    return any(len({line.count(sep) for line in lines}) == 1 and lines[0].count(sep) > 0 for sep in ",;\t")


# ---- EXIF GPS ---------------------------------------------------------------------------------

def exif_degrees(value: Sequence[Any], ref: Any, axis: str) -> float:
    """Decimal degrees from an EXIF GPS value (degrees, minutes, seconds as rationals) and its N/S/E/W ref.

    Parameters
    ----------
    value : sequence of 1 to 3 rationals
        Degrees, then optionally minutes and seconds; each a number (int, float, ``Fraction``, Pillow's
        ``IFDRational``) or a ``(numerator, denominator)`` pair.
    ref : str or bytes
        ``N``/``S`` for ``axis="lat"``, ``E``/``W`` for ``axis="lon"``; south and west give negative degrees.
    axis : {"lat", "lon"}

    Examples
    --------
    >>> exif_degrees(((52, 1), (16, 1), (1230, 100)), "N", "lat")
    52.27008333333333
    >>> exif_degrees((33, 51, 36), b"W", "lon")
    -33.86
    """
    field, refs, limit = ("GPSLatitude", "NS", 90) if axis == "lat" else ("GPSLongitude", "EW", 180)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not 1 <= len(value) <= 3:
        raise InvalidInput(field, value, "degrees, minutes and seconds as EXIF rationals")
    parts = [_rational(field, part) for part in value]
    if any(p < 0 for p in parts) or any(p >= 60 for p in parts[1:]):
        raise InvalidInput(field, value, "non-negative degrees with minutes and seconds below 60")
    degrees = sum(p / 60 ** i for i, p in enumerate(parts))
    if degrees > limit:
        raise InvalidInput(field, value, f"at most {limit} degrees")
    return -degrees if _ref(field + "Ref", ref, refs) == refs[1] else degrees


def _rational(field: str, part: Any) -> float:
    if isinstance(part, (tuple, list)) and len(part) == 2:
        numerator, denominator = part
        if not denominator:
            raise InvalidInput(field, part, "a rational with a non-zero denominator")
        part = numerator / denominator
    if not isinstance(part, numbers.Real) or isinstance(part, bool):
        raise InvalidInput(field, part, "a number or a (numerator, denominator) pair")
    number = float(part)  # Pillow reads n/0 as NaN
    if not math.isfinite(number):
        raise InvalidInput(field, part, "a finite number (a rational with a non-zero denominator)")
    return number


def _ref(field: str, ref: Any, allowed: str) -> str:
    text = ref.decode("ascii", "replace") if isinstance(ref, bytes) else str(ref or "")
    text = text.strip("\x00 ").upper()
    if len(text) != 1 or text not in allowed:
        raise InvalidInput(field, ref, f"{allowed[0]} or {allowed[1]}")
    return text


def geotag_from_gps(gps: Mapping[int, Any]) -> tuple[float, float] | None:
    """``(lat, lon)`` from an EXIF GPS IFD (tag number -> value), or None when it holds no position.

    A position of exactly 0, 0 counts as none: cameras without a satellite fix write zeros, and no site of the
    register lies in the Gulf of Guinea. A malformed position raises :class:`InvalidInput`.
    """
    if GPS_LATITUDE not in gps or GPS_LONGITUDE not in gps:
        return None
    lat = exif_degrees(gps[GPS_LATITUDE], gps.get(GPS_LATITUDE_REF), "lat")
    lon = exif_degrees(gps[GPS_LONGITUDE], gps.get(GPS_LONGITUDE_REF), "lon")
    return None if lat == 0 and lon == 0 else (lat, lon)


# ---- inspection records -------------------------------------------------------------------------

def validate_inspection(data: Mapping[str, Any], today: dt.date | None = None) -> dict[str, Any]:
    """Clean an inspection record: its date, the containment condition seen, the findings and the inspector.

    ``inspector`` may be left out (the service fills in the acting user); ``condition`` defaults to
    ``unknown``. ``today`` is for tests; it defaults to the server's date.
    """
    unknown = sorted(set(data) - set(INSPECTION_FIELDS))
    if unknown:
        expected = "one of the inspection fields: " + ", ".join(INSPECTION_FIELDS)
        raise InvalidInput(unknown[0], data[unknown[0]], expected)
    condition = data.get("condition") or "unknown"
    if condition not in vocab.CONTAINMENT:
        raise InvalidInput("condition", condition, "one of " + ", ".join(vocab.CONTAINMENT))
    return {
        "inspected_on": _inspection_date(data.get("inspected_on"), today or dt.date.today()),
        "condition": condition,
        "findings": _text_field("findings", data.get("findings"), FINDINGS_MAX_CHARS),
        "inspector": _text_field("inspector", data.get("inspector"), 200),
    }


def _inspection_date(value: Any, today: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    day = clean_date("inspected_on", value)
    latest = today + dt.timedelta(days=DATE_GRACE_DAYS)
    if day is None or not EARLIEST_INSPECTION <= day <= latest:
        raise InvalidInput("inspected_on", value,
                           f"the inspection date as YYYY-MM-DD, from {EARLIEST_INSPECTION} to today ({today})")
    return day


def _text_field(field: str, value: Any, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, value, "text")
    text = value.strip()
    if len(text) > limit:
        raise InvalidInput(field, f"{text[:40]}... ({len(text)} characters)", f"at most {limit} characters")
    return text or None
