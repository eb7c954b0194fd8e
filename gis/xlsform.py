"""An XLSForm for ODK Collect / KoboToolbox generated from the register's schema, so field capture works offline.

The form's field names are the register's (``name_en``, ``activity``, ``containment`` ...) and its choice lists are
the controlled vocabularies and the contaminant catalogue, so a submission maps onto a site without a hand-made
mapping. ``gis.odk`` reads the exports back.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterable

from openpyxl import Workbook

from gis.reference import DATA_DIR, read_csv
from sites import vocab
from sites.units import ALIASES, UNITS

FORM_ID = "kz_legacy_sites"
LANGUAGES = ("English (en)", "Russian (ru)")
SURVEY_COLUMNS = ("type", "name", "label::English (en)", "label::Russian (ru)", "hint::English (en)", "required",
                  "constraint", "constraint_message::English (en)", "appearance", "hint::Russian (ru)",
                  "constraint_message::Russian (ru)")
# Photos are kept at full size: ODK's max-pixels rescaling is not relied on to keep the EXIF geotag.
RUSSIAN = {"location": ("Встаньте в центре объекта; дождитесь точности лучше 10 м.", ""),
           "area_ha": ("", "Площадь не может быть отрицательной"),
           "inspected_on": ("", "Дата не может быть в будущем"), "result": ("0,35 или <0.05 или н/о", "")}

# (type, name, English label, Russian label, English hint, required, constraint, constraint message, appearance)
QUESTIONS: tuple[tuple[str, ...], ...] = (
    ("start", "start", "", "", "", "", "", "", ""),
    ("end", "end", "", "", "", "", "", "", ""),
    ("deviceid", "deviceid", "", "", "", "", "", "", ""),
    ("text", "name_en", "Site name (English)", "Название объекта (англ.)", "", "", "", "", ""),
    ("text", "name_ru", "Site name (Russian)", "Название объекта (рус.)", "", "yes", "", "", ""),
    ("select_one activity", "activity", "Former activity", "Прежняя деятельность", "", "yes", "", "", ""),
    ("geopoint", "location", "GPS point of the site", "GPS-точка объекта",
     "Stand at the centre of the site; wait for accuracy under 10 m.", "yes", ". != ''", "", ""),
    ("select_one location_precision", "location_precision", "How exact is the point?", "Точность точки",
     "", "yes", "", "", ""),
    ("geoshape", "footprint", "Walk the boundary (optional)", "Обойдите границу (необязательно)", "", "", "", "", ""),
    ("select_one containment", "containment", "Containment seen", "Состояние изоляции", "", "yes", "", "", ""),
    ("select_one accessibility", "accessibility", "Access", "Доступ", "", "", "", "", ""),
    ("decimal", "area_ha", "Area, ha", "Площадь, га", "", "", ". >= 0", "Area cannot be negative", ""),
    ("text", "description", "What you see", "Описание", "", "", "", "", "multiline"),
    ("date", "inspected_on", "Date of the visit", "Дата обследования", "", "yes",
     ". <= today()", "The date cannot be in the future", ""),
    ("begin_repeat", "contaminant", "Contaminant present or suspected", "Загрязнитель", "", "", "", "", ""),
    ("select_one contaminant_code", "contaminant_code", "Contaminant", "Загрязнитель", "", "yes", "", "",
     "autocomplete"),
    ("select_one medium", "contaminant_medium", "Medium", "Среда", "", "yes", "", "", ""),
    ("select_one status", "status", "Status", "Статус", "", "yes", "", "", ""),
    ("end_repeat", "contaminant", "", "", "", "", "", "", ""),
    ("begin_repeat", "sample", "Sample result", "Результат пробы", "", "", "", "", ""),
    ("select_one contaminant_code", "sample_contaminant", "Contaminant", "Загрязнитель", "", "yes", "", "",
     "autocomplete"),
    ("select_one medium", "sample_medium", "Medium", "Среда", "", "yes", "", "", ""),
    ("text", "result", "Result as the lab wrote it", "Результат как в протоколе",
     "0,35 or <0.05 or ND", "yes", "", "", ""),
    ("select_one unit", "unit", "Unit", "Единица", "", "yes", "", "", ""),
    ("decimal", "detection_limit", "Detection limit (same unit)", "Предел обнаружения", "", "", ". > 0", "", ""),
    ("decimal", "depth_m", "Depth, m", "Глубина, м", "", "", ". >= 0", "", ""),
    ("date", "sampled_on", "Sampled on", "Дата отбора", "", "", ". <= today()", "", ""),
    ("text", "laboratory", "Laboratory", "Лаборатория", "", "", "", "", ""),
    ("end_repeat", "sample", "", "", "", "", "", "", ""),
    ("begin_repeat", "photo", "Photo", "Фото", "", "", "", "", ""),
    ("image", "photo_file", "Take a photo", "Сделайте фото", "", "yes", "", "", ""),
    ("text", "caption", "Caption", "Подпись", "", "", "", "", ""),
    ("end_repeat", "photo", "", "", "", "", "", "", ""),
    ("text", "findings", "Findings", "Выводы", "", "", "", "", "multiline"),
)


def choice_lists(data_dir: Path = DATA_DIR) -> dict[str, list[tuple[str, str, str]]]:
    """Every choice list of the form: name -> [(value, English label, Russian label)]."""
    plain = {name: [(v, v.replace("_", " "), v.replace("_", " ")) for v in values] for name, values in (
        ("activity", vocab.ACTIVITY), ("location_precision", vocab.LOCATION_PRECISION),
        ("containment", vocab.CONTAINMENT), ("accessibility", vocab.ACCESSIBILITY), ("medium", vocab.MEDIUM),
        ("status", vocab.CONTAMINANT_STATUS))}
    plain["contaminant_code"] = [(r["code"], r["name_en"], r["name_ru"]) for r in read_csv(data_dir / "contaminants.csv")]
    # ODK choice names must be XML-safe, so units are named by slug; the label is the unit the lab wrote.
    plain["unit"] = [(unit_slug(u), u, _russian_unit(u)) for u in UNITS]
    return plain


def unit_slug(unit: str) -> str:
    """``mg/kg`` -> ``mg_per_kg``; ``%`` -> ``percent`` (choice names allow letters, digits, ``_``, ``-`` and ``.``)."""
    return unit.replace("/", "_per_").replace("%", "percent")


def unit_of_slug(slug: str) -> str:
    """The register's unit behind a choice name of the form."""
    for unit in UNITS:
        if unit_slug(unit) == slug:
            return unit
    return slug  # not a form choice: normalisation refuses it with the list of units


def _russian_unit(unit: str) -> str:
    return next((alias for alias, name in ALIASES.items() if name == unit and not alias.isascii()), unit)


def write_xlsform(path: Path, data_dir: Path = DATA_DIR) -> dict[str, Any]:
    """Write the form to ``path`` (.xlsx); return its id, version and question count."""
    version = form_version(data_dir)
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    _rows(survey, SURVEY_COLUMNS, (q + RUSSIAN.get(q[1], ("", "")) for q in QUESTIONS))
    choices = book.create_sheet("choices")
    lists = choice_lists(data_dir)
    _rows(choices, ("list_name", "name", "label::English (en)", "label::Russian (ru)"),
          ((name, *choice) for name, entries in lists.items() for choice in entries))
    settings = book.create_sheet("settings")
    _rows(settings, ("form_title", "form_id", "version", "default_language"),
          [("Kazakhstan legacy pollution site", FORM_ID, version, LANGUAGES[0])])
    book.save(path)
    return {"form_id": FORM_ID, "version": version, "questions": len(QUESTIONS), "choice_lists": len(lists)}


def form_version(data_dir: Path = DATA_DIR) -> str:
    """Changes whenever the questions or the choice lists change, so old and new forms are told apart."""
    text = repr((QUESTIONS, choice_lists(data_dir)))
    return "v" + hashlib.sha256(text.encode()).hexdigest()[:10]


def _rows(sheet, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
