"""Site records and their validation: every field declared once, with what it accepts."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.validation import explain_validity

from sites import vocab
from sites.errors import InvalidInput
from sites.regions import BY_KATO

CODE_PATTERN = re.compile(r"^KZ-[A-Z]{3}-\d{4}$")
KATO_PATTERN = re.compile(r"^\d{9}$")

# Generous box around Kazakhstan (40.5-55.5 N, 46.4-87.4 E) plus a margin: a point outside it is almost
# always swapped latitude/longitude or a projected coordinate, not a Kazakh site.
KAZAKHSTAN_EXTENT = (45.0, 40.0, 88.5, 56.0)  # min lon, min lat, max lon, max lat
# The whole globe: for training and test registers loaded with foreign inventories (US NPL, Swiss VBS), never the
# national register, which keeps the default above.
WORLD_EXTENT = (-180.0, -90.0, 180.0, 90.0)
Extent = tuple[float, float, float, float]


@dataclass(frozen=True)
class Field:
    """One editable attribute of a site: its name, how to clean it and whether it must be given."""

    name: str
    clean: Callable[[str, Any], Any]
    required: bool = False
    default: Any = None
    help: str = ""


def text_field(max_len: int) -> Callable[[str, Any], str | None]:
    def clean(field: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise InvalidInput(field, value, f"text of at most {max_len} characters")
        value = value.strip()
        if "\x00" in value:  # PostgreSQL text cannot hold NUL: refuse it here, by name, not as a database error
            raise InvalidInput(field, value.replace("\x00", "\\0")[:40], "text without NUL (\\0) characters")
        if len(value) > max_len:
            raise InvalidInput(field, value[:40] + "...", f"text of at most {max_len} characters")
        return value or None

    return clean


def _choice(values: tuple[str, ...]) -> Callable[[str, Any], str | None]:
    def clean(field: str, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if value not in values:
            raise InvalidInput(field, value, "one of " + ", ".join(values))
        return value

    return clean


def number_field(minimum: float = 0.0) -> Callable[[str, Any], float | None]:
    def clean(field: str, value: Any) -> float | None:
        if value is None or value == "":
            return None
        number = _as_float(field, value, f"a number >= {minimum:g}")
        if number < minimum:
            raise InvalidInput(field, value, f"a number >= {minimum:g}")
        return number

    return clean


def _as_float(field: str, value: Any, expected: str) -> float:
    """A finite number; text may use a decimal comma, as Russian-locale spreadsheets write it."""
    if isinstance(value, bool):
        raise InvalidInput(field, value, expected)
    if isinstance(value, str) and "," in value and "." not in value:
        value = value.replace(",", ".")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(field, value, expected) from None
    if not math.isfinite(number):
        raise InvalidInput(field, value, expected)
    return number


def _year(field: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    expected = f"a year between 1800 and {dt.date.today().year}"
    number = _as_float(field, value, expected)
    if number != int(number) or not 1800 <= number <= dt.date.today().year:
        raise InvalidInput(field, value, expected)
    return int(number)


def clean_date(field: str, value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(field, value, "a date as YYYY-MM-DD") from None


def _bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", 1, "yes"):
        return True
    if value in (None, "", "false", "0", 0, "no"):
        return False
    raise InvalidInput(field, value, "true or false")


def _code(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not CODE_PATTERN.match(value):
        raise InvalidInput(field, value, "a site code like KZ-PAV-0003 (KZ, region letters, 4 digits)")
    return value


def _kato(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not KATO_PATTERN.match(text):
        raise InvalidInput(field, value, "a 9-digit KATO code such as 550000000")
    if field == "region_kato" and text not in BY_KATO:
        raise InvalidInput(field, value, "the KATO code of one of Kazakhstan's 20 regions")
    return text


def _latitude(field: str, value: Any) -> float:
    number = _as_float(field, value, "a latitude in decimal degrees between -90 and 90")
    if not -90 <= number <= 90:
        raise InvalidInput(field, value, "a latitude in decimal degrees between -90 and 90")
    return number


def _longitude(field: str, value: Any) -> float:
    number = _as_float(field, value, "a longitude in decimal degrees between -180 and 180")
    if not -180 <= number <= 180:
        raise InvalidInput(field, value, "a longitude in decimal degrees between -180 and 180")
    return number


def _footprint(field: str, value: Any) -> MultiPolygon | None:
    if value is None or value == "":
        return None
    geom = _parse_geometry(field, value)
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon):
        raise InvalidInput(field, geom.geom_type, "a Polygon or MultiPolygon")
    if geom.is_empty or not geom.is_valid:
        raise InvalidInput(field, explain_validity(geom), "a valid polygon (no self-intersection)")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
        raise InvalidInput(field, geom.bounds, "coordinates in degrees (EPSG:4326)")
    return geom


def _parse_geometry(field: str, value: Any):
    if isinstance(value, shapely.Geometry):
        return value
    try:
        if isinstance(value, Mapping):
            return shape(value)
        text = str(value).strip()
        if text.startswith("{"):
            return shape(json.loads(text))
        return shapely.from_wkt(text)
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
        raise InvalidInput(field, str(value)[:60], "a polygon as WKT or GeoJSON") from None


SITE_FIELDS: tuple[Field, ...] = (
    Field("code", _code, help="Register code KZ-<region>-NNNN; generated when left empty"),
    Field("name_en", text_field(200), help="Name in English"),
    Field("name_ru", text_field(200), help="Name in Russian"),
    Field("name_kk", text_field(200), help="Name in Kazakh"),
    Field("description", text_field(4000)),
    Field("lat", _latitude, required=True, help="Latitude, decimal degrees WGS84"),
    Field("lon", _longitude, required=True, help="Longitude, decimal degrees WGS84"),
    Field("footprint", _footprint, help="Outline polygon, WKT or GeoJSON in EPSG:4326"),
    Field("location_precision", _choice(vocab.LOCATION_PRECISION), required=True),
    Field("location_note", text_field(1000)),
    Field("region_kato", _kato),
    Field("district_kato", _kato),
    Field("activity", _choice(vocab.ACTIVITY), required=True),
    Field("operating_from", _year),
    Field("operating_to", _year),
    Field("operator", text_field(300)),
    Field("owner_status", _choice(vocab.OWNER_STATUS), default="unknown"),
    Field("land_use", text_field(200)),
    Field("area_ha", number_field()),
    Field("waste_volume_m3", number_field()),
    Field("waste_mass_t", number_field()),
    Field("containment", _choice(vocab.CONTAINMENT), default="unknown"),
    Field("accessibility", _choice(vocab.ACCESSIBILITY), default="unknown"),
    Field("stage", _choice(vocab.STAGE), default="suspected"),
    Field("remediation_cost_kzt", number_field()),
    Field("funding", text_field(300)),
    Field("remediation_deadline", clean_date),
    Field("confidential", _bool, default=False),
    Field("sources", text_field(4000)),
)

FIELDS_BY_NAME = {f.name: f for f in SITE_FIELDS}
NAME_FIELDS = ("name_en", "name_ru", "name_kk")


def validate_site(data: Mapping[str, Any], extent: Extent = KAZAKHSTAN_EXTENT) -> dict[str, Any]:
    """Clean a whole site record and return the values to store.

    Updates validate the stored record merged with the changes, so every rule holds after every write.
    ``extent`` (min lon, min lat, max lon, max lat) is the register's area: Kazakhstan unless a training or test
    register is set up with another (see :data:`WORLD_EXTENT`).

    Raises
    ------
    InvalidInput
        Naming the first field at fault, the value received and what was expected.
    """
    unknown = sorted(set(data) - set(FIELDS_BY_NAME))
    if unknown:
        raise InvalidInput(unknown[0], data[unknown[0]], "one of the site fields: " + ", ".join(FIELDS_BY_NAME))
    cleaned = {name: FIELDS_BY_NAME[name].clean(name, value) for name, value in data.items()}
    for field in SITE_FIELDS:
        if cleaned.get(field.name) is None:
            if field.required:
                raise InvalidInput(field.name, data.get(field.name), f"a value ({field.help or field.name})")
            cleaned[field.name] = field.default
    _check_whole(cleaned, extent)
    return cleaned


def _check_whole(cleaned: dict[str, Any], extent: Extent) -> None:
    if not any(cleaned.get(n) for n in NAME_FIELDS):
        raise InvalidInput("name_en", None, "a name in at least one of English, Russian or Kazakh")
    start, end = cleaned.get("operating_from"), cleaned.get("operating_to")
    if start is not None and end is not None and start > end:
        raise InvalidInput("operating_to", end, f"a year not before operating_from ({start})")
    check_in_kazakhstan(cleaned["lat"], cleaned["lon"], extent)


def check_in_kazakhstan(lat: float, lon: float, extent: tuple[float, float, float, float] = KAZAKHSTAN_EXTENT) -> None:
    """Refuse a point far outside Kazakhstan, suggesting the usual cause."""
    min_lon, min_lat, max_lon, max_lat = extent
    if min_lat <= lat <= max_lat and min_lon <= lon <= max_lon:
        return
    hint = ""
    if min_lat <= lon <= max_lat and min_lon <= lat <= max_lon:
        hint = " (latitude and longitude look swapped)"
    where = "in Kazakhstan" if extent == KAZAKHSTAN_EXTENT else "within the register's extent"
    raise InvalidInput(
        "lat/lon", (lat, lon), f"a point {where}, latitude {min_lat}-{max_lat} and longitude {min_lon}-{max_lon}{hint}"
    )


def geometry_sha256(lat: float, lon: float, footprint: MultiPolygon | None) -> str:
    """SHA-256 of the site's geometry as normalised WKB: point, then footprint when present.

    The hash changes exactly when the stored geometry changes, so it can be printed on a passport
    and compared with the audit trail.
    """
    digest = hashlib.sha256(shapely.to_wkb(Point(lon, lat), output_dimension=2, byte_order=1))
    if footprint is not None:
        digest.update(shapely.to_wkb(shapely.normalize(footprint), output_dimension=2, byte_order=1))
    return digest.hexdigest()
