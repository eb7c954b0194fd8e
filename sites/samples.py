"""Validation of sample results and reported levels, with units normalised per medium."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

from sites import vocab
from sites.errors import InvalidInput
from sites.records import clean_date, number_field, text_field
from sites.units import normalise

_NON_NEGATIVE = number_field(0.0)

SAMPLE_FIELDS = (
    "contaminant", "medium", "value", "unit", "qualifier", "detection_limit",
    "depth_m", "sampled_on", "sampled_year", "laboratory", "source", "note",
)


# How laboratories write "not detected": English, Russian (не обнаружено) and Kazakh (анықталмады) forms.
NOT_DETECTED = frozenset({"nd", "n.d.", "n.d", "n/d", "not detected", "bdl", "<dl", "< dl", "<lod", "< lod", "н/о",
                          "н.о.", "н.о", "н/о.", "не обн.", "не обн", "не обнаружено", "не обнаружен", "ниже по",
                          "<по", "< по", "анықталмады"})
_REPORTED = re.compile(r"^(?P<q><=?|>=?|≤|≥)?\s*(?P<v>[0-9]+(?:[.,][0-9]+)?(?:[eE][-+]?[0-9]+)?)$")
_QUALIFIERS = {None: "=", "<": "<", "<=": "<", "≤": "<", ">": ">", ">=": ">", "≥": ">"}


def parse_reported(text: Any, detection_limit: float | None = None) -> tuple[str, float, float | None]:
    """Read a result as a laboratory writes it: ``0,35``, ``<0.05``, ``> 100``, ``н/о``, ``ND``.

    Returns (qualifier, value, detection limit). A result below the detection limit is stored as ``<`` with the
    limit as its value (docs/scoring.md says how scoring treats it); "not detected" without a limit is refused,
    because the value it stands for is unknown.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return "=", float(text), detection_limit
    raw = str(text or "").strip()
    if raw.lower() in NOT_DETECTED:
        if detection_limit is None:
            raise InvalidInput("value", raw, "a detection limit alongside a 'not detected' result")
        return "<", float(detection_limit), float(detection_limit)
    match = _REPORTED.match(raw.replace("\u00a0", "").replace(" ", ""))
    if not match:
        raise InvalidInput("value", raw, "a number, optionally with < or > (0.35, 0,35, <0.05) or ND / н/о")
    qualifier, value = _QUALIFIERS[match["q"]], float(match["v"].replace(",", "."))
    if qualifier == "<" and detection_limit is None:
        detection_limit = value  # "<0.05" states the limit it was below
    return qualifier, value, detection_limit


LAB_TEXT, SOURCE_TEXT, NOTE_TEXT = text_field(300), text_field(4000), text_field(4000)


def _as_text(value: Any) -> str | None:
    """A lab's name or a note as text (a spreadsheet may give a number); empty means none."""
    return None if value is None or value == "" else str(value)


def validate_sample(data: Mapping[str, Any]) -> dict[str, Any]:
    """Clean one sample result; return stored values including the canonical value and unit."""
    unknown = sorted(set(data) - set(SAMPLE_FIELDS))
    if unknown:
        raise InvalidInput(unknown[0], data[unknown[0]], "one of the sample fields: " + ", ".join(SAMPLE_FIELDS))
    medium = data.get("medium")
    if medium not in vocab.MEDIUM:
        raise InvalidInput("medium", medium, "one of " + ", ".join(vocab.MEDIUM))
    if not data.get("contaminant"):
        raise InvalidInput("contaminant", data.get("contaminant"), "a contaminant code from the catalogue")
    limit = _non_negative("detection_limit", data.get("detection_limit"))
    qualifier, value = data.get("qualifier") or "=", data.get("value")
    if isinstance(value, str) and value.strip():
        parsed, value, limit = parse_reported(value, limit)
        qualifier = parsed if qualifier == "=" else qualifier
    if qualifier not in vocab.QUALIFIER:
        raise InvalidInput("qualifier", qualifier, "one of = < >")
    value = _non_negative("value", value, required=True)
    canonical, canonical_unit = normalise(value, data.get("unit") or "", medium)
    return {
        "contaminant": data["contaminant"],
        "medium": medium,
        "value": value,
        "unit": data["unit"],
        "qualifier": qualifier,
        "detection_limit": limit,
        "depth_m": _non_negative("depth_m", data.get("depth_m")),
        "sampled_on": _date(data.get("sampled_on")),
        "sampled_year": _year(data.get("sampled_year")),
        "laboratory": LAB_TEXT("laboratory", _as_text(data.get("laboratory"))),
        "source": SOURCE_TEXT("source", _as_text(data.get("source"))),
        "note": NOTE_TEXT("note", _as_text(data.get("note"))),
        "value_canonical": canonical,
        "unit_canonical": canonical_unit,
    }


CONTAMINANT_FIELDS = ("contaminant", "medium", "status", "quantity_t", "evidence", "source")


def validate_site_contaminant(data: Mapping[str, Any]) -> dict[str, Any]:
    """Clean a record that a site holds (or is suspected to hold) a contaminant in a medium."""
    unknown = sorted(set(data) - set(CONTAMINANT_FIELDS))
    if unknown:
        raise InvalidInput(unknown[0], data[unknown[0]], "one of " + ", ".join(CONTAMINANT_FIELDS))
    if not data.get("contaminant"):
        raise InvalidInput("contaminant", data.get("contaminant"), "a contaminant code from the catalogue")
    if data.get("medium") not in vocab.MEDIUM:
        raise InvalidInput("medium", data.get("medium"), "one of " + ", ".join(vocab.MEDIUM))
    status = data.get("status") or "suspected"
    if status not in vocab.CONTAMINANT_STATUS:
        raise InvalidInput("status", status, "one of " + ", ".join(vocab.CONTAMINANT_STATUS))
    return {
        "contaminant": data["contaminant"], "medium": data["medium"], "status": status,
        "quantity_t": _non_negative("quantity_t", data.get("quantity_t")),
        "evidence": data.get("evidence") or None, "source": data.get("source") or None,
    }


def _non_negative(field: str, value: Any, required: bool = False) -> float | None:
    number = _NON_NEGATIVE(field, value)
    if number is None and required:
        raise InvalidInput(field, value, "a number >= 0")
    return number


def _date(value: Any) -> dt.date | None:
    return clean_date("sampled_on", value)


def _year(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        year = int(str(value))
    except ValueError:
        raise InvalidInput("sampled_year", value, "a year such as 2004") from None
    if not 1900 <= year <= dt.date.today().year:
        raise InvalidInput("sampled_year", value, f"a year between 1900 and {dt.date.today().year}")
    return year
