"""Validation of sample results and reported levels, with units normalised per medium."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from sites import vocab
from sites.errors import InvalidInput
from sites.records import clean_date, number_field
from sites.units import normalise

_NON_NEGATIVE = number_field(0.0)

SAMPLE_FIELDS = (
    "contaminant", "medium", "value", "unit", "qualifier", "detection_limit",
    "depth_m", "sampled_on", "sampled_year", "laboratory", "source", "note",
)


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
    qualifier = data.get("qualifier") or "="
    if qualifier not in vocab.QUALIFIER:
        raise InvalidInput("qualifier", qualifier, "one of = < >")
    value = _non_negative("value", data.get("value"), required=True)
    canonical, canonical_unit = normalise(value, data.get("unit") or "", medium)
    limit = _non_negative("detection_limit", data.get("detection_limit"))
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
        "laboratory": data.get("laboratory") or None,
        "source": data.get("source") or None,
        "note": data.get("note") or None,
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
