"""Column mappings for bulk import: which column (or constant, or template) fills which register field.

A mapping is plain JSON, detected from the header names (English, Russian, Kazakh) and editable::

    {
      "target": "site",                      # or "sample"
      "source": "us_epa_npl",                # names the import for idempotence (default: the file name)
      "row_key": ["EPA ID"],                 # columns identifying a row across re-imports (default: its content)
      "columns": {"name_en": "Name", "lat": "Latitude", "name_ru": ["Название", "Name"]},
      "constants": {"activity": "other", "location_precision": "facility"},
      "templates": {"sources": "US EPA NPL, EPA ID {EPA ID}"},
      "values": {"stage": {"Final": "registered", "Deleted from NPL": "closed"}},
      "units_by_medium": {"groundwater": {"ppb": "ug/L"}},
      "site_ref": {"source": "us_epa_npl", "column": "site_epa_id"},
      "crs": "EPSG:32643",                   # of x/y columns (sites), when coordinates are projected
      "records_path": "rows", "sheet": null, "layer": null, "encoding": null, "delimiter": null,
      "on_duplicate": "warn",                # or "reject": a stored site close by or with a similar name
      "on_invalid_polygon": "reject",        # or "repair": mend a self-crossing outline with make_valid, warned
      "auto_detect": true                    # also map columns detected from headers for fields not set here
    }

A field takes the first non-empty of: its column(s) in order, its template, its constant. ``values`` then replaces
a value by exact text, else case-insensitively; built-in synonyms (Russian and Kazakh words for activities, stages,
media...) apply after it. Keys starting with ``_`` are comments. Samples find their site by ``site_ref``: the row
key of an earlier import (``source``) or a register code (no ``source``) held in ``column``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sites.errors import InvalidInput
from sites.records import FIELDS_BY_NAME
from sites.regions import REGIONS
from sites.samples import SAMPLE_FIELDS

TARGETS = ("site", "sample")
COORDINATE_FIELDS = ("x", "y")  # projected coordinates, turned into lat/lon with the mapping's crs
SITE_TARGET_FIELDS = tuple(FIELDS_BY_NAME) + COORDINATE_FIELDS
SAMPLE_TARGET_FIELDS = SAMPLE_FIELDS
KEYS = ("target", "source", "row_key", "columns", "constants", "templates", "values", "units_by_medium", "site_ref",
        "crs", "records_path", "sheet", "layer", "encoding", "delimiter", "on_duplicate", "on_invalid_polygon", "auto_detect")
ON_DUPLICATE = ("warn", "reject")
ON_INVALID_POLYGON = ("reject", "repair")

# Header names (normalised: lower case, ё as е, punctuation and underscores as single spaces) per field.
SITE_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "site code", "register code", "код", "код объекта", "нысан коды"),
    "name_en": ("name", "name en", "site name", "name english", "english name", "title"),
    "name_ru": ("name ru", "название", "наименование", "название объекта", "наименование объекта", "name russian"),
    "name_kk": ("name kk", "атауы", "атау", "нысан атауы", "объект атауы", "name kazakh"),
    "description": ("description", "описание", "сипаттама"),
    "lat": ("lat", "latitude", "lat wgs84", "latitude wgs84", "lat dd", "широта", "ендік"),
    "lon": ("lon", "lng", "long", "longitude", "lon wgs84", "longitude wgs84", "lon dd", "долгота", "бойлық"),
    "x": ("x", "easting", "east", "восток", "x m"),
    "y": ("y", "northing", "north", "север", "y m"),
    "location_precision": ("location precision", "precision", "точность", "точность координат", "дәлдік"),
    "location_note": ("location note", "location", "address", "местоположение", "адрес", "мекенжай", "орналасуы"),
    "region_kato": ("region", "region kato", "oblast", "область", "регион", "облыс"),
    "district_kato": ("district", "district kato", "район", "аудан"),
    "activity": ("activity", "activity type", "type of activity", "вид деятельности", "деятельность",
                 "тип объекта", "қызмет түрі"),
    "operating_from": ("operating from", "year from", "start year", "начало эксплуатации", "год начала"),
    "operating_to": ("operating to", "year to", "end year", "окончание эксплуатации", "год окончания"),
    "operator": ("operator", "former operator", "оператор", "предприятие", "кәсіпорын"),
    "owner_status": ("owner status", "owner", "собственник", "форма собственности", "меншік"),
    "land_use": ("land use", "землепользование", "жер пайдалану"),
    "area_ha": ("area ha", "area", "площадь", "площадь га"),
    "waste_volume_m3": ("waste volume m3", "waste volume", "объем отходов", "объем отходов м3"),
    "waste_mass_t": ("waste mass t", "waste mass", "масса отходов", "масса отходов т"),
    "containment": ("containment", "состояние", "состояние изоляции"),
    "accessibility": ("accessibility", "access", "доступ", "доступность"),
    "stage": ("stage", "workflow stage", "status", "стадия", "статус", "кезең"),
    "remediation_cost_kzt": ("remediation cost kzt", "remediation cost", "стоимость рекультивации"),
    "funding": ("funding", "финансирование"),
    "remediation_deadline": ("remediation deadline", "deadline", "срок рекультивации"),
    "confidential": ("confidential", "конфиденциально"),
    "sources": ("sources", "source", "reference", "источник", "источники", "дереккөз"),
}
SAMPLE_HEADERS: dict[str, tuple[str, ...]] = {
    "contaminant": ("contaminant", "chemical", "substance", "analyte", "parameter", "cas", "cas number", "cas no",
                    "cas rn", "загрязнитель", "загрязняющее вещество", "вещество", "показатель", "ластаушы зат"),
    "medium": ("medium", "media", "matrix", "sample medium", "среда", "ортасы", "орта"),
    "value": ("value", "result", "concentration", "значение", "концентрация", "результат", "мәні"),
    "unit": ("unit", "units", "unit of measure", "ед изм", "единица", "единицы", "единица измерения",
             "өлшем бірлігі"),
    "qualifier": ("qualifier", "qual", "flag", "признак", "знак"),
    "detection_limit": ("detection limit", "dl", "mdl", "lod", "reporting limit", "предел обнаружения"),
    "depth_m": ("depth", "depth m", "глубина", "глубина м", "тереңдік"),
    "sampled_on": ("date", "sample date", "sampled on", "дата", "дата отбора", "күні"),
    "sampled_year": ("year", "sample year", "год", "жыл"),
    "laboratory": ("laboratory", "lab", "лаборатория", "зертхана"),
    "source": ("source", "reference", "источник", "дереккөз"),
    "note": ("note", "notes", "comment", "примечание", "ескерту"),
}
SITE_REF_HEADERS = ("site", "site code", "register code", "код объекта", "объект", "нысан", "нысан коды")

# Words found in registers and lab sheets, mapped to the register's vocabulary (after the mapping's own values).
BUILTIN_VALUES: dict[str, dict[str, str]] = {
    "activity": {
        "горнодобывающая": "mining_smelting", "горнорудное": "mining_smelting", "металлургия": "mining_smelting",
        "химический завод": "chemical_plant", "химическое производство": "chemical_plant",
        "склад пестицидов": "pesticide_store", "склад ядохимикатов": "pesticide_store",
        "урановое": "uranium_radioactive", "радиоактивные отходы": "uranium_radioactive",
        "военный полигон": "military_test_site", "полигон": "military_test_site",
        "нефтегазовое": "oil_gas", "нефть и газ": "oil_gas", "свалка": "landfill_dump", "полигон тбо": "landfill_dump",
        "золоотвал": "energy_ash", "тэц": "energy_ash", "прочее": "other", "другое": "other", "басқа": "other",
    },
    "stage": {
        "подозреваемый": "suspected", "выявлен": "suspected", "зарегистрирован": "registered",
        "обследован": "investigated", "рекультивация запланирована": "remediation_planned",
        "рекультивируется": "under_remediation", "рекультивирован": "remediated_monitoring", "закрыт": "closed",
    },
    "location_precision": {"точно": "facility", "объект": "facility", "приблизительно": "approximate",
                           "населенный пункт": "settlement"},
    "medium": {
        "почва": "soil", "топырақ": "soil", "донные отложения": "sediment", "грунтовые воды": "groundwater",
        "подземные воды": "groundwater", "жерасты сулары": "groundwater", "поверхностные воды": "surface_water",
        "воздух": "air", "ауа": "air", "биота": "biota", "отходы": "waste", "қалдықтар": "waste",
        "surface water": "surface_water", "ground water": "groundwater",
    },
}


@dataclass
class Mapping:
    """How the columns of one kind of file become register records; see the module docstring for each key."""

    target: str = "site"
    source: str | None = None
    row_key: list[str] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    units_by_medium: dict[str, dict[str, str]] = field(default_factory=dict)
    site_ref: dict[str, str] | None = None
    crs: str | None = None
    records_path: str | None = None
    sheet: str | None = None
    layer: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    on_duplicate: str = "warn"
    # A self-crossing outline is refused unless the mapping says to repair it: a repaired polygon may not be the
    # area the surveyor meant, so the importer does not decide that alone.
    on_invalid_polygon: str = "reject"
    auto_detect: bool = True

    def fields(self) -> list[str]:
        """Every field the mapping fills, in the target's field order."""
        given = set(self.columns) | set(self.constants) | set(self.templates)
        return [name for name in target_fields(self.target) if name in given]

    def used_columns(self) -> set[str]:
        used = {c for names in self.columns.values() for c in names} | set(self.row_key)
        used |= {name for template in self.templates.values() for name in template_columns(template)}
        return used | ({self.site_ref["column"]} if self.site_ref else set())

    def to_json(self, columns: list[str] | None = None) -> str:
        """The mapping as JSON to edit and reuse; with the file's ``columns``, those left unmapped are listed."""
        data = {k: v for k, v in asdict(self).items() if v not in (None, [], {})}
        if columns is not None:
            data["_unmapped_columns"] = [c for c in columns if c not in self.used_columns()]
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def target_fields(target: str) -> tuple[str, ...]:
    return SITE_TARGET_FIELDS if target == "site" else SAMPLE_TARGET_FIELDS


def normalise_header(name: str) -> str:
    """Lower case, ё as е, runs of spaces, punctuation and underscores as one space: 'Вид_деятельности' matches."""
    text = str(name).lower().replace("ё", "е")
    return " ".join(re.sub(r"[\s_\-./,;:()\[\]°№#]+", " ", text).split())


# ---- detection -----------------------------------------------------------------------------------------------------
def detect_mapping(columns: list[str], target: str | None = None) -> Mapping:
    """Map the columns whose headers name a register field (in English, Russian or Kazakh).

    Parameters
    ----------
    columns : list of str
        The file's header names.
    target : {"site", "sample"}, optional
        What rows become; guessed as "sample" when a contaminant and a value column are found, else "site".

    Examples
    --------
    >>> detect_mapping(["Название", "Широта", "Долгота", "Вид деятельности"]).columns
    {'name_ru': ['Название'], 'lat': ['Широта'], 'lon': ['Долгота'], 'activity': ['Вид деятельности']}
    """
    by_header = {normalise_header(c): c for c in reversed(columns)}  # the first of equal headers wins
    samples = _matches(by_header, SAMPLE_HEADERS)
    if target is None:
        target = "sample" if {"contaminant", "value"} <= set(samples) else "site"
    _check_choice("target", target, TARGETS)
    found = samples if target == "sample" else _matches(by_header, SITE_HEADERS)
    mapping = Mapping(target=target, columns={name: [column] for name, column in found.items()})
    if target == "sample":
        ref = next((by_header[h] for h in SITE_REF_HEADERS if h in by_header), None)
        mapping.site_ref = {"column": ref} if ref else None
    return mapping


def _matches(by_header: dict[str, str], headers: dict[str, tuple[str, ...]]) -> dict[str, str]:
    found, taken = {}, set()
    for name, synonyms in headers.items():
        column = next((by_header[s] for s in synonyms if s in by_header and by_header[s] not in taken), None)
        if column is not None:
            found[name] = column
            taken.add(column)
    return found


# ---- loading and merging -------------------------------------------------------------------------------------------
def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping file (JSON); unknown keys and fields are refused naming what is accepted."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput("mapping", str(path), f"a readable JSON mapping file ({error})") from error
    if not isinstance(data, dict):
        raise InvalidInput("mapping", type(data).__name__, "a JSON object")
    return mapping_from_dict(data)


def mapping_from_dict(data: dict[str, Any]) -> Mapping:
    """Build and check a :class:`Mapping` from its JSON form."""
    data = {k: v for k, v in data.items() if not str(k).startswith("_")}
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise InvalidInput("mapping", unknown[0], "one of the mapping keys: " + ", ".join(KEYS))
    for key in ("columns", "constants", "templates", "values", "units_by_medium"):
        if not isinstance(data.get(key, {}), dict):
            raise InvalidInput(f"mapping {key}", data[key], "an object of field names")
    for key, table in {**data.get("values", {}), **data.get("units_by_medium", {})}.items():
        if not isinstance(table, dict):
            raise InvalidInput(f"mapping values.{key}", table, "an object mapping values found to values stored")
    _check_texts(data)
    _check_storable(data, "mapping")
    mapping = Mapping(**{k: v for k, v in data.items() if k not in ("columns", "row_key")})
    mapping.columns = {name: _column_list(name, value) for name, value in (data.get("columns") or {}).items()}
    mapping.row_key = _column_list("row_key", data.get("row_key") or [])
    check_mapping(mapping)
    return mapping


def _check_texts(data: dict[str, Any]) -> None:
    """Options read as text must be text (a number as a source or an encoding failed deep inside the import)."""
    for key in ("source", "crs", "records_path", "sheet", "layer", "encoding", "delimiter"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InvalidInput(f"mapping {key}", data[key], "text")
    if data.get("delimiter") and len(data["delimiter"]) != 1:  # empty, as null, means: detect it
        raise InvalidInput("mapping delimiter", data["delimiter"], "one character, such as , or ; or a tab")
    for name, template in (data.get("templates") or {}).items():
        if not isinstance(template, str):
            raise InvalidInput(f"mapping templates.{name}", template, "text with {Column} placeholders")
    site_ref = data.get("site_ref")
    if isinstance(site_ref, dict) and not all(isinstance(v, str) for v in site_ref.values()):
        raise InvalidInput("mapping site_ref", site_ref, '{"column": ...} with an optional "source", both text')


def _check_storable(value: Any, where: str) -> None:
    """Refuse what the import batch cannot store with the mapping: NaN or infinite numbers, NUL characters."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, where)
            _check_storable(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, where)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(where, value, "a finite number (JSON has no NaN or Infinity)")
    elif isinstance(value, str) and "\x00" in value:
        raise InvalidInput(where, value, "text without NUL characters")


def _column_list(name: str, value: Any) -> list[str]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise InvalidInput(f"mapping columns.{name}", value, "a column name or a list of column names")
    return names


def check_mapping(mapping: Mapping) -> None:
    """Refuse a mapping naming unknown fields or options."""
    _check_choice("target", mapping.target, TARGETS)
    _check_choice("on_duplicate", mapping.on_duplicate, ON_DUPLICATE)
    _check_choice("on_invalid_polygon", mapping.on_invalid_polygon, ON_INVALID_POLYGON)
    allowed = target_fields(mapping.target)
    for part in ("columns", "constants", "templates", "values"):
        for name in getattr(mapping, part):
            if name not in allowed:
                raise InvalidInput(f"mapping {part}", name, f"a {mapping.target} field: " + ", ".join(allowed))
    if mapping.site_ref is not None and not (isinstance(mapping.site_ref, dict) and mapping.site_ref.get("column")):
        raise InvalidInput("mapping site_ref", mapping.site_ref, '{"column": ...} with an optional "source"')


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidInput(f"mapping {name}", value, "one of " + ", ".join(choices))


def merge(detected: Mapping, given: Mapping | None) -> Mapping:
    """The mapping to use: ``given`` wins; detected columns fill the fields it leaves open (unless it says
    ``"auto_detect": false``) when both target the same kind of record."""
    if given is None:
        return detected
    if not given.auto_detect or detected.target != given.target:
        return given
    set_here = set(given.columns) | set(given.constants) | set(given.templates)
    taken = given.used_columns()
    extra = {f: cols for f, cols in detected.columns.items() if f not in set_here and not set(cols) & taken}
    merged = Mapping(**{**asdict(given), "columns": {**extra, **given.columns}})
    merged.site_ref = given.site_ref or detected.site_ref
    return merged


def check_columns(mapping: Mapping, columns: list[str], has_geometry: bool = False) -> None:
    """Refuse a mapping that names columns the file does not have, or cannot place its records."""
    if mapping.target == "sample" and mapping.site_ref is None:
        raise InvalidInput("mapping site_ref", None, 'how samples find their site: {"source": ..., "column": ...} '
                           "naming an earlier import and the column holding its row keys, or {\"column\": ...} "
                           "holding register codes")
    present = set(columns)
    for name in sorted(mapping.used_columns()):
        if name not in present:
            raise InvalidInput("mapping", name, "a column of the file: " + ", ".join(columns))
    if mapping.target == "site" and not has_geometry:
        fields = set(mapping.fields())
        if not ({"lat", "lon"} <= fields or {"x", "y"} <= fields):
            raise InvalidInput("mapping", sorted(fields & {"lat", "lon", "x", "y"}),
                               "columns for lat and lon (or x and y with a crs); the file has: " + ", ".join(columns))


# ---- applying ------------------------------------------------------------------------------------------------------
def template_columns(template: str) -> list[str]:
    return re.findall(r"\{([^{}]+)\}", template)


@dataclass(frozen=True)
class FieldRule:
    """How one field is filled, prepared once per import: 135,804 rows apply it without re-reading the mapping."""

    name: str
    columns: tuple[str, ...]
    template: str | None
    constant: str | None
    exact: dict[str, Any]
    folded: dict[str, Any]
    builtin: dict[str, str]


def field_rules(mapping: Mapping) -> list[FieldRule]:
    """The rules of every field the mapping fills."""
    rules = []
    for name in mapping.fields():
        table = {str(k): as_text(v) for k, v in mapping.values.get(name, {}).items()}
        rules.append(FieldRule(name, tuple(mapping.columns.get(name, ())), mapping.templates.get(name),
                               as_text(mapping.constants.get(name)), table,
                               {k.casefold(): v for k, v in table.items()}, BUILTIN_VALUES.get(name, {})))
    return rules


def resolve(mapping: Mapping, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The field values of one row and, per field, where each came from (a column name, template or constant).

    Values are text (stripped, blank as None) so the register's cleaners read them as typed. Many rows are faster
    with :func:`apply_rules` over :func:`field_rules` prepared once.
    """
    return apply_rules(field_rules(mapping), values)


def apply_rules(rules: list[FieldRule], values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """:func:`resolve` with the mapping's rules prepared."""
    data, origins = {}, {}
    for rule in rules:
        value, origins[rule.name] = _first_present(rule, values)
        data[rule.name] = translate(rule, value)
    return data, origins


def _first_present(rule: FieldRule, values: dict[str, Any]) -> tuple[Any, str]:
    for column in rule.columns:
        value = as_text(values.get(column))
        if value is not None:
            return value, column
    if rule.template is not None:
        value = fill_template(rule.template, values)
        if value is not None:
            return value, "(template)"
    if rule.constant is not None:
        return rule.constant, "(constant)"
    return None, rule.columns[0] if rule.columns else "(template)"


def as_text(value: Any) -> str | None:
    """A cell as the text a user would type: numbers without a spurious '.0', blanks as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = str(value).strip()
    return text or None


def fill_template(template: str, values: dict[str, Any]) -> str | None:
    """Fill ``{Column}`` placeholders; separators left by empty parts are dropped; None when all are empty.

    Examples
    --------
    >>> fill_template("{Address}, {City}, {State}", {"Address": "1 Main St", "City": "", "State": "NJ"})
    '1 Main St, NJ'
    """
    parts = _template_parts(template)  # literal text at even positions, column names at odd ones
    filled = [as_text(values.get(part)) if odd else part for odd, part in _alternating(parts)]
    if len(parts) > 1 and all(v is None for v in filled[1::2]):
        return None
    text = "".join(v or "" for v in filled)
    if None in filled:
        text = _EMPTY_SEPARATORS.sub("", text)
    return text.strip(" ,;") or None


_EMPTY_SEPARATORS = re.compile(r"\s*[,;]\s*(?=[,;]|$)")


@functools.lru_cache(maxsize=256)
def _template_parts(template: str) -> tuple[str, ...]:
    return tuple(re.split(r"\{([^{}]+)\}", template))


def _alternating(parts: tuple[str, ...]):
    return ((index % 2 == 1, part) for index, part in enumerate(parts))


def translate(rule: FieldRule, value: str | None) -> Any:
    """Apply the mapping's value table (exact, then case-insensitive), then the built-in synonyms."""
    if value is None:
        return None
    if rule.exact:
        if value in rule.exact:
            return rule.exact[value]
        if value.casefold() in rule.folded:
            return rule.folded[value.casefold()]
    if rule.name == "region_kato":
        return region_kato(value)
    return rule.builtin.get(normalise_header(value), value) if rule.builtin else value


def region_kato(value: str) -> str:
    """A region given by KATO, ISO code, letters or name (en/ru/kk, with or without 'область'/'облысы') as KATO;
    anything else is returned unchanged for the register to refuse."""
    text = normalise_header(value)
    text = re.sub(r"\s+(область|обл|облысы|region|oblast)$", "", text)
    for region in REGIONS:
        names = (region.kato, normalise_header(region.iso), region.abbr.lower(), normalise_header(region.name_en),
                 normalise_header(region.name_ru), normalise_header(region.name_kk))
        if text in names:
            return region.kato
    return value
