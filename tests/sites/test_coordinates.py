"""Typed coordinates: every accepted form parses to the same point, nonsense is refused with the reason."""

from __future__ import annotations

import pytest

from sites.coordinates import Reading, check_plausible, looks_swapped, parse_coordinates
from sites.errors import InvalidInput

# 52°17'13.6" N, 76°58'02.6" E (Pavlodar) in decimal degrees, worked by hand: 17/60 + 13.6/3600, 58/60 + 2.6/3600.
LAT, LON = 52 + 17 / 60 + 13.6 / 3600, 76 + 58 / 60 + 2.6 / 3600


@pytest.mark.parametrize("text, lat, lon", [
    ("52.2871, 76.9674", 52.2871, 76.9674),
    ("52.2871 76.9674", 52.2871, 76.9674),
    ("52.2871,76.9674", 52.2871, 76.9674),
    ("52,2871; 76,9674", 52.2871, 76.9674),
    ("52,2871 76,9674", 52.2871, 76.9674),
    ("  52.2871 ;  76.9674  ", 52.2871, 76.9674),
    ("52.2871N 76.9674E", 52.2871, 76.9674),
    ("N52.2871 E76.9674", 52.2871, 76.9674),
    ("76.97E 52.29N", 52.29, 76.97),
    ("76.97 E, 52.29 N", 52.29, 76.97),
    ("52.29 с.ш. 76.97 в.д.", 52.29, 76.97),
    ("76,97 в.д.; 52,29 с.ш.", 52.29, 76.97),
    ("52.29С 76.97В", 52.29, 76.97),
    ("52.29 С. 76.97 В.", 52.29, 76.97),
    ("52.29 с.е. 76.97 ш.б.", 52.29, 76.97),  # Kazakh: солтүстік ендік, шығыс бойлық
    ("52.29N 76.97", 52.29, 76.97),
    ("52.29 76.97E", 52.29, 76.97),
    ("-33.9 18.4", -33.9, 18.4),  # parsed; check_plausible is what refuses points outside Kazakhstan
    ("33.9S 18.4W", -33.9, -18.4),
])
def test_decimal_degrees(text, lat, lon):
    reading = parse_coordinates(text)
    assert reading == Reading("decimal", 4326, lat=pytest.approx(lat), lon=pytest.approx(lon))
    assert not reading.projected


@pytest.mark.parametrize("text", [
    "52°17'13.6\"N 76°58'02.6\"E",
    "52°17'13.6\" N, 76°58'02.6\" E",
    "N52°17'13.6\" E76°58'02.6\"",
    "76°58'02.6\"E 52°17'13.6\"N",
    "52 17 13.6 N, 76 58 2.6 E",
    "52 17 13.6 N 76 58 2.6 E",
    "52 17 13.6 76 58 2.6",
    "52°17'13.6\" 76°58'02.6\"",
    "52°17′13.6″N 76°58′02.6″E",
    "52°17’13.6”N 76°58’02.6”E",
    "52°17'13.6''N 76°58'2.6''E",
    "52º17'13.6\"N 76º58'02.6\"E",
    "52°17′13,6″ с.ш. 76°58′02,6″ в.д.",
    "52°17'13.6\"С 76°58'02.6\"В",
    "с.ш. 52°17'13.6\" в.д. 76°58'02.6\"",
])
def test_degrees_minutes_seconds(text):
    reading = parse_coordinates(text)
    assert reading.kind == "dms" and reading.epsg == 4326
    assert (reading.lat, reading.lon) == (pytest.approx(LAT, abs=1e-9), pytest.approx(LON, abs=1e-9))


@pytest.mark.parametrize("text, lat, lon", [
    ("52°17.227' 76°58.043'", 52 + 17.227 / 60, 76 + 58.043 / 60),
    ("52°17.227'N 76°58.043'E", 52 + 17.227 / 60, 76 + 58.043 / 60),
    ("52 17.227, 76 58.043", 52 + 17.227 / 60, 76 + 58.043 / 60),
    ("52°17,227′ с.ш. 76°58,043′ в.д.", 52 + 17.227 / 60, 76 + 58.043 / 60),
    ("52°17′ 76°58′", 52 + 17 / 60, 76 + 58 / 60),
    ("43°15'S 76°58'W", -(43 + 15 / 60), -(76 + 58 / 60)),
    ("-43 15 30, 76 58 0", -(43 + 15 / 60 + 30 / 3600), 76 + 58 / 60),
])
def test_degrees_decimal_minutes(text, lat, lon):
    reading = parse_coordinates(text)
    assert reading.kind == "dms"
    assert (reading.lat, reading.lon) == (pytest.approx(lat, abs=1e-9), pytest.approx(lon, abs=1e-9))


@pytest.mark.parametrize("text, zone, easting, northing", [
    ("42T 612345 4765432", 42, 612345, 4765432),
    ("42T 612345, 4765432", 42, 612345, 4765432),
    ("zone 43N E 500000 N 5800000", 43, 500000, 5800000),
    ("Zone 43N N 5800000 E 500000", 43, 500000, 5800000),
    ("UTM 43U E=500000 N=5800000", 43, 500000, 5800000),
    ("UTM zone 43 500000 5800000", 43, 500000, 5800000),
    ("UTM 42T 612345mE 4765432mN", 42, 612345, 4765432),
    ("42T 612345 m E 4765432 m N", 42, 612345, 4765432),
    ("43 easting 500000 northing 5800000", 43, 500000, 5800000),
    ("43 500000 5800000", 43, 500000, 5800000),
    ("зона 44 500000,5 5800000,25", 44, 500000.5, 5800000.25),
    ("39S 300000 4500000", 39, 300000, 4500000),  # band S (32-40 N) is a northern band, not "south"
    ("EPSG:32638 634169 5475792", 38, 634169, 5475792),
])
def test_utm(text, zone, easting, northing):
    reading = parse_coordinates(text)
    assert reading == Reading("utm", 32600 + zone, easting=easting, northing=northing, zone=zone)
    assert reading.projected


@pytest.mark.parametrize("text, zone, easting, northing", [
    ("X=5795000 Y=13512000", 13, 512000, 5795000),
    ("Y=13512000 X=5795000", 13, 512000, 5795000),
    ("x = 5 795 000, y = 13 512 000", 13, 512000, 5795000),
    ("X: 5795000.5; Y: 13512000.25", 13, 512000.25, 5795000.5),
    ("Х=5795000 У=13512000", 13, 512000, 5795000),  # Cyrillic Х and У, as typed on a Russian keyboard
    ("X=5795000 Y=512000 zone 13", 13, 512000, 5795000),
    ("зона 13 X=5795000 Y=13512000", 13, 512000, 5795000),
    ("GK 13 512000 5795000", 13, 512000, 5795000),
    ("GK 13512000 5795000", 13, 512000, 5795000),
    ("ГК зона 8 300000 4500000", 8, 300000, 4500000),
    ("СК-42 16500000 5000000", 16, 500000, 5000000),
    ("Pulkovo 1942 X=5795000 Y=13512000", 13, 512000, 5795000),
    ("EPSG:28413 512000 5795000", 13, 512000, 5795000),
])
def test_gauss_kruger(text, zone, easting, northing):
    reading = parse_coordinates(text)
    assert reading == Reading("gk", 28400 + zone, easting=easting, northing=northing, zone=zone)


@pytest.mark.parametrize("text, field, says", [
    ("", "coordinates", "decimal degrees '52.2871, 76.9674'"),
    ("   ", "coordinates", "UTM '42T 612345 4765432'"),
    ("Pavlodar", "coordinates", "Gauss-Krüger"),
    ("52.3", "coordinates", "decimal degrees"),
    ("52.3, 76.9, 3.1", "coordinates", "decimal degrees"),
    ("52.3 76.9 3.1", "coordinates", "decimal degrees"),
    ("52.3N 76.9N", "coordinates", "one latitude (N/S, с.ш.) and one longitude (E/W, в.д.)"),
    ("52.3N S 76.9", "coordinates", "one latitude (N/S, с.ш.) and one longitude"),
    ("-52.3N 76.9E", "coordinates", "either a minus sign or a hemisphere letter"),
    ("52 61 76 58", "coordinates", "minutes and seconds from 0 to under 60, not 61"),
    ("52 17 60 76 58 0", "coordinates", "not 60"),
    ("52.5 17 76 58", "coordinates", "decimals only in the last part"),
    ("52'17° 76°58'", "coordinates", "degrees (°), then minutes ('), then seconds"),
    ("92 52", "coordinates", "latitude and longitude look swapped"),
    ("-95 200.5", "coordinates", "200.5 is not a degree value"),
    ("612345 4765432", "coordinates", "612345 is not a degree value: projected coordinates need a CRS or zone"),
    ("612345, 4765432", "coordinates", "need a CRS or zone"),
    ("46 500000 5800000", "zone", "a UTM zone covering Kazakhstan, 38 to 45"),
    ("zone 37N 500000 5800000", "zone", "38 to 45"),
    ("13 512000 5795000", "zone", "for Gauss-Krüger zone 13 write 'GK 13 Y X'"),
    ("42C 612345 4765432", "zone", "a northern UTM band"),
    ("42T 4765432 612345", "northing", "look swapped"),
    ("42T 61234 4765432", "easting", "metres within the zone"),
    ("42T 612345 9500000", "northing", "metres from the equator"),
    ("zone 42 52.3 76.9", "easting", "metres within the zone"),
    ("42T 612345", "coordinates", "UTM as zone, easting, northing"),
    ("EPSG:3857 500000 5800000", "EPSG", "32638-32645"),
    ("EPSG:32643 500000", "coordinates", "an easting and a northing"),
    ("X=5795000 Y=512000", "Y", "a Y with its zone number in front (13512000 for zone 13)"),
    ("X=5795000 Y=5512000", "zone", "Gauss-Krüger zone covering Kazakhstan, 8 to 16"),
    ("X=500000 Y=5800000", "X", "X and Y look swapped"),
    ("X=5795000 Y=13512000 zone 12", "zone", "the zone written in front of Y (13"),
    ("X=5795000", "coordinates", "Gauss-Krüger as 'X=5795000 Y=13512000'"),
    ("X=5795000 Y=13512000 Pavlodar", "coordinates", "Gauss-Krüger"),
    ("GK 13 512000", "coordinates", "'GK 13 512000 5795000' (zone, Y, X)"),
    ("GK 13 5795000 512000", "X", "look swapped"),
    ("GK 18 512000 5795000", "zone", "8 to 16"),
    (None, "coordinates", "decimal degrees"),
    (52.3, "coordinates", "decimal degrees"),
])
def test_nonsense_is_refused_saying_why(text, field, says):
    with pytest.raises(InvalidInput) as error:
        parse_coordinates(text)
    assert error.value.field == field
    assert says in error.value.expected, str(error.value)
    assert "received" in str(error.value)


def test_a_refusal_lists_every_accepted_form():
    with pytest.raises(InvalidInput) as error:
        parse_coordinates("somewhere near Pavlodar")
    message = str(error.value)
    for example in ("52.2871, 76.9674", "52°17'13.6\"N 76°58'02.6\"E", "42T 612345 4765432", "X=5795000 Y=13512000"):
        assert example in message
    assert "'somewhere near Pavlodar'" in message


@pytest.mark.parametrize("lat, lon", [(52.3, 76.9), (43.25, 76.95), (40.6, 68.5), (55.4, 69.2), (47.1, 51.9)])
def test_plausible_points_in_kazakhstan_pass(lat, lon):
    check_plausible(lat, lon)


@pytest.mark.parametrize("lat, lon, field, says", [
    (76.9, 52.3, "lat/lon", "(76.9, 52.3) looks swapped: latitude 52.3, longitude 76.9 is in Kazakhstan"),
    (69.2, 43.3, "lat/lon", "looks swapped"),
    (612345, 4765432, "coordinates", "612345 is not a degree value: projected coordinates need a CRS or zone"),
    (52.3, 5800000, "coordinates", "5.8e+06 is not a degree value"),
    (95.0, 40.0, "coordinates", "a latitude from -90 to 90"),
    (55.75, 37.62, "lat/lon", "a point in Kazakhstan"),  # Moscow
    (-52.3, 76.9, "lat/lon", "a point in Kazakhstan"),
])
def test_implausible_points_are_explained(lat, lon, field, says):
    with pytest.raises(InvalidInput) as error:
        check_plausible(lat, lon)
    assert error.value.field == field
    assert says in str(error.value)


@pytest.mark.parametrize("lat, lon, swapped", [(76.9, 52.3, True), (52.3, 76.9, False), (10.0, 10.0, False)])
def test_looks_swapped(lat, lon, swapped):
    assert looks_swapped(lat, lon) is swapped
