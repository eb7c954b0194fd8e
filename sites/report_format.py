"""Pure formatting for printed reports: numbers in the reader's language, lab results, ratios, printable text.

Nothing here reads the database; ``gis/report_*.py`` gather the facts and call these to word them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Iterable, Mapping

# Kazakh and Russian write 1 234,5; English 1,234.5. A no-break space keeps a number on one line.
_SEPARATORS = {"en": (",", "."), "ru": ("\u00a0", ","), "kk": ("\u00a0", ",")}
_PEOPLE = re.compile(r"^([\d,]+) people within ([\d.]+) km$")
# A spreadsheet runs a cell beginning with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def number(value: Any, lang: str, digits: int = 0) -> str:
    """``value`` with ``digits`` decimals and the language's separators; "" for None or NaN."""
    if value is None or value != value:
        return ""
    thousands, decimal = _SEPARATORS.get(lang, _SEPARATORS["en"])
    text = f"{float(value):,.{digits}f}"
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)


def significant(value: Any, lang: str, figures: int = 3) -> str:
    """``value`` to ``figures`` significant figures at least, trailing zeros dropped, in the language's style:
    0.0238, 2.1, 47.6, 69, 2,000 (a whole number keeps every digit).
    """
    if value is None or value != value:
        return ""
    magnitude = abs(float(value))
    if magnitude == 0:
        return "0"
    digits = 0
    while magnitude * 10 ** digits < 10 ** (figures - 1) and digits < 8:
        digits += 1
    text = number(value, lang, digits)
    if digits:
        decimal = _SEPARATORS.get(lang, _SEPARATORS["en"])[1]
        text = text.rstrip("0").rstrip(decimal)
    return text


def share(value: Any, lang: str) -> str:
    """A share between 0 and 1 as a whole percentage: 0.7 -> "70 %"."""
    if value is None or value != value:
        return ""
    return f"{number(float(value) * 100, lang)}\u00a0%"


def result(qualifier: str, value: float, unit: str, lang: str, lod_word: str = "<LOD") -> str:
    """A lab result as printed: ``47.6 mg/kg``, ``>100 mg/kg``, and a non-detect as ``<LOD (0.05 mg/kg)``.

    A result below the detection limit is stored as ``<`` with the limit as its value (sites/samples.py).
    """
    amount = f"{significant(value, lang)}\u00a0{unit}"
    if qualifier == "<":
        return f"{lod_word} ({amount})"
    return f">{amount}" if qualifier == ">" else amount


def ratio(qualifier: str, measured: float | None, guideline: float | None, lang: str) -> str:
    """Measured / guideline in the same unit, ``<`` for a non-detect (below its limit's ratio), ``>`` for a
    result reported above a value; "" when there is no guideline to compare with."""
    if measured is None or not guideline:
        return ""
    mark = {"<": "<", ">": ">"}.get(qualifier, "")
    return f"{mark}{significant(measured / guideline, lang)}"


def people_within(explanation: Mapping[str, Any] | None) -> tuple[int, float] | None:
    """(people, km) of the widest ring the stored explanation counted, e.g. (170600, 6.4); None if it says none.

    The method writes each pathway's head count as "170,600 people within 6.4 km" (sites/scoring/method.py);
    the pathway counting the most rings gives the scoring radius.
    """
    found = None
    for part in (explanation or {}).get("parts", ()):
        for factor in part.get("factors", ()):
            for line in factor.get("data", ()) if factor.get("name") == "targets" else ():
                match = _PEOPLE.match(str(line))
                if match and (found is None or float(match[2]) > found[1]):
                    found = (int(match[1].replace(",", "")), float(match[2]))
    return found


def printable(value: Any, most: int | None = None) -> str:
    """Text from the database as printed: control characters dropped, whitespace collapsed, cut to ``most``.

    Escaping for a particular renderer (XML for reportlab paragraphs) is the renderer's job; this only keeps a
    stored line break or tab from breaking a table cell.
    """
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(value or ""))
    text = " ".join(text.split())
    if most is not None and len(text) > most:
        return text[: most - 1].rstrip() + "…"
    return text


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def moment(value: dt.datetime | dt.date | None) -> str:
    """A time as YYYY-MM-DD HH:MM UTC (a date alone as YYYY-MM-DD); "" for None."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def codes(values: Iterable[str]) -> str:
    """Site codes in order, each once, separated by spaces (as a CSV cell or a printed list)."""
    return " ".join(dict.fromkeys(values))
