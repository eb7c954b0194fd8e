"""Coordinates as field inspectors type them (decimal degrees, DMS, UTM, Pulkovo-1942 Gauss-Krüger) parsed to a Reading.

Pure text handling: projected readings keep their metres and EPSG code, and ``gis.crs`` turns them into degrees.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sites.errors import InvalidInput
from sites.records import KAZAKHSTAN_EXTENT, check_in_kazakhstan

FIELD = "coordinates"
FORMS = (
    "decimal degrees '52.2871, 76.9674'",
    "degrees, minutes, seconds '52°17'13.6\"N 76°58'02.6\"E'",
    "UTM '42T 612345 4765432'",
    "Gauss-Krüger (Pulkovo-1942) 'X=5795000 Y=13512000'",
)
EXPECTED = "coordinates as " + "; ".join(FORMS)
PROJECTED_HINT = ("projected coordinates need a CRS or zone, as in UTM '42T 612345 4765432' "
                  "or Gauss-Krüger 'X=5795000 Y=13512000'")

UTM_ZONES = range(38, 46)  # Kazakhstan, 46.5-87.3 E, lies in UTM zones 38 (42-48 E) to 45 (84-90 E) north
GK_ZONES = range(8, 17)  # and in Pulkovo-1942 Gauss-Krüger 6-degree zones 8-16 (EPSG:28408-28416)
EASTING_RANGE = (100_000.0, 900_000.0)  # metres within a zone: wider than any 6-degree zone at 36-56 N
NORTHING_RANGE = (1_000_000.0, 9_400_000.0)  # below 1,000,000 m a "northing" is almost surely an easting
GK_NORTHING_RANGE = (3_500_000.0, 7_000_000.0)  # 31.5-63 N: Kazakhstan (40.5-55.5 N) with a wide margin

# Typographic variants an inspector's keyboard or a scanned document produces, mapped to plain marks.
_MARKS = str.maketrans({"′": "'", "’": "'", "‘": "'", "´": "'", "`": "'", "ʹ": "'", "″": '"', "”": '"',
                        "“": '"', "ʺ": '"', "º": "°", "˚": "°", "\u00a0": " "})
_LETTER_BEFORE, _LETTER_AFTER = r"(?<![A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])", r"(?![A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])"
# Russian с.ш./ю.ш./в.д./з.д., Kazakh с.е./ш.б. (солтүстік ендік, шығыс бойлық), then single Cyrillic letters.
_HEMISPHERE_WORDS = tuple(
    (re.compile(_LETTER_BEFORE + pattern + _LETTER_AFTER), letter)
    for pattern, letter in (
        (r"С\.?\s?Ш\.?", "N"), (r"Ю\.?\s?Ш\.?", "S"), (r"В\.?\s?Д\.?", "E"), (r"З\.?\s?Д\.?", "W"),
        (r"С\.?\s?Е\.?", "N"), (r"Ш\.?\s?Б\.?", "E"), (r"С\.?", "N"), (r"Ю\.?", "S"), (r"В\.?", "E"), (r"З\.?", "W"),
    )
)
_NUMBER = r"\d+(?:\.\d+)?"
_TOKEN = re.compile(rf"(-?{_NUMBER})\s*([°'\"])?|([NSEW])|([,;/])|(\S)")
_ZONE_WORD = re.compile(r"(?:ZONE|ЗОНА)\s*(\d{1,2})\b")
_GK_WORD = re.compile(r"^(?:GK|ГК|SK-?42|СК-?42|PULKOVO(?:[- ]?1942)?|ПУЛКОВО(?:[- ]?1942)?|GAUSS-?KR[UÜ]GER)\b")
_GK_X = re.compile(r"[XХ]\s*[=:]\s*(\d+(?: \d{3})*(?:\.\d+)?)")
_GK_Y = re.compile(r"[YУ]\s*[=:]\s*(\d+(?: \d{3})*(?:\.\d+)?)")
_UTM = re.compile(r"^(UTM\s*)?(?:ZONE\s*|ЗОНА\s*)?(\d{1,2})([C-HJ-NP-X])?\s+(.*)$")
_EPSG = re.compile(r"^EPSG\s*:?\s*(\d{4,5})\s+(.*)$")


@dataclass(frozen=True)
class Reading:
    """A typed point, understood: degrees in EPSG:4326, or projected metres with the EPSG code they are in.

    ``kind`` is ``"decimal"`` or ``"dms"`` (``lat``/``lon`` set, ``epsg`` 4326), or ``"utm"`` or ``"gk"``
    (``easting``/``northing`` in metres without any zone prefix, ``zone`` and ``epsg`` set).
    """

    kind: str
    epsg: int
    lat: float | None = None
    lon: float | None = None
    easting: float | None = None
    northing: float | None = None
    zone: int | None = None

    @property
    def projected(self) -> bool:
        """True when the reading is in metres and needs transforming to degrees."""
        return self.epsg != 4326


def parse_coordinates(text: str) -> Reading:
    """Understand a point typed in any of the accepted forms.

    Parameters
    ----------
    text
        What the inspector typed, e.g. ``"52,2871; 76,9674"``, ``"52°17′13.6″ с.ш. 76°58′02.6″ в.д."``,
        ``"zone 43N E 500000 N 5800000"`` or ``"X=5795000 Y=13512000"``.

    Returns
    -------
    Reading
        Degrees for decimal and DMS input; metres, zone and EPSG code for UTM and Gauss-Krüger input.

    Raises
    ------
    InvalidInput
        Naming what was received and the accepted forms, or the part at fault (zone, minutes, ...).

    Examples
    --------
    >>> parse_coordinates("76.97E 52.29N")
    Reading(kind='decimal', epsg=4326, lat=52.29, lon=76.97, easting=None, northing=None, zone=None)
    >>> parse_coordinates("X=5795000 Y=13512000").epsg
    28413
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(FIELD, text, EXPECTED)
    clean = _normalise(text)
    for parse in (_parse_epsg, _parse_gk, _parse_utm):  # each answers None when the text is not in its form
        reading = parse(clean, text)
        if reading is not None:
            return reading
    return _parse_degrees(clean, text)


def check_plausible(lat: float, lon: float) -> None:
    """Refuse a point that cannot be a Kazakh site, saying the likely cause.

    Metres typed as degrees, latitude and longitude swapped, and points outside Kazakhstan each get their own
    explanation.

    Raises
    ------
    InvalidInput
        With the likely cause in the expected part of the message.
    """
    check_degrees(lat, lon, (lat, lon))
    if looks_swapped(lat, lon):
        raise InvalidInput("lat/lon", (lat, lon), f"latitude then longitude; ({lat:g}, {lon:g}) looks swapped: "
                           f"latitude {lon:g}, longitude {lat:g} is in Kazakhstan")
    check_in_kazakhstan(lat, lon)


def looks_swapped(lat: float, lon: float, extent: tuple[float, float, float, float] = KAZAKHSTAN_EXTENT) -> bool:
    """True when the point is outside Kazakhstan but would be inside with latitude and longitude exchanged."""
    min_lon, min_lat, max_lon, max_lat = extent
    inside = min_lat <= lat <= max_lat and min_lon <= lon <= max_lon
    return not inside and min_lat <= lon <= max_lat and min_lon <= lat <= max_lon


def check_degrees(lat: float, lon: float, received: object) -> None:
    """Refuse values that are not degrees at all, such as projected metres, or a latitude beyond the poles."""
    for value in (lat, lon):
        if abs(value) > 180:
            raise InvalidInput(FIELD, received, f"degrees ({value:g} is not a degree value: {PROJECTED_HINT})")
    if abs(lat) > 90:
        hint = "; latitude and longitude look swapped" if abs(lon) <= 90 else ""
        raise InvalidInput(FIELD, received, f"a latitude from -90 to 90, not {lat:g}{hint}")


# ---- normalising ------------------------------------------------------------------------------------------------
def _normalise(text: str) -> str:
    clean = text.translate(_MARKS).upper().replace("''", '"')
    for pattern, letter in _HEMISPHERE_WORDS:
        clean = pattern.sub(f" {letter} ", clean)
    if "." not in clean:  # without any decimal point, a comma between digits is a decimal comma (Russian locale)
        clean = re.sub(r"(?<=\d),(?=\d)", ".", clean)
    return " ".join(clean.split())


def _number(text: str) -> float:
    value = float(text.replace(" ", ""))
    if not math.isfinite(value):  # hundreds of digits overflow a float to infinity
        raise InvalidInput(FIELD, text, "metres or degrees, not a number too long to be a coordinate")
    return value


# ---- projected forms --------------------------------------------------------------------------------------------
def _parse_epsg(clean: str, raw: str) -> Reading | None:
    match = _EPSG.match(clean)
    if match is None:
        return None
    code, rest = int(match.group(1)), match.group(2)
    if code == 4326:
        return _parse_degrees(rest, raw)
    if code - 32600 in UTM_ZONES:
        return _utm_reading(code - 32600, *_pair(rest, raw))
    if code - 28400 in GK_ZONES:
        easting, northing = _pair(rest, raw)
        return _gk_reading(code - 28400, easting, northing)
    raise InvalidInput("EPSG", code, "4326, a UTM zone of Kazakhstan (32638-32645) or a Pulkovo-1942 "
                       "Gauss-Krüger zone of Kazakhstan (28408-28416)")


def _parse_gk(clean: str, raw: str) -> Reading | None:
    x, y, keyword = _GK_X.search(clean), _GK_Y.search(clean), _GK_WORD.match(clean)
    if keyword is None and x is None and y is None:
        return None
    zone, rest = _take_zone(clean[keyword.end():] if keyword else clean)
    if x is None and y is None:
        numbers = [_number(n) for n in re.findall(_NUMBER, rest)]
        if zone is None and numbers and numbers[0] < 100:  # a zone number, never a coordinate in metres
            zone, numbers = int(numbers[0]), numbers[1:]
        if len(numbers) != 2 or re.sub(rf"{_NUMBER}|[\s,;]", "", rest):
            raise InvalidInput(FIELD, raw, "Gauss-Krüger as 'GK 13 512000 5795000' (zone, Y, X) "
                               "or 'X=5795000 Y=13512000'")
        return _gk_reading(zone, numbers[0], numbers[1])
    if x is None or y is None or re.sub(r"[\s,;]", "", _GK_Y.sub("", _GK_X.sub("", rest))):
        raise InvalidInput(FIELD, raw, "Gauss-Krüger as 'X=5795000 Y=13512000', optionally with 'zone 13'")
    return _gk_reading(zone, _number(y.group(1)), _number(x.group(1)))


def _take_zone(text: str) -> tuple[int | None, str]:
    match = _ZONE_WORD.search(text)
    if match is None:
        return None, text
    return int(match.group(1)), text[:match.start()] + " " + text[match.end():]


def _gk_reading(zone: int | None, y: float, x: float) -> Reading:
    """Soviet convention: X is the northing, Y the easting with the zone number in front (13 512 000: zone 13)."""
    low, high = GK_NORTHING_RANGE
    if not low <= x <= high and low <= y <= high:
        raise InvalidInput("X", x, f"a northing (X) of {low:,.0f}-{high:,.0f} m in Kazakhstan; X and Y look swapped: "
                           "give Y then X, or label them 'X=5795000 Y=13512000'")
    if y >= 1_000_000:
        prefix = int(y // 1_000_000)
        if zone is not None and zone != prefix:
            raise InvalidInput("zone", zone, f"the zone written in front of Y ({prefix} in Y={y:.0f})")
        zone, y = prefix, y - prefix * 1_000_000
    elif zone is None:
        raise InvalidInput("Y", y, "a Y with its zone number in front (13512000 for zone 13) or a zone ('zone 13')")
    if zone not in GK_ZONES:
        raise InvalidInput("zone", zone, "a Pulkovo-1942 Gauss-Krüger zone covering Kazakhstan, 8 to 16 "
                           "(in the Soviet convention X is the northing and Y the easting with the zone in front)")
    _check_metres("Y", "X", y, x)
    return Reading("gk", 28400 + zone, easting=y, northing=x, zone=zone)


def _parse_utm(clean: str, raw: str) -> Reading | None:
    match = _UTM.match(clean)
    if match is None:
        return None
    zone, band, rest = match.group(2, 3, 4)
    keyword = bool(match.group(1)) or "ZONE" in clean or "ЗОНА" in clean
    pair = _labelled_pair(rest)
    if pair is None or not (keyword or band or min(pair) >= 1000):
        if keyword or band:
            raise InvalidInput(FIELD, raw, "UTM as zone, easting, northing: '42T 612345 4765432' or "
                               "'zone 43N E 500000 N 5800000'")
        return None
    if band and band < "N":
        raise InvalidInput("zone", zone + band, "a northern UTM band, N to X (T and U in Kazakhstan)")
    return _utm_reading(int(zone), *pair)


def _utm_reading(zone: int, easting: float, northing: float) -> Reading:
    if zone not in UTM_ZONES:
        hint = f"; for Gauss-Krüger zone {zone} write 'GK {zone} Y X'" if zone in GK_ZONES else ""
        raise InvalidInput("zone", zone, f"a UTM zone covering Kazakhstan, 38 to 45 north{hint}")
    _check_metres("easting", "northing", easting, northing)
    return Reading("utm", 32600 + zone, easting=easting, northing=northing, zone=zone)


def _pair(text: str, raw: str) -> tuple[float, float]:
    pair = _labelled_pair(text)
    if pair is None:
        raise InvalidInput(FIELD, raw, "an easting and a northing in metres after the EPSG code")
    return pair


def _labelled_pair(text: str) -> tuple[float, float] | None:
    """Easting and northing, bare in that order or labelled E/N (before or after, with "m"), else None."""
    text = re.sub(r"EASTING", "E", re.sub(r"NORTHING", "N", text))
    text = re.sub(r"(?<=\d)\s?M\b|(?<=\d)M(?=[EN]\b)", "", text)
    tokens = re.findall(rf"{_NUMBER}|[EN]|[^\s=:,;]", text)
    numbers = [float(t) for t in tokens if t[0].isdigit()]
    labels = [t for t in tokens if not t[0].isdigit()]
    if len(numbers) != 2 or len(tokens) not in (2, 4) or (labels and sorted(labels) != ["E", "N"]):
        return None
    if len(tokens) == 4 and not (tokens[0] in "EN" and tokens[2] in "EN" or tokens[1] in "EN" and tokens[3] in "EN"):
        return None
    return (numbers[1], numbers[0]) if labels and labels[0] == "N" else (numbers[0], numbers[1])


def _check_metres(east_name: str, north_name: str, easting: float, northing: float) -> None:
    (low_e, high_e), (low_n, high_n) = EASTING_RANGE, NORTHING_RANGE
    if low_n <= easting <= high_n and low_e <= northing <= high_e:
        raise InvalidInput(north_name, northing, f"a {north_name} of {low_n:,.0f}-{high_n:,.0f} m; the values look "
                           f"swapped: give {east_name} then {north_name}, or label them")
    if not low_e <= easting <= high_e:
        raise InvalidInput(east_name, easting, f"metres within the zone, {low_e:,.0f} to {high_e:,.0f}")
    if not low_n <= northing <= high_n:
        raise InvalidInput(north_name, northing, f"metres from the equator, {low_n:,.0f} to {high_n:,.0f}")


# ---- degrees ----------------------------------------------------------------------------------------------------
def _parse_degrees(clean: str, raw: str) -> Reading:
    tokens = _tokens(clean, raw)
    first, second = (_coordinate(group, raw) for group in _split_pair(tokens, raw))
    lat, lon = _assign_axes(first, second, raw)
    check_degrees(lat, lon, raw)
    kind = "decimal" if first[2] == second[2] == 1 else "dms"
    return Reading(kind, 4326, lat=lat, lon=lon)


def _tokens(clean: str, raw: str) -> list[tuple[str, object, str | None]]:
    """("num", value, mark), ("hem", letter, None) or ("sep", text, None); anything else is refused."""
    tokens = []
    for number, mark, hemisphere, separator, other in _TOKEN.findall(clean):
        if other:
            raise InvalidInput(FIELD, raw, EXPECTED)
        if number:
            tokens.append(("num", number, mark or None))
        else:
            tokens.append(("hem", hemisphere, None) if hemisphere else ("sep", separator, None))
    return tokens


def _split_pair(tokens: list, raw: str) -> tuple[list, list]:
    """Latitude part and longitude part: by a separator, else hemisphere letters, degree signs or halving."""
    parts = [list(group) for group in _split_on(tokens, "sep") if group]
    if len(parts) == 2:
        return parts[0], parts[1]
    tokens = [t for t in tokens if t[0] != "sep"]
    index = _second_start(tokens)
    if index is None or index <= 0 or index >= len(tokens):
        raise InvalidInput(FIELD, raw, EXPECTED)
    return tokens[:index], tokens[index:]


def _split_on(tokens: list, kind: str) -> list[list]:
    groups: list[list] = [[]]
    for token in tokens:
        if token[0] == kind:
            groups.append([])
        else:
            groups[-1].append(token)
    return groups


def _second_start(tokens: list) -> int | None:
    prefix = bool(tokens) and tokens[0][0] == "hem"
    letters = [i for i, t in enumerate(tokens) if t[0] == "hem"]
    if len(letters) == 2:
        return letters[1] if prefix else letters[0] + 1
    numbers = [i for i, t in enumerate(tokens) if t[0] == "num"]
    degrees = [i for i in numbers if tokens[i][2] == "°"]
    if len(degrees) == 2:
        start = degrees[1]
    elif len(numbers) in (2, 4, 6) and not degrees:
        start = numbers[len(numbers) // 2]
    else:
        return None
    return start - 1 if prefix and tokens[start - 1][0] == "hem" else start


def _coordinate(group: list, raw: str) -> tuple[float, str | None, int]:
    """(value in degrees, "lat"/"lon"/None from its letter, how many parts it was written in)."""
    numbers = [t for t in group if t[0] == "num"]
    letters = [t[1] for t in group if t[0] == "hem"]
    if not 1 <= len(numbers) <= 3 or len(letters) > 1:
        raise InvalidInput(FIELD, raw, EXPECTED)
    parts = [float(n[1]) for n in numbers]
    _check_parts(numbers, parts, raw)
    if letters and parts[0] < 0:
        raise InvalidInput(FIELD, raw, "either a minus sign or a hemisphere letter, not both")
    value = abs(parts[0]) + sum(p / 60 ** i for i, p in enumerate(parts[1:], start=1))
    sign = -1 if parts[0] < 0 or (letters and letters[0] in "SW") else 1
    axis = None if not letters else "lat" if letters[0] in "NS" else "lon"
    return sign * value, axis, len(parts)


def _check_parts(numbers: list, parts: list[float], raw: str) -> None:
    for position, (token, value) in enumerate(zip(numbers, parts)):
        if not math.isfinite(value):  # hundreds of digits overflow a float to infinity
            raise InvalidInput(FIELD, raw, "degrees, minutes and seconds, not a number too long to be a coordinate")
        if token[2] is not None and token[2] != "°'\""[position]:
            raise InvalidInput(FIELD, raw, "degrees (°), then minutes ('), then seconds (\") in that order")
        if position and not 0 <= value < 60:
            raise InvalidInput(FIELD, raw, f"minutes and seconds from 0 to under 60, not {value:g}")
        if position < len(parts) - 1 and value != int(value):
            raise InvalidInput(FIELD, raw, "decimals only in the last part (52°17.227' or 52°17'13.6\")")


def _assign_axes(first: tuple, second: tuple, raw: str) -> tuple[float, float]:
    """Latitude and longitude: by their letters when given, else latitude first."""
    axes = [first[1], second[1]]
    if axes[0] is not None and axes[0] == axes[1]:
        raise InvalidInput(FIELD, raw, "one latitude (N/S, с.ш.) and one longitude (E/W, в.д.)")
    if "lon" in axes and axes.index("lon") == 0 or axes[1] == "lat":
        return second[0], first[0]
    return first[0], second[0]
