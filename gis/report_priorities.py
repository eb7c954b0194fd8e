"""The priority list (`sites report priorities`): the ranking of the country or a region as a paginated A4 PDF.

Sites come in exactly the order of ``gis.scoring.ranking`` (and so of `sites rank`), each with its class, score,
confidence, region, stage, main contaminants and the people within the scoring radius where the stored explanation
counts them. Every page repeats the table's header row and names the method version, guideline set and date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable
from sqlalchemy import Engine, func, select

from gis import tables as t
from gis.maps import CLASS_COLOURS
from gis.printmap import find_region
from gis.report_pdf import Sheet, gap, heading, height_of, paged_table, para, render, table_room, write
from gis.reports import Written, guideline_set, layer_sources, output_path, require_restricted
from gis.scoring import ranking
from sites import i18n
from sites.errors import InvalidInput, SitesError
from sites.permissions import Actor
from sites.regions import BY_KATO, Region
from sites.report_format import moment, number, people_within, printable, share

MAIN_CONTAMINANTS = 3
WIDTHS_MM = (9, 22, 66, 30, 12, 14, 17, 28, 45, 26)  # 269 mm: A4 landscape within the margins
CLASSES = ("1", "2", "3", "N", "I")
DARK = {"1", "I"}  # class colours dark enough for white type


def priorities(engine: Engine, path: str | Path, *, region: str | None = None, top: Any = None, lang: str = "en",
               on: dt.date | None = None, actor: Actor | None = None) -> Written:
    """Write the priority list of the country (or ``region``), the ``top`` highest only when given, to ``path``.

    Raises
    ------
    InvalidInput
        For an unknown region, a ``top`` that is not a whole number of 1 or more, a language other than kk, ru or
        en, or an output path that is a folder or not in an existing folder; nothing is written then.
    SitesError
        When no live site in the chosen scope is scored yet.
    """
    require_restricted(actor)
    lang, path, on = i18n.parse_language(lang), output_path(path), on or dt.date.today()
    top = parse_top(top)
    chosen = find_region(region) if region not in (None, "") else None
    rows = ranking(engine, top=top, region=chosen.kato if chosen else None)
    if not rows:
        raise SitesError(f"no scored sites in {_scope(chosen, 'en')}; run `sites score` first")
    details = _details(engine, [r["code"] for r in rows], lang)
    total = _scored(engine, chosen)
    method = ", ".join(sorted({f"{r['method']} {r['method_version']}" for r in rows}))
    guidelines = guideline_set(engine, rows[0]["guideline_set"] or "")
    lines = sources(engine, guidelines, method, lang)
    sheet = Sheet(title=i18n.text("report.priorities.title", lang), header_right=_scope(chosen, lang),
                  footer=i18n.text("export.made", lang, date=on.isoformat(), method=method),
                  page_word=i18n.text("report.page", lang), subject=_scope(chosen, lang), keywords=method, wide=True)
    data, pages = render(sheet, story(sheet, rows, details, chosen, total, guidelines, method, lines, lang, on))
    write(path, data)
    return Written(path, pages, lang, on, method, tuple(lines))


def parse_top(value: Any) -> int | None:
    """``--top``: None for every site, else a whole number of 1 or more (refused otherwise, naming both)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput("top", value, "a whole number of sites, 1 or more")
    return int(text)


def _scope(region: Region | None, lang: str) -> str:
    if region is None:
        return i18n.text("report.scope.country", lang)
    return i18n.text("report.scope.region", lang, name=getattr(region, f"name_{lang}"), kato=region.kato)


def _scored(engine: Engine, region: Region | None) -> int:
    """Live sites with at least one score, in the region when one is chosen."""
    s = t.site
    query = (select(func.count()).select_from(s)
             .where(~s.c.archived, select(t.score.c.id).where(t.score.c.site_id == s.c.id).exists()))
    if region is not None:
        query = query.where(s.c.region_kato == region.kato)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar())


def _details(engine: Engine, codes: list[str], lang: str) -> dict[str, dict[str, Any]]:
    """Per site: its name in ``lang``, stage and main contaminants (confirmed first, then by recorded tonnes)."""
    s, sc, c = t.site, t.site_contaminant, t.contaminant
    order = dict.fromkeys((lang, "ru", "kk", "en"))
    with engine.connect() as conn:
        sites = conn.execute(select(s.c.id, s.c.code, s.c.stage, func.coalesce(*(s.c[f"name_{k}"] for k in order))
                                    .label("name")).where(s.c.code.in_(codes))).mappings().all()
        found = conn.execute(
            select(sc.c.site_id, c.c.name_en, c.c.name_ru, c.c.name_kk).join(c, c.c.code == sc.c.contaminant)
            .where(sc.c.site_id.in_([r["id"] for r in sites]))
            .order_by(sc.c.site_id, sc.c.status, sc.c.quantity_t.desc().nulls_last(), c.c.name_en)).mappings().all()
    names: dict[int, list[str]] = {}
    for row in found:
        names.setdefault(row["site_id"], [])
        name = i18n.localized(row, lang)
        if name not in names[row["site_id"]]:
            names[row["site_id"]].append(name)
    return {r["code"]: {"name": r["name"], "stage": r["stage"], "contaminants": names.get(r["id"], [])}
            for r in sites}


def story(sheet: Sheet, rows: list[dict], details: dict[str, dict], region: Region | None, total: int,
          guidelines: dict, method: str, lines: list[str], lang: str, on: dt.date) -> list[Flowable]:
    _ = i18n.translator(lang)
    computed = sorted(r["computed_at"] for r in rows)
    when = moment(computed[0].date()) if computed[0].date() == computed[-1].date() else \
        f"{moment(computed[0].date())} – {moment(computed[-1].date())}"
    intro: list[Flowable] = [
        para(_("report.priorities.title"), "title"),
        para(_("report.priorities.scope", scope=_scope(region, lang), shown=len(rows), total=total), "subtitle"),
        para(_("report.priorities.basis", method=method, guidelines=guidelines["code"],
               name=printable(guidelines["name"], 200), computed=when, date=on.isoformat()), "small"),
        para(_("report.priorities.note"), "small"),
        para(" · ".join(f"{k}: {_('class.' + k)}" for k in CLASSES), "small"), gap(2)]
    tables = _tables(sheet, rows, details, lang, before=height_of(intro, sheet.frame_width))
    return intro + tables + [gap(2), heading(_("report.section.sources"))] + [para(line, "small") for line in lines]


def _tables(sheet: Sheet, rows: list[dict], details: dict[str, dict], lang: str, before: float) -> list[Flowable]:
    """The ranked rows, one table per page with the header row, the class cell in the class's colour."""
    _ = i18n.translator(lang)
    radius = next((found[1] for r in rows if (found := people_within(r["explanation"]))), None)
    header = [_("report.col.rank"), _("report.col.code"), _("report.col.name"), _("report.col.region"),
              _("report.col.class"), _("report.col.score"), _("report.col.confidence"), _("report.col.stage"),
              _("report.col.main_contaminants"),
              _("report.col.people", km=number(radius, lang, 1)) if radius else _("report.col.people_none")]
    cells = [_row(position, row, details.get(row["code"], {}), lang) for position, row in enumerate(rows, start=1)]

    def colour(index: int, row: int) -> list:
        klass = rows[index]["priority_class"]
        commands = [("BACKGROUND", (4, row), (4, row), colors.HexColor(CLASS_COLOURS.get(klass, "#808080"))),
                    ("ALIGN", (4, row), (4, row), "CENTER"), ("FONT", (4, row), (4, row), "DejaVuSans-Bold", 7.4, 8.6)]
        return commands + ([("TEXTCOLOR", (4, row), (4, row), colors.white)] if klass in DARK else [])

    return paged_table(header, cells, [w * mm for w in WIDTHS_MM], before=before, room=table_room(sheet),
                       row_commands=colour, right={0, 5, 6, 9}, plain={0, 1, 4, 5, 6, 9})


def _row(position: int, row: dict, detail: dict, lang: str) -> list:
    _ = i18n.translator(lang)
    region = BY_KATO.get(row["region_kato"] or "")
    names = detail.get("contaminants", [])
    shown = ", ".join(names[:MAIN_CONTAMINANTS]) + (f" +{len(names) - MAIN_CONTAMINANTS}"
                                                    if len(names) > MAIN_CONTAMINANTS else "")
    counted = people_within(row["explanation"])
    stage = detail.get("stage")
    return [str(position), row["code"], printable(detail.get("name") or row["name"], 160),
            getattr(region, f"name_{lang}") if region else (row["region"] or ""),
            row["priority_class"],
            number(row["total"], lang, 1), share(row["confidence"], lang), _(f"stage.{stage}") if stage else "",
            shown, number(counted[0], lang) if counted else ""]


def sources(engine: Engine, guidelines: dict, method: str, lang: str) -> list[str]:
    """The register, the guideline set, the exposure layers and the method, as printed under the list."""
    _ = i18n.translator(lang)
    lines = [_("map.credit.sites"),
             _("report.sources.guidelines", name=printable(guidelines["name"], 240),
               source=guidelines["source"] or guidelines["code"])]
    layers = layer_sources(engine)
    if layers:
        lines.append(_("report.sources.layers", layers="; ".join(layers)))
    lines.append(_("report.sources.method", method=method))
    return lines
