"""Kazakh, Russian and English words for every page, export and report, from one catalogue (data/i18n.csv).

The catalogue is a table translators can edit: one row per message, a column per language. A message may hold
named placeholders (``{count}``); every language must use the same ones, and tests/sites/test_i18n.py fails when a
message lacks a language or a placeholder differs, and when code asks for a key the catalogue does not have.
Names stored per language (a site's ``name_kk``, a contaminant's ``name_ru``) fall back to the other languages.
"""

from __future__ import annotations

import csv
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from sites.errors import InvalidInput

LANGUAGES = ("kk", "ru", "en")
DEFAULT = "en"
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
CATALOGUE = Path(__file__).resolve().parents[1] / "data" / "i18n.csv"
# When a name is missing in the chosen language: Kazakh and Russian readers both read Russian more often than
# English; English readers get the Latin-script name before either Cyrillic one.
FALLBACK = {"kk": ("kk", "ru", "en"), "ru": ("ru", "kk", "en"), "en": ("en", "ru", "kk")}


def parse_language(value: Any) -> str:
    """``kk``, ``ru`` or ``en`` (any case, surrounding spaces ignored); anything else is refused."""
    text = str(value or "").strip().lower()
    if text not in LANGUAGES:
        raise InvalidInput("language", value, "one of " + ", ".join(LANGUAGES))
    return text


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """key -> {language: text}, read once from data/i18n.csv."""
    with CATALOGUE.open(encoding="utf-8", newline="") as handle:
        return {row["key"]: {lang: row.get(lang) or "" for lang in LANGUAGES} for row in csv.DictReader(handle)}


def text(key: str, lang: str, **params: Any) -> str:
    """The message ``key`` in ``lang`` with its placeholders filled; an empty translation falls back to English."""
    entry = catalogue().get(key)
    if entry is None:
        raise KeyError(f"no message {key!r} in {CATALOGUE.name}: add a row with kk, ru and en")
    template = entry.get(lang) or entry[DEFAULT]
    return template.format(**params) if params else template


def translator(lang: str) -> Callable[..., str]:
    """``text`` with the language fixed: ``_ = translator("kk"); _("map.title")``."""
    lang = parse_language(lang)
    return lambda key, **params: text(key, lang, **params)


def localized(record: Mapping[str, Any], lang: str, field: str = "name") -> str:
    """``record[field_<lang>]``, else the same field in the next language of ``FALLBACK``, else ``record[field]``."""
    for candidate in FALLBACK.get(lang, FALLBACK[DEFAULT]):
        value = record.get(f"{field}_{candidate}")
        if value:
            return str(value)
    return str(record.get(field) or "")


def placeholders(template: str) -> set[str]:
    """Names of the ``{placeholders}`` in ``template``."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def problems() -> list[str]:
    """Every message that lacks a language or whose placeholders differ between languages."""
    found = []
    for key, entry in catalogue().items():
        for lang in LANGUAGES:
            if not entry[lang].strip():
                found.append(f"{key}: no {lang} text")
        names = {lang: placeholders(entry[lang]) for lang in LANGUAGES}
        if len({frozenset(n) for n in names.values()}) > 1:
            found.append(f"{key}: placeholders differ {names}")
    return found


def localize_site(row: dict[str, Any], lang: str, *, region: bool = True) -> dict[str, Any]:
    """``row`` with ``name`` in ``lang`` (falling back, see :func:`localized`) and, unless ``region`` is False,
    ``region`` named in ``lang``.

    The row may carry ``name_en``/``name_ru``/``name_kk`` (taken out here) and ``region_kato``.
    """
    from sites.regions import BY_KATO

    names = {key: row.pop(key, None) for key in ("name_en", "name_ru", "name_kk")}
    if any(names.values()):
        row["name"] = localized({**names, "name": row.get("name")}, lang)
    found = BY_KATO.get(row.get("region_kato") or "") if region else None
    if found is not None:
        row["region"] = getattr(found, f"name_{lang}", found.name_en)
    return row
