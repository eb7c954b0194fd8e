"""UTM and Pulkovo-1942 Gauss-Krüger to WGS 84, checked against values worked out by hand, not by pyproj itself."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod, Transformer

from gis.crs import parse_point, to_wgs84, transformer
from sites.coordinates import Reading
from sites.errors import InvalidInput

WGS84 = (6378137.0, 298.257223563)
KRASSOWSKY = (6378245.0, 298.3)
# GOST R 51794-2001, SK-42 to WGS 84: translations (m), rotations (arc seconds), scale (ppm); coordinate frame rotation.
GOST_SK42_TO_WGS84 = (25.0, -141.0, -78.5, 0.0, -0.35, -0.736, 0.0)
GEOD = Geod(ellps="WGS84")


def meridian_arc(lat: float, ellipsoid: tuple[float, float], steps: int = 2000) -> float:
    """Metres from the equator to ``lat`` along a meridian: Simpson's rule over the meridional radius of curvature.

    Checks itself against published figures (test below): WGS 84 gives 4,984,944.378 m at 45 degrees.
    """
    a, inv_f = ellipsoid
    e2 = (2 - 1 / inv_f) / inv_f
    phi = math.radians(lat)
    h = phi / steps

    def radius(t):
        return a * (1 - e2) / (1 - e2 * math.sin(t) ** 2) ** 1.5

    inner = sum((4 if i % 2 else 2) * radius(i * h) for i in range(1, steps))
    return h / 3 * (radius(0) + radius(phi) + inner)


def helmert_by_hand(lat: float, lon: float) -> tuple[float, float]:
    """Pulkovo 1942 degrees to WGS 84 degrees with GOST's seven parameters, through geocentric coordinates."""
    x, y, z = _geocentric(lat, lon, KRASSOWSKY)
    tx, ty, tz, *rotations, ppm = GOST_SK42_TO_WGS84
    rx, ry, rz = (math.radians(r / 3600) for r in rotations)
    m = 1 + ppm * 1e-6
    # Coordinate frame convention (EPSG method 9607): the rotation matrix is transposed against "position vector".
    x2 = tx + m * (x + rz * y - ry * z)
    y2 = ty + m * (-rz * x + y + rx * z)
    z2 = tz + m * (ry * x - rx * y + z)
    return _geodetic(x2, y2, z2, WGS84)


def _geocentric(lat, lon, ellipsoid, height=0.0):
    a, inv_f = ellipsoid
    e2 = (2 - 1 / inv_f) / inv_f
    phi, lam = math.radians(lat), math.radians(lon)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    return ((n + height) * math.cos(phi) * math.cos(lam), (n + height) * math.cos(phi) * math.sin(lam),
            (n * (1 - e2) + height) * math.sin(phi))


def _geodetic(x, y, z, ellipsoid):
    a, inv_f = ellipsoid
    e2 = (2 - 1 / inv_f) / inv_f
    p = math.hypot(x, y)
    phi = math.atan2(z, p * (1 - e2))
    for _ in range(10):
        n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
        h = p / math.cos(phi) - n
        phi = math.atan2(z, p * (1 - e2 * n / (n + h)))
    return math.degrees(phi), math.degrees(math.atan2(y, x))


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[1], a[0], b[1], b[0])[2]


def test_the_hand_meridian_arc_matches_published_figures():
    assert meridian_arc(45, WGS84) == pytest.approx(4_984_944.378, abs=0.001)
    assert meridian_arc(90, WGS84) == pytest.approx(10_001_965.729, abs=0.001)  # WGS 84 quarter meridian
    assert meridian_arc(90, KRASSOWSKY) == pytest.approx(10_002_137.498, abs=0.001)  # Krassowsky quarter meridian


@pytest.mark.parametrize("zone", list(range(38, 46)))
def test_utm_central_meridian_at_the_equator(zone):
    lat, lon = to_wgs84(Reading("utm", 32600 + zone, easting=500_000.0, northing=0.0, zone=zone))
    assert lat == pytest.approx(0.0, abs=1e-12)
    assert lon == pytest.approx(zone * 6 - 183, abs=1e-12)  # central meridian of zone n is 6n - 183 degrees


@pytest.mark.parametrize("lat", [40.6, 45.0, 52.2871, 55.4])
def test_utm_northing_on_the_central_meridian_is_the_scaled_meridian_arc(lat):
    northing = 0.9996 * meridian_arc(lat, WGS84)
    result = to_wgs84(Reading("utm", 32643, easting=500_000.0, northing=northing, zone=43))
    assert result == (pytest.approx(lat, abs=1e-8), pytest.approx(75.0, abs=1e-12))


@pytest.mark.parametrize("zone, lat", [(13, 45.0), (13, 52.2871), (8, 47.1), (16, 49.95), (11, 42.3)])
def test_gauss_kruger_on_the_central_meridian_matches_the_hand_datum_shift(zone, lat):
    central = zone * 6 - 3  # Gauss-Krüger zone 13: 75 E, false easting 13,500,000 m, scale 1
    reading = Reading("gk", 28400 + zone, easting=500_000.0, northing=meridian_arc(lat, KRASSOWSKY), zone=zone)
    result = to_wgs84(reading)
    assert metres_between(result, helmert_by_hand(lat, central)) < 0.01
    # Pulkovo 1942 -> WGS 84 moves points in Kazakhstan by about 60-100 m (west-south-west, a little north).
    shift = metres_between(result, (lat, central))
    assert 40 < shift < 150
    assert result[1] < central


def test_the_datum_shift_is_pinned_to_one_transformation():
    assert "Pulkovo 1942 to WGS 84 (16)" in transformer(28413).description
    assert "Pulkovo 1942 to WGS 84 (16)" in transformer(28408).description
    assert transformer(28413) is transformer(28413)


def test_pinning_matters_pyproj_alone_would_use_the_russian_transformation_in_pavlodar():
    """Why the transformation is pinned: pyproj's own choice here differs by metres from the Kazakh one."""
    pinned = to_wgs84(Reading("gk", 28413, easting=512_000.0, northing=5_795_000.0, zone=13))
    lon, lat = Transformer.from_crs(28413, 4326, always_xy=True).transform(13_512_000.0, 5_795_000.0)
    assert 1 < metres_between(pinned, (lat, lon)) < 20


@pytest.mark.parametrize("lat, lon", [(52.2871, 76.9674), (43.25, 76.95), (47.1, 51.9), (49.95, 82.6), (40.6, 68.5)])
def test_round_trip_through_utm(lat, lon):
    zone = int((lon + 180) // 6) + 1
    easting, northing = Transformer.from_crs(4326, 32600 + zone, always_xy=True).transform(lon, lat)
    result = to_wgs84(Reading("utm", 32600 + zone, easting=easting, northing=northing, zone=zone))
    assert result == (pytest.approx(lat, abs=1e-9), pytest.approx(lon, abs=1e-9))


@pytest.mark.parametrize("lat, lon, zones", [(52.2871, 76.9674, (13,)), (43.25, 72.0, (12, 13)),
                                             (47.1, 51.9, (9,)), (49.95, 82.6, (14,))])
def test_round_trip_through_gauss_kruger_in_every_zone_covering_the_point(lat, lon, zones):
    for zone in zones:
        y, x = transformer(28400 + zone).transform(lon, lat, direction="INVERSE")
        assert y // 1_000_000 == zone
        result = to_wgs84(Reading("gk", 28400 + zone, easting=y - zone * 1_000_000, northing=x, zone=zone))
        assert metres_between(result, (lat, lon)) < 0.01


def test_degrees_pass_through_unchanged():
    assert to_wgs84(Reading("dms", 4326, lat=52.2871, lon=76.9674)) == (52.2871, 76.9674)


@pytest.mark.parametrize("text, lat, lon", [
    ("52°17'13.6\"N 76°58'02.6\"E", 52 + 17 / 60 + 13.6 / 3600, 76 + 58 / 60 + 2.6 / 3600),
    ("76,9674 в.д. 52,2871 с.ш.", 52.2871, 76.9674),
    (f"43N 500000 {0.9996 * meridian_arc(52.3, WGS84):.3f}", 52.3, 75.0),
    (f"zone 43 E 500000 N {0.9996 * meridian_arc(45.0, WGS84):.3f}", 45.0, 75.0),
    (f"X={meridian_arc(52.3, KRASSOWSKY):.3f} Y=13500000", *helmert_by_hand(52.3, 75.0)),
    (f"GK 9 500000 {meridian_arc(47.1, KRASSOWSKY):.3f}", *helmert_by_hand(47.1, 51.0)),
])
def test_parse_point(text, lat, lon):
    got_lat, got_lon, _ = parse_point(text)
    assert metres_between((got_lat, got_lon), (lat, lon)) < 0.01


def test_parse_point_keeps_the_reading_as_typed():
    lat, lon, reading = parse_point("GK 13 512000 5795000")
    assert reading == Reading("gk", 28413, easting=512_000.0, northing=5_795_000.0, zone=13)
    assert 52.2 < lat < 52.3 and 75.1 < lon < 75.2


@pytest.mark.parametrize("text, says", [
    ("76.9674 52.2871", "looks swapped"),
    ("612345 4765432", "612345 is not a degree value: projected coordinates need a CRS or zone"),
    ("55.75 37.62", "a point in Kazakhstan"),
    ("zone 40N 500000 3000000", "a point in Kazakhstan"),
    ("46 500000 5800000", "38 to 45"),
])
def test_parse_point_refuses_what_cannot_be_a_kazakh_site(text, says):
    with pytest.raises(InvalidInput) as error:
        parse_point(text)
    assert says in str(error.value)


def test_an_unsupported_crs_is_refused():
    with pytest.raises(InvalidInput, match="28408-28416"):
        transformer(3857)


def test_west_kazakhstan_lies_in_utm_zone_38():
    lat, lon, reading = parse_point("38U 634169 5475792")  # near Zhanibek, West Kazakhstan region
    assert reading.zone == 38 and 46.5 < lon < 48.0 and 49.0 < lat < 50.0
