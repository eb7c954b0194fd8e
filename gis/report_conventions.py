"""Convention reporting (`sites report conventions`): per region, the sites, quantities and workflow status under
the Minamata (Article 12, mercury), Stockholm (POPs: PCBs, obsolete pesticides, dioxins), Basel (hazardous-waste
constituents) and Rotterdam (Annex III) conventions, with the sites behind every number.

A site falls under a convention when any of its contaminants does, by the catalogue's marks (data/contaminants.csv,
the rule the ranking filters use: ``gis.queries``). Quantities are what the register records: the site's waste
mass and area, and the tonnes recorded for its contaminants under that convention; a site without a recorded value
adds nothing to a sum and is not listed behind it.

The CSV is one long table: one row per number (convention, region, measure, value) with the codes of the sites
behind it in the same row. One file keeps every number beside its own list, so nothing has to be joined back
together (two CSVs in a zip would need a key between them, and a spreadsheet opens neither a zip nor the join);
it filters and pivots as it is, and a check that a count equals its list is a check of one row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak
from sqlalchemy import Engine, func, select

from gis import tables as t
from gis.queries import CONVENTIONS, _convention_rules
from gis.report_pdf import Sheet, gap, heading, height_of, paged_table, para, render, table, table_room, write
from gis.reports import Written, current_method, output_path, require_restricted
from sites import i18n, vocab
from sites.errors import InvalidInput
from sites.permissions import Actor
from sites.regions import BY_KATO, REGIONS
from sites.report_format import codes as joined, csv_cell, number, printable, significant

ORDER = ("Minamata", "Stockholm", "Basel", "Rotterdam")
FORMATS = ("csv", "pdf")
STOCKHOLM_GROUPS = {"sites_pcb": "pcb", "sites_pesticide": "pop_pesticide", "sites_dioxin": "dioxin_furan"}
QUANTITIES = {"waste_mass_t": "t", "area_ha": "ha", "contaminant_t": "t"}
CSV_COLUMNS = ("convention", "convention_name", "scope", "region_kato", "region", "measure", "measure_name", "unit",
               "value", "site_count", "site_codes", "made_on", "method", "sources")
REGION_ORDER = {r.kato: i for i, r in enumerate(REGIONS)}


@dataclass(frozen=True)
class ConventionSite:
    """A live site under one convention, with what the register records of it."""

    convention: str
    code: str
    name: str
    region_kato: str
    stage: str
    waste_mass_t: float | None
    area_ha: float | None
    contaminant_t: float | None  # tonnes recorded for its contaminants under this convention
    contaminants: tuple[str, ...]  # names (in the report's language) of its contaminants under this convention
    groups: frozenset[str]


@dataclass(frozen=True)
class Number:
    """One reported number and the codes of the sites behind it."""

    convention: str
    scope: str  # "country" or "region"
    region_kato: str  # "" for the country, and for sites whose region is not assigned
    measure: str  # "sites", "sites_pcb", ..., "waste_mass_t", "area_ha", "contaminant_t", "stage.<stage>"
    unit: str
    value: float
    codes: tuple[str, ...]


def conventions(engine: Engine, path: str | Path, *, fmt: str | None = None, lang: str = "en",
                on: dt.date | None = None, actor: Actor | None = None) -> Written:
    """Write the convention summary to ``path`` as CSV or PDF (``fmt``, else from the file's ending).

    Raises
    ------
    InvalidInput
        For a format other than csv or pdf (or none given with an output ending in neither), a language other
        than kk, ru or en, or an output path that is a folder or not in an existing folder; nothing is written.
    """
    require_restricted(actor)
    lang, path, on = i18n.parse_language(lang), output_path(path), on or dt.date.today()
    fmt = parse_format(fmt, path)
    sites = convention_sites(engine, lang)
    numbers = summarise(sites)
    method = current_method(engine, lang)
    lines = sources(lang)
    if fmt == "csv":
        write(path, to_csv(numbers, lang, on, method, lines).encode("utf-8-sig"))
        return Written(path, 0, lang, on, method, tuple(lines))
    sheet = _sheet(lang, on, method)
    data, pages = render(sheet, story(sheet, sites, numbers, lang, on, method, lines))
    write(path, data)
    return Written(path, pages, lang, on, method, tuple(lines))


def parse_format(fmt: str | None, path: Path) -> str:
    """``csv`` or ``pdf``: as given, else from the output's ending; refused otherwise, naming the choices."""
    if fmt is None:
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise InvalidInput("format", None, "csv or pdf (--format, or an output file ending .csv or .pdf)")
    text = str(fmt).strip().lower()
    if text not in FORMATS:
        raise InvalidInput("format", fmt, "one of " + ", ".join(FORMATS))
    return text


# ---- reading and counting -----------------------------------------------------------------------

def convention_sites(engine: Engine, lang: str) -> dict[str, list[ConventionSite]]:
    """Per convention (in ``ORDER``), the live sites under it, by region and code."""
    rules = dict(zip(CONVENTIONS, _convention_rules()))
    s, sc, c = t.site, t.site_contaminant, t.contaminant
    order = dict.fromkeys((lang, "ru", "kk", "en"))
    found: dict[str, list[ConventionSite]] = {}
    with engine.connect() as conn:
        for name in ORDER:
            query = (select(s.c.code, func.min(func.coalesce(*(s.c[f"name_{k}"] for k in order))).label("name"),
                            s.c.region_kato, s.c.stage, s.c.waste_mass_t, s.c.area_ha,
                            func.sum(sc.c.quantity_t).label("contaminant_t"),
                            func.array_agg(func.distinct(func.coalesce(*(c.c[f"name_{k}"] for k in order))))
                            .label("contaminants"),
                            func.array_agg(func.distinct(c.c.grp)).label("groups"))
                     .select_from(s.join(sc, sc.c.site_id == s.c.id).join(c, c.c.code == sc.c.contaminant))
                     .where(~s.c.archived, rules[name]).group_by(s.c.id).order_by(s.c.code))
            rows = [ConventionSite(name, r.code, r.name, r.region_kato or "", r.stage, r.waste_mass_t, r.area_ha,
                                   r.contaminant_t, tuple(sorted(r.contaminants)), frozenset(r.groups))
                    for r in conn.execute(query)]
            found[name] = sorted(rows, key=lambda x: (REGION_ORDER.get(x.region_kato, len(REGION_ORDER)), x.code))
    return found


def summarise(sites: dict[str, list[ConventionSite]]) -> list[Number]:
    """Every number of the summary: per convention, the country and then each region holding its sites."""
    numbers = []
    for name in ORDER:
        chosen = sites.get(name, [])
        numbers += _numbers(name, "country", "", chosen)
        for kato in dict.fromkeys(x.region_kato for x in chosen):
            numbers += _numbers(name, "region", kato, [x for x in chosen if x.region_kato == kato])
    return numbers


def _numbers(convention: str, scope: str, kato: str, sites: list[ConventionSite]) -> list[Number]:
    made = [Number(convention, scope, kato, "sites", "sites", len(sites), tuple(x.code for x in sites))]
    if convention == "Stockholm":
        for measure, group in STOCKHOLM_GROUPS.items():
            behind = tuple(x.code for x in sites if group in x.groups)
            made.append(Number(convention, scope, kato, measure, "sites", len(behind), behind))
    for measure, unit in QUANTITIES.items():
        recorded = [x for x in sites if getattr(x, measure) is not None]
        total = round(sum(getattr(x, measure) for x in recorded), 6)
        made.append(Number(convention, scope, kato, measure, unit, total, tuple(x.code for x in recorded)))
    for stage in vocab.STAGE:
        behind = tuple(x.code for x in sites if x.stage == stage)
        made.append(Number(convention, scope, kato, f"stage.{stage}", "sites", len(behind), behind))
    return made


# ---- words -------------------------------------------------------------------------------------

def _region(kato: str, scope: str, lang: str) -> str:
    if scope == "country":
        return i18n.text("report.conventions.country", lang)
    region = BY_KATO.get(kato)
    return getattr(region, f"name_{lang}") if region else i18n.text("report.conventions.no_region", lang)


def _measure(measure: str, lang: str) -> str:
    if measure.startswith("stage."):
        return i18n.text("report.measure.stage", lang, stage=i18n.text(measure, lang))
    return i18n.text(f"report.measure.{measure}", lang)


def sources(lang: str) -> list[str]:
    _ = i18n.translator(lang)
    return [_("map.credit.sites"), _("report.sources.catalogue"), _("report.sources.conventions")]


# ---- CSV -----------------------------------------------------------------------------------------

def to_csv(numbers: Iterable[Number], lang: str, on: dt.date, method: str, lines: list[str]) -> str:
    """The long table: one row per number with the sites behind it; the date, method and sources on every row,
    so that any extract of it still says where it came from."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for n in numbers:
        value = int(n.value) if n.unit == "sites" else n.value
        row = (n.convention, i18n.text(f"report.convention.{n.convention}", lang), n.scope, n.region_kato,
               _region(n.region_kato, n.scope, lang), n.measure, _measure(n.measure, lang), n.unit, value,
               len(n.codes), joined(n.codes), on.isoformat(), method, " | ".join(lines))
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


# ---- PDF -----------------------------------------------------------------------------------------

def _sheet(lang: str, on: dt.date, method: str) -> Sheet:
    _ = i18n.translator(lang)
    return Sheet(title=_("report.conventions.title"), header_right=_("report.conventions.country"),
                 footer=_("export.made", date=on.isoformat(), method=method), page_word=_("report.page"),
                 subject=_("report.conventions.title"), keywords=method, wide=True)


def story(sheet: Sheet, sites: dict[str, list[ConventionSite]], numbers: list[Number], lang: str, on: dt.date,
          method: str, lines: list[str]) -> list[Flowable]:
    """The introduction, then each convention from a new page: its summary by region and the sites behind it."""
    _ = i18n.translator(lang)
    intro: list[Flowable] = [para(_("report.conventions.title"), "title"),
                             para(_("report.conventions.basis", date=on.isoformat(), method=method), "subtitle"),
                             para(_("report.conventions.rule"), "small")]
    parts = list(intro)
    for position, name in enumerate(ORDER):
        chosen = sites.get(name, [])
        head = _convention_head(name, chosen, [n for n in numbers if n.convention == name], lang)
        before = height_of((intro if position == 0 else []) + head, sheet.frame_width)
        parts += ([PageBreak()] if position else []) + head
        if chosen:
            parts += _site_tables(chosen, lang, before, table_room(sheet))
    parts += [gap(2), heading(_("report.section.sources"))]
    return parts + [para(line, "small") for line in lines]


def _convention_head(name: str, sites: list[ConventionSite], numbers: list[Number], lang: str) -> list[Flowable]:
    _ = i18n.translator(lang)
    title = heading(_(f"report.convention.{name}"))
    if not sites:
        return [title, para(_("report.conventions.none"), "small")]
    return [title, _summary(name, numbers, lang), gap(1.5),
            para(_("report.conventions.behind", count=len(sites)), "small")]


def _summary(name: str, numbers: list[Number], lang: str):
    """Regions (then the country) by measure; a sum shows how many sites recorded a value: 62.4 (2)."""
    _ = i18n.translator(lang)
    groups = list(STOCKHOLM_GROUPS) if name == "Stockholm" else []
    scopes = list(dict.fromkeys((n.scope, n.region_kato) for n in numbers))
    scopes = scopes[1:] + scopes[:1]  # the regions, then the country's total
    rows = []
    for scope, kato in scopes:
        mine = {n.measure: n for n in numbers if (n.scope, n.region_kato) == (scope, kato)}
        stages = ", ".join(f"{_(m)} {int(n.value)}" for m, n in mine.items() if m.startswith("stage.") and n.value)
        rows.append([_region(kato, scope, lang), number(mine["sites"].value, lang),
                     *(number(mine[g].value, lang) for g in groups),
                     *(_sum(mine[q], lang) for q in QUANTITIES), stages])
    header = [_("report.col.region"), _measure("sites", lang), *(_measure(g, lang) for g in groups),
              *(_measure(q, lang) for q in QUANTITIES), _("report.col.stages")]
    widths = [44, 20, *([20] * len(groups)), 30, 30, 30]
    widths.append(269 - sum(widths))
    bold = [("BACKGROUND", (0, len(rows)), (-1, len(rows)), "#e6e9ee")]
    return table(header, rows, [w * mm for w in widths], right=set(range(1, 2 + len(groups) + 3)), commands=bold)


def _sum(n: Number, lang: str) -> str:
    return f"{significant(n.value, lang)} ({len(n.codes)})" if n.codes else "—"


def _site_tables(sites: list[ConventionSite], lang: str, before: float, room: float) -> list[Flowable]:
    """Every site under the convention, one table per page: the list behind the summary's numbers."""
    _ = i18n.translator(lang)
    rows = [[x.code, printable(x.name, 140), _region(x.region_kato, "region", lang), _(f"stage.{x.stage}"),
             significant(x.waste_mass_t, lang), significant(x.area_ha, lang), significant(x.contaminant_t, lang),
             ", ".join(printable(name, 60) for name in x.contaminants)] for x in sites]
    header = [_("report.col.code"), _("report.col.name"), _("report.col.region"), _("report.col.stage"),
              _measure("waste_mass_t", lang), _measure("area_ha", lang), _measure("contaminant_t", lang),
              _("report.col.contaminants")]
    widths = (22, 80, 30, 28, 22, 20, 24, 43)
    return paged_table(header, rows, [w * mm for w in widths], before=before, room=room, right={4, 5, 6},
                       plain={0, 4, 5, 6})
