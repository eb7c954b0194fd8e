"""Property-based fuzzing of the coordinate parsers: any text gives a point or the register's own error.

``sites.coordinates.parse_coordinates`` and ``gis.crs.parse_point`` read what inspectors type (decimal degrees,
DMS with Russian and Kazakh hemisphere words, UTM, Pulkovo-1942 Gauss-Krüger, EPSG-prefixed pairs). Whatever the
text, they must return a reading, or raise :class:`sites.errors.InvalidInput` whose message names what was expected
and what was received; never a bare ValueError, OverflowError or IndexError from deep inside.

Two kinds of input: arbitrary text (finds crashes on junk), and text assembled from the parsers' own vocabulary
(numbers short and absurdly long, degree marks, hemisphere letters and words, zone and band letters, X=/Y=, EPSG
codes, separators), which reaches far deeper into each form than random characters do.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.crs import parse_point
from sites.coordinates import Reading, parse_coordinates
from sites.errors import InvalidInput

FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NUMBERS = st.one_of(
    st.integers(min_value=-100, max_value=10_000_000).map(str),
    st.floats(min_value=-1000, max_value=1e8, allow_nan=False).map(lambda f: f"{f:.{abs(int(f)) % 7}f}"),
    st.from_regex(r"\A\d{1,3}[.,]\d{1,8}\Z"),
    st.integers(min_value=300, max_value=420).map(lambda n: "9" * n),  # overflows float to infinity
    st.sampled_from(["52", "76", "17", "13.6", "0", "60", "59.9999", "42", "612345", "4765432", "5795000",
                     "13512000", "1 000", "5 795 000"]),
)
WORDS = st.sampled_from([
    "°", "'", '"', "′", "″", "º", "N", "S", "E", "W", "с.ш.", "ю.ш.", "в.д.", "з.д.", "с.е.", "ш.б.", "С", "В",
    ",", ";", "/", " ", "  ", "-", "UTM", "zone", "зона", "T", "U", "C", "X=", "Y=", "Х=", "У=", "X:", "GK", "ГК",
    "СК-42", "Pulkovo-1942", "EPSG:", "EPSG:4326", "EPSG:32643", "EPSG:28413", "EPSG:3857", "m", "E ", "N ",
    "easting", "northing", "\u00a0", "ё", "x",
])
COORDINATE_TEXT = st.lists(st.one_of(NUMBERS, WORDS), min_size=1, max_size=10).map(" ".join) | \
    st.lists(st.one_of(NUMBERS, WORDS), min_size=1, max_size=10).map("".join)


def check_explained(error: InvalidInput) -> None:
    """The register's errors say what was expected and what came instead."""
    assert error.field and error.expected and "expected" in error.message and "received" in error.message


def check_reading(reading: Reading) -> None:
    if reading.projected:
        assert math.isfinite(reading.easting) and math.isfinite(reading.northing) and reading.zone is not None
    else:
        assert -90 <= reading.lat <= 90 and -180 <= reading.lon <= 180


@pytest.mark.parametrize("text", [
    "X=5795000 Y=1" + "0" * 400,  # Gauss-Krüger Y of 401 digits: was ValueError (int of NaN) in _gk_reading
    "GK 13 " + "9" * 400 + " 5795000",  # the same through the zone-first form
    "9" * 400 + "° 10' N 76 E",  # degrees of 400 digits: was OverflowError (int of infinity) in _check_parts
    "0 0 " + "9" * 330 + " 0",  # found by the fuzzer below: four bare numbers read as two degree-minute pairs
])
def test_numbers_too_long_for_a_float_are_explained(text):
    """Regression: fuzzing found that a run of hundreds of digits (a paste gone wrong) crashed the parser."""
    with pytest.raises(InvalidInput, match="too long to be a coordinate") as refused:
        parse_coordinates(text)
    check_explained(refused.value)


@FUZZ
@given(st.one_of(st.text(max_size=60), COORDINATE_TEXT))
def test_parse_coordinates_returns_a_reading_or_explains(text):
    try:
        reading = parse_coordinates(text)
    except InvalidInput as error:
        check_explained(error)
        return
    check_reading(reading)


@FUZZ
@given(st.one_of(st.text(max_size=60), COORDINATE_TEXT))
def test_parse_point_returns_a_kazakh_point_or_explains(text):
    try:
        lat, lon, reading = parse_point(text)
    except InvalidInput as error:
        check_explained(error)
        return
    check_reading(reading)
    assert 40.0 <= lat <= 56.0 and 45.0 <= lon <= 88.5  # sites.records.KAZAKHSTAN_EXTENT


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=40.6, max_value=55.4), st.floats(min_value=46.5, max_value=87.3))
def test_decimal_and_dms_forms_of_a_kazakh_point_read_back_as_that_point(lat, lon):
    """Not only no crash: every point of the country, written as an inspector would, parses to itself."""
    decimal = parse_coordinates(f"{lat:.6f}, {lon:.6f}")
    assert math.isclose(decimal.lat, lat, abs_tol=1e-6) and math.isclose(decimal.lon, lon, abs_tol=1e-6)
    dms = parse_coordinates(f"{_dms(lat)} с.ш. {_dms(lon)} в.д.")
    assert math.isclose(dms.lat, lat, abs_tol=1e-4) and math.isclose(dms.lon, lon, abs_tol=1e-4)


def _dms(value: float) -> str:
    degrees, rest = divmod(round(value * 3600, 1), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(degrees)}°{int(minutes)}′{seconds:.1f}″"
