"""Typed coordinates to WGS 84 degrees: UTM and Pulkovo-1942 Gauss-Krüger readings through pyproj, cached per EPSG.

Accuracy
--------
UTM (EPSG:32638-32645) is WGS 84 already: the inverse projection is exact to well under a millimetre, so a UTM
reading is as good as the GPS or map it came from.

Pulkovo 1942 (SK-42, EPSG:28408-28416) needs a datum shift, which in Kazakhstan moves a point by about 60-100 m
(south-west Kazakhstan about 65 m, Caspian about 100 m, Pavlodar about 75 m). The shift is pinned to one
transformation, EPSG:15865 "Pulkovo 1942 to WGS 84 (16)": the GOST R 51794-2001 parameters (tx 25, ty -141,
tz -78.5 m; ry -0.35", rz -0.736"; coordinate frame rotation), valid for the whole former USSR, EPSG accuracy
4.5 m. It is pinned because pyproj's default choice goes point by point on bounding boxes: for northern and eastern
Kazakhstan it takes the Russian Federation's EPSG:5044 (its box reaches 41 N), for the west the Caspian-only
EPSG:1303, elsewhere EPSG:15865, so neighbouring sites would jump by several metres between methods. The
Kazakhstan-wide EPSG:1291 (three translations, accuracy 44 m) differs from EPSG:15865 by 5-12 m.

Expect a Gauss-Krüger reading to land within about 5-10 m of the true WGS 84 point (transformation plus local
distortions of the SK-42 network); a point read off a paper map is worse than that by the map's own error
(0.5 mm at scale: 12 m at 1:25,000, 50 m at 1:100,000), which dominates.
"""

from __future__ import annotations

from functools import lru_cache

from pyproj import Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.exceptions import ProjError
from pyproj.transformer import TransformerGroup

from sites.coordinates import GK_ZONES, UTM_ZONES, Reading, check_plausible, parse_coordinates
from sites.errors import InvalidInput, SitesError
from sites.records import KAZAKHSTAN_EXTENT

PULKOVO_TO_WGS84 = 15865  # EPSG code of "Pulkovo 1942 to WGS 84 (16)", see the module docstring
KAZAKHSTAN = AreaOfInterest(*KAZAKHSTAN_EXTENT)  # west, south, east, north


class CrsError(SitesError):
    """The PROJ installation lacks a transformation the register relies on."""


def to_wgs84(reading: Reading) -> tuple[float, float]:
    """Latitude and longitude in WGS 84 (EPSG:4326) of a parsed reading.

    Parameters
    ----------
    reading
        From :func:`sites.coordinates.parse_coordinates`; Gauss-Krüger eastings are without the zone prefix.

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in decimal degrees.

    Raises
    ------
    InvalidInput
        When PROJ cannot transform the point.

    Examples
    --------
    >>> lat, lon = to_wgs84(Reading("utm", 32643, easting=500000.0, northing=0.0, zone=43))
    >>> round(lat, 9), round(lon, 9)  # zone 43's central meridian at the equator
    (0.0, 75.0)
    """
    if not reading.projected:
        return reading.lat, reading.lon
    # EPSG:284xx carries the zone in its false easting (zone 13: 13,500,000 m), as Soviet maps print it.
    prefix = reading.zone * 1_000_000 if reading.kind == "gk" else 0
    try:
        lon, lat = transformer(reading.epsg).transform(reading.easting + prefix, reading.northing, errcheck=True)
    except ProjError as error:
        raise InvalidInput("coordinates", (reading.easting, reading.northing),
                           f"a point PROJ can transform from EPSG:{reading.epsg} ({error})") from None
    return lat, lon


def parse_point(text: str) -> tuple[float, float, Reading]:
    """Parse typed coordinates, transform them to WGS 84 and check the point can be a Kazakh site.

    Returns
    -------
    tuple
        ``(lat, lon, reading)``: WGS 84 degrees and the reading as typed, to keep with the record.

    Raises
    ------
    InvalidInput
        For text in no accepted form, or a point that is swapped, in metres without a zone, or outside Kazakhstan.

    Examples
    --------
    >>> parse_point("52°17'13.6\\"N 76°58'02.6\\"E")[:2]  # doctest: +ELLIPSIS
    (52.2871..., 76.9673...)
    """
    reading = parse_coordinates(text)
    lat, lon = to_wgs84(reading)
    check_plausible(lat, lon)
    return lat, lon, reading


@lru_cache(maxsize=32)
def transformer(epsg: int) -> Transformer:
    """The transformer from a UTM or Pulkovo-1942 Gauss-Krüger zone of Kazakhstan to EPSG:4326, x/y = lon/lat."""
    if epsg - 32600 in UTM_ZONES:
        return Transformer.from_crs(epsg, 4326, always_xy=True, allow_ballpark=False)
    if epsg - 28400 in GK_ZONES:
        return _pulkovo(epsg)
    raise InvalidInput("epsg", epsg, "a UTM zone of Kazakhstan (32638-32645) or a Pulkovo-1942 Gauss-Krüger zone "
                       "of Kazakhstan (28408-28416)")


def _pulkovo(epsg: int) -> Transformer:
    group = TransformerGroup(epsg, 4326, always_xy=True, area_of_interest=KAZAKHSTAN)
    for candidate in group.transformers:
        if any(_is_epsg(step, PULKOVO_TO_WGS84) for step in candidate.operations):
            return candidate
    raise CrsError(f"PROJ offers no EPSG:{PULKOVO_TO_WGS84} (Pulkovo 1942 to WGS 84) for EPSG:{epsg}; "
                   "the PROJ database is incomplete, reinstall pyproj")


def _is_epsg(operation, code: int) -> bool:
    ident = operation.to_json_dict().get("id") or {}
    return ident.get("authority") == "EPSG" and ident.get("code") == code
