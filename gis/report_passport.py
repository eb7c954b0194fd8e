"""The site passport (`sites report passport CODE`): one site on one or two A4 pages, in Kazakh, Russian or English.

Identity, a location map, history from the audit trail, contaminants, sample results against the active guideline
set, the latest score with its explanation, confidence, missing inputs and next steps, inspections, photo
thumbnails, sources, and the geometry's SHA-256 as the site table and the audit trail hold it. When everything does
not fit on two pages, the longest lists are shortened first (saying how many rows are left out and which command
lists them all), then the description and the method's notes beside the pathway table; the identity, the score, its
explanation lines and the missing inputs are always printed.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, KeepTogether
from sqlalchemy import Engine, select

from gis import tables as t
from gis.field_entry import active_guidelines
from gis.inspections import list_attachments, list_inspections, read_thumbnail
from gis.printmap import parse_codes
from gis.queries import CONVENTIONS, _convention_rules
from gis.report_map import LocationMap, location_map
from gis.report_pdf import Sheet, gap, heading, para, render, table, write
from gis.reports import Written, guideline_set, output_path, require_restricted
from gis.scoring import guideline_limits
from gis.services import Register
from sites import i18n
from sites.errors import InvalidInput, NotFound
from sites.permissions import Actor
from sites.regions import BY_KATO
from sites.report_format import moment, number, people_within, printable, ratio, result, share, significant
from sites.scoring.explain import brief
from sites.scoring.tables import METHOD_NAME, METHOD_VERSION

MAP_MM = (182.0, 50.0)
# Shorter lists, step by step, until the passport fits on two pages.
LIMITS = (
    {"history": 10, "contaminants": 12, "samples": 14, "inspections": 4, "photos": 6, "text": 700, "data": True},
    {"history": 5, "contaminants": 8, "samples": 8, "inspections": 3, "photos": 3, "text": 600, "data": True},
    {"history": 3, "contaminants": 5, "samples": 5, "inspections": 2, "photos": 3, "text": 300, "data": True},
    {"history": 3, "contaminants": 4, "samples": 4, "inspections": 2, "photos": 3, "text": 200, "data": False},
)
MAX_PAGES = 2
PATHWAYS = ("groundwater", "surface_water", "soil", "air")
IGNORED_CHANGES = {"version", "updated_at"}
NO_GRID = [("GRID", (0, 0), (-1, -1), 0, colors.white), ("LEFTPADDING", (0, 0), (-1, -1), 0)]


@dataclass
class Facts:
    """Everything one passport shows, read from the register."""

    site: dict[str, Any]
    district: str | None
    contaminants: list[dict[str, Any]]
    samples: list[dict[str, Any]]
    guidelines: dict[str, Any]
    score: dict[str, Any] | None
    history: list[dict[str, Any]]
    inspections: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    thumbnails: dict[int, bytes | None]
    map: LocationMap


def passport(engine: Engine, code: str, path: str | Path, *, lang: str = "en", on: dt.date | None = None,
             files_dir: Path | None = None, actor: Actor | None = None) -> Written:
    """Write the passport of site ``code`` to ``path`` (PDF), all or nothing.

    Raises
    ------
    InvalidInput
        For a malformed or unknown site code, a language other than kk, ru or en, or an output path that is a
        folder or not in an existing folder; no file is written then.
    """
    require_restricted(actor)
    lang, path, on = i18n.parse_language(lang), output_path(path), on or dt.date.today()
    facts = gather(engine, site_code(engine, code), lang, on, files_dir)
    method = _method(facts.score)
    sheet = _sheet(facts, lang, on, method)
    for limits in LIMITS:
        data, pages = render(sheet, story(facts, lang, limits))
        if pages <= MAX_PAGES:
            break
    write(path, data)
    return Written(path, pages, lang, on, method, tuple(sources(facts, lang)))


def site_code(engine: Engine, code: str) -> str:
    """The code of a site in the register (any case), or InvalidInput naming what was expected."""
    expected = "the code of a site in the register, like KZ-PAV-0003 (sites rank lists them)"
    try:
        parsed = parse_codes([code])
    except InvalidInput:
        raise InvalidInput("code", code, expected) from None
    if len(parsed) != 1:
        raise InvalidInput("code", code, expected)
    try:
        Register(engine).get_site(parsed[0])
    except NotFound:
        raise InvalidInput("code", code, expected) from None
    return parsed[0]


# ---- reading -------------------------------------------------------------------------------

def gather(engine: Engine, code: str, lang: str, on: dt.date, files_dir: Path | None) -> Facts:
    register = Register(engine)
    site = register.get_site(code)
    guidelines = active_guidelines(engine)
    with engine.connect() as conn:
        district = _district(conn, site["district_kato"], lang)
        contaminants = _contaminants(conn, site["id"])
        samples = _samples(conn, site["id"], guidelines)
        score = _latest_score(conn, site["id"])
    attachments = list_attachments(engine, code)
    photos = [a for a in attachments if a["is_photo"]]
    thumbnails = {a["id"]: _thumbnail(engine, a["id"], files_dir) for a in photos[:max(x["photos"] for x in LIMITS)]}
    return Facts(site, district, contaminants, samples, guideline_set(engine, guidelines), score,
                 register.history(code), list_inspections(engine, code), attachments, thumbnails,
                 location_map(engine, code, lang, *MAP_MM, on=on))


def _district(conn, kato: str | None, lang: str) -> str | None:
    if not kato:
        return None
    b = t.boundary.c
    row = conn.execute(select(b.name_en, b.name_ru, b.name_kk).where(b.level == "district", b.kato == kato)
                       .limit(1)).mappings().first()
    name = i18n.localized(dict(row), lang) if row else ""
    return f"{name} ({kato})" if name else kato


def _contaminants(conn, site_id: int) -> list[dict[str, Any]]:
    sc, c = t.site_contaminant, t.contaminant
    flags = [rule.label(name) for name, rule in zip(CONVENTIONS, _convention_rules())]
    query = (select(sc.c.contaminant, sc.c.medium, sc.c.status, sc.c.quantity_t, sc.c.evidence, c.c.name_en,
                    c.c.name_ru, c.c.name_kk, *flags)
             .join(c, c.c.code == sc.c.contaminant).where(sc.c.site_id == site_id)
             .order_by(sc.c.status, sc.c.quantity_t.desc().nulls_last(), c.c.name_en, sc.c.medium))
    return [dict(r) for r in conn.execute(query).mappings()]


def _samples(conn, site_id: int, guidelines: str) -> list[dict[str, Any]]:
    """The site's results, each with the active set's guideline value and the ratio, highest ratio first."""
    s, c = t.sample, t.contaminant
    limits = guideline_limits(conn, guidelines)
    query = (select(s.c.contaminant, s.c.medium, s.c.depth_m, s.c.sampled_on, s.c.sampled_year, s.c.value, s.c.unit,
                    s.c.qualifier, s.c.detection_limit, s.c.value_canonical, s.c.unit_canonical, s.c.laboratory,
                    s.c.source, c.c.name_en, c.c.name_ru, c.c.name_kk)
             .join(c, c.c.code == s.c.contaminant).where(s.c.site_id == site_id).order_by(s.c.id))
    rows = []
    for row in conn.execute(query).mappings():
        limit = limits.get((row["contaminant"], row["medium"]))
        same_unit = limit is not None and limit[1] == row["unit_canonical"]
        rows.append(dict(row, guideline=limit[0] if same_unit else None,
                         ratio=row["value_canonical"] / limit[0] if same_unit else None))
    return sorted(rows, key=lambda r: (r["ratio"] is None, -(r["ratio"] or 0)))


def _latest_score(conn, site_id: int) -> dict[str, Any] | None:
    sc = t.score
    row = conn.execute(select(sc).where(sc.c.site_id == site_id)
                       .order_by(sc.c.computed_at.desc(), sc.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def _thumbnail(engine: Engine, attachment_id: int, files_dir: Path | None) -> bytes | None:
    """The stored thumbnail, or None when the photo has none or its file is missing (the passport says so)."""
    try:
        return read_thumbnail(engine, attachment_id, files_dir=files_dir)
    except NotFound:
        return None


def _method(score: dict[str, Any] | None) -> str:
    if score is None:
        return f"{METHOD_NAME} {METHOD_VERSION}"
    return f"{score['method']} {score['method_version']}"


# ---- writing -------------------------------------------------------------------------------

def _sheet(facts: Facts, lang: str, on: dt.date, method: str) -> Sheet:
    _ = i18n.translator(lang)
    site = facts.site
    return Sheet(title=f"{_('report.passport.title')}: {i18n.localized(site, lang)}", header_right=site["code"],
                 footer=_("export.made", date=on.isoformat(), method=method), page_word=_("report.page"),
                 subject=f"{site['code']} · {_('report.passport.title')}", keywords=method)


def story(facts: Facts, lang: str, limits: dict[str, Any]) -> list[Flowable]:
    """The passport's flowables, lists cut to ``limits``."""
    _ = i18n.translator(lang)
    site = facts.site
    parts: list[Flowable] = [para(f"{_('report.passport.title')} {site['code']}", "title"),
                             para(i18n.localized(site, lang), "subtitle", most=300), gap(2)]
    parts += _identity(facts, lang, limits)
    parts += _location(facts, lang)
    parts += _score(facts, lang, limits)
    parts += _contaminants_part(facts, lang, limits)
    parts += _samples_part(facts, lang, limits)
    parts += _history(facts, lang, limits)
    parts += _inspections(facts, lang, limits)
    parts += _photos(facts, lang, limits)
    parts += [heading(_("report.section.sources"))] + [para(line, "small") for line in sources(facts, lang)]
    return parts


def _label(_: Callable[..., str], kind: str, value: Any) -> str:
    """A vocabulary value in words (``report.activity.chemical_plant``); a value the catalogue lacks as stored."""
    if value in (None, ""):
        return _("report.not_recorded")
    key = f"{kind}.{value}"
    return _(key) if key in i18n.catalogue() else str(value)


def _amount(value: Any, unit: str, lang: str, not_recorded: str) -> str:
    return f"{significant(value, lang)} {unit}" if value is not None else not_recorded


def _identity(facts: Facts, lang: str, limits: dict[str, Any]) -> list[Flowable]:
    _ = i18n.translator(lang)
    site, none = facts.site, _("report.not_recorded")
    region = BY_KATO.get(site["region_kato"] or "")
    names = [[_("report.field.name_kk"), printable(site["name_kk"], 300) or none],
             [_("report.field.name_ru"), printable(site["name_ru"], 300) or none],
             [_("report.field.name_en"), printable(site["name_en"], 300) or none]]
    period = "–".join(str(y) for y in (site["operating_from"], site["operating_to"]) if y) or none
    cells = [
        (_("report.field.code"), f"{site['code']} · {_('report.field.version')} {site['version']}"
         + (f" · {_('report.archived')}" if site["archived"] else "")),
        (_("report.field.region"), f"{i18n.localized(vars(region), lang)} ({region.kato})" if region else none),
        (_("report.field.district"), facts.district or none),
        (_("report.field.activity"), _label(_, "report.activity", site["activity"])),
        (_("report.field.operating_period"), period),
        (_("report.field.operator"), printable(site["operator"], 150) or none),
        (_("report.field.owner_status"), _label(_, "report.owner", site["owner_status"])),
        (_("report.field.stage"), _label(_, "stage", site["stage"])),
        (_("report.field.containment"), _label(_, "report.containment", site["containment"])),
        (_("report.field.accessibility"), _label(_, "report.access", site["accessibility"])),
        (_("report.field.land_use"), printable(site["land_use"], 150) or none),
        (_("report.field.area_ha"), _amount(site["area_ha"], _("report.unit.ha"), lang, none)),
        (_("report.field.waste_mass_t"), _amount(site["waste_mass_t"], _("report.unit.t"), lang, none)),
        (_("report.field.waste_volume_m3"), _amount(site["waste_volume_m3"], _("report.unit.m3"), lang, none)),
        (_("report.field.remediation_cost_kzt"),
         f"{number(site['remediation_cost_kzt'], lang)} ₸" if site["remediation_cost_kzt"] is not None else none),
        (_("report.field.funding"), printable(site["funding"], 150) or none),
        (_("report.field.remediation_deadline"), moment(site["remediation_deadline"]) or none),
        (_("report.field.created_at"), moment(site["created_at"])),
        (_("report.field.updated_at"), moment(site["updated_at"])),
    ]
    half = (len(cells) + 1) // 2
    left, right = cells[:half], cells[half:] + [("", "")] * (2 * half - len(cells))
    grid = [[a, b, c, d] for (a, b), (c, d) in zip(left, right)]
    width = 182 * mm
    parts = [heading(_("report.section.identity")),
             table(None, names, [32 * mm, width - 32 * mm], zebra=False), gap(1.2),
             table(None, grid, [32 * mm, 59 * mm, 32 * mm, 59 * mm], zebra=False), gap(1.2)]
    parts += _geometry(facts, lang)
    if site["description"]:
        parts.append(para(printable(site["description"], limits["text"]), "small",
                          bold_prefix=_("report.field.description") + ":"))
    return parts


def _geometry(facts: Facts, lang: str) -> list[Flowable]:
    """The point, its precision and the geometry's SHA-256, checked against the audit trail's latest record."""
    _ = i18n.translator(lang)
    site = facts.site
    where = _("report.location.point", lat=f"{site['lat']:.6f}", lon=f"{site['lon']:.6f}",
              precision=_label(_, "precision", site["location_precision"]))
    if site["footprint"]:
        where += " · " + _("report.location.footprint")
    recorded = [h for h in facts.history if h["entity"] == "site" and h.get("geom_sha256")]
    if not recorded:
        check = _("report.sha.none")
    elif recorded[-1]["geom_sha256"] == site["geom_sha256"]:
        check = _("report.sha.match", when=moment(recorded[-1]["at"]))
    else:
        check = _("report.sha.differs", when=moment(recorded[-1]["at"]), sha=recorded[-1]["geom_sha256"])
    parts = [para(where, "small", bold_prefix=_("report.field.location") + ":")]
    if site["location_note"]:
        parts.append(para(printable(site["location_note"], 300), "small",
                          bold_prefix=_("report.field.location_note") + ":"))
    parts += [para(_("report.field.geom_sha256") + ":", "small"), para(site["geom_sha256"], "mono"),
              para(check, "small")]
    return parts


def _location(facts: Facts, lang: str) -> list[Flowable]:
    _ = i18n.translator(lang)
    width, height = MAP_MM
    picture = Image(io.BytesIO(facts.map.png), width=width * mm, height=height * mm)
    caption = _("report.map.caption", scale=number(facts.map.scale, lang), count=len(facts.map.neighbours))
    return [KeepTogether([heading(_("report.section.location")), picture, para(caption, "small")])]


def _score(facts: Facts, lang: str, limits: dict[str, Any]) -> list[Flowable]:
    _ = i18n.translator(lang)
    score = facts.score
    parts: list[Flowable] = [heading(_("report.section.score"))]
    if score is None:
        return parts + [para(_("report.score.none"), "body")]
    parts += [para(line, "body") for line in brief(score, lang)]
    parts.append(para(_("report.score.basis", method=_method(score), guidelines=score["guideline_set"] or "",
                        when=moment(score["computed_at"]), hazard=number(score["hazard"], lang, 1),
                        exposure=number(score["exposure"], lang, 1), confidence=share(score["confidence"], lang)),
                      "small"))
    parts += [gap(1), *_pathway_table(score, lang, limits)]
    parts += [para(line, "small") for line in _people_lines(score, lang)]
    parts += _missing(score, lang)
    return parts


def _pathway_table(score: dict[str, Any], lang: str, limits: dict[str, Any]) -> list[Flowable]:
    """Each pathway's likelihood, waste characteristics, targets, score and share of the total, with the data
    the method recorded for them (as stored, in the method's words)."""
    _ = i18n.translator(lang)
    parts = {p["pathway"]: p for p in score["explanation"].get("parts", [])}
    rows = []
    for name in PATHWAYS:
        part = parts.get(name)
        if part is None:
            continue
        factors = {f["name"]: f for f in part.get("factors", [])}
        likelihood, waste, targets = (factors.get(k, {}) for k in ("likelihood", "waste_characteristics", "targets"))
        data = []
        if limits["data"]:  # the nearest settlement is in the lines above the table already
            data = [likelihood.get("data", ""), (waste.get("data") or {}).get("exceedance", ""),
                    *(d for d in targets.get("data") or [] if not str(d).startswith("nearest settlement"))]
        rows.append([_(f"pathway.{name}"),
                     f"{number(likelihood.get('value'), lang, 2)} ({_label(_, 'report.kind', likelihood.get('kind'))})",
                     number(waste.get("value"), lang, 2), number(targets.get("value"), lang, 2),
                     number(targets.get("weighted_people"), lang), number(part.get("score"), lang, 1),
                     number(part.get("contribution"), lang, 2), "; ".join(printable(d) for d in data if d)])
    header = [_("report.col.pathway"), _("report.col.likelihood"), _("report.col.waste"), _("report.col.targets"),
              _("report.col.weighted_people"), _("report.col.pathway_score"), _("report.col.contribution"),
              _("report.col.data")]
    widths = [19, 21, 16, 16, 17, 11, 15, 67]
    return [table(header, rows, [w * mm for w in widths], right={2, 3, 4, 5, 6}),
            para(_waste_terms(score, lang), "small")]


def _waste_terms(score: dict[str, Any], lang: str) -> str:
    """Toxicity, persistence and quantity, the same for every pathway, with the data behind each."""
    _ = i18n.translator(lang)
    for part in score["explanation"].get("parts", []):
        for factor in part.get("factors", []):
            if factor.get("name") == "waste_characteristics":
                terms, data = factor.get("terms", {}), factor.get("data", {})
                shown = [f"{_('report.term.' + k)} {number(terms.get(k), lang, 2)} ({printable(data.get(k))})"
                         for k in ("toxicity", "persistence", "quantity") if k in terms]
                return _("report.score.waste_terms", terms="; ".join(shown))
    return ""


def _people_lines(score: dict[str, Any], lang: str) -> list[str]:
    _ = i18n.translator(lang)
    explanation, lines = score["explanation"], []
    counted = people_within(explanation)
    if counted:
        lines.append(_("report.score.people", people=number(counted[0], lang), km=number(counted[1], lang, 1)))
    children, women = explanation.get("children_exposure"), explanation.get("women_exposure")
    if children:
        lines.append(_("report.score.children", children=number(children.get("children_within_1_6_km"), lang),
                       weight=number(children.get("weight"), lang, 1), schools=children.get("school", 0),
                       kindergartens=children.get("kindergarten", 0)))
    if women:
        lines.append(_("report.score.women", women=number(women.get("women_15_49_within_1_6_km"), lang),
                       weight=number(women.get("weight"), lang, 1), maternity=women.get("maternity", 0)))
    return lines


def _missing(score: dict[str, Any], lang: str) -> list[Flowable]:
    """Inputs the method had to default, each with the investigation step that would supply it."""
    _ = i18n.translator(lang)
    missing = score["explanation"].get("missing", [])
    if not missing:
        return [para(_("report.score.complete"), "small")]
    rows = [[_label(_, "report.input", m), _label(_, "report.next", m)] for m in missing]
    return [gap(1), KeepTogether([para(_("report.score.missing"), "small"),
                                  table([_("report.col.input"), _("report.col.next_step")], rows,
                                        [55 * mm, 127 * mm])])]


def _more(lang: str, shown: int, total: int, command: str) -> list[Flowable]:
    if total <= shown:
        return []
    return [para(i18n.text("report.more", lang, count=total - shown, command=command), "small")]


def _conventions(row: dict[str, Any], _: Callable[..., str]) -> str:
    return ", ".join(_(f"report.convention.short.{name}") for name in CONVENTIONS if row.get(name))


def _contaminants_part(facts: Facts, lang: str, limits: dict[str, Any]) -> list[Flowable]:
    _ = i18n.translator(lang)
    parts: list[Flowable] = [heading(_("report.section.contaminants"))]
    if not facts.contaminants:
        return parts + [para(_("report.contaminants.none"), "small")]
    shown = facts.contaminants[:limits["contaminants"]]
    rows = [[i18n.localized(c, lang), _label(_, "report.medium", c["medium"]), _label(_, "report.cstatus", c["status"]),
             significant(c["quantity_t"], lang), _conventions(c, _), printable(c["evidence"], 160)] for c in shown]
    header = [_("report.col.contaminant"), _("report.col.medium"), _("report.col.status"),
              _("report.col.quantity_t"), _("report.col.conventions"), _("report.col.evidence")]
    parts.append(table(header, rows, [w * mm for w in (26, 20, 17, 15, 30, 74)], right={3}))
    return parts + _more(lang, len(shown), len(facts.contaminants), f"sites site show {facts.site['code']}")


def _samples_part(facts: Facts, lang: str, limits: dict[str, Any]) -> list[Flowable]:
    _ = i18n.translator(lang)
    g = facts.guidelines
    parts: list[Flowable] = [heading(_("report.section.samples")),
                             para(_("report.samples.basis", name=printable(g["name"], 240), code=g["code"]), "small")]
    if not facts.samples:
        return parts + [para(_("report.samples.none"), "small")]
    shown = facts.samples[:limits["samples"]]
    lod, none = _("report.lod"), _("report.samples.no_guideline")
    rows = [[i18n.localized(s, lang), _label(_, "report.medium", s["medium"]),
             moment(s["sampled_on"]) or (str(s["sampled_year"]) if s["sampled_year"] else ""),
             result(s["qualifier"], s["value"], s["unit"], lang, lod),
             f"{significant(s['guideline'], lang)} {s['unit_canonical']}" if s["guideline"] else none,
             ratio(s["qualifier"], s["value_canonical"], s["guideline"], lang),
             printable(s["laboratory"] or s["source"], 60)] for s in shown]
    header = [_("report.col.contaminant"), _("report.col.medium"), _("report.col.sampled"), _("report.col.result"),
              _("report.col.guideline"), _("report.col.ratio"), _("report.col.laboratory")]
    parts.append(table(header, rows, [w * mm for w in (26, 20, 17, 31, 28, 16, 44)], right={5}))
    parts.append(para(_("report.lod.note", lod=lod), "small"))
    return parts + _more(lang, len(shown), len(facts.samples), f"sites sample list {facts.site['code']}")


def _history(facts: Facts, lang: str, limits: dict[str, Any]) -> list[Flowable]:
    _ = i18n.translator(lang)
    entries = list(reversed(facts.history))[:limits["history"]]
    rows = [[moment(h["at"]), printable(h["actor"], 40), _label(_, "report.action", h["action"]),
             f"{_label(_, 'report.entity', h['entity'])} {h['entity_id']}", _changes(h, _),
             (h.get("geom_sha256") or "")[:16]] for h in entries]
    header = [_("report.col.when"), _("report.col.who"), _("report.col.action"), _("report.col.what"),
              _("report.col.changed"), _("report.col.geom_sha")]
    parts = [heading(_("report.section.history")),
             table(header, rows, [w * mm for w in (34, 22, 20, 30, 48, 28)])]
    return parts + _more(lang, len(entries), len(facts.history), f"sites site history {facts.site['code']}")


def _changes(entry: dict[str, Any], _: Callable[..., str]) -> str:
    """The site fields a change set, by their printed names; other entities' changes name the entity only."""
    if entry["entity"] != "site" or entry["action"] == "insert":
        return ""
    before, after = entry["before"] or {}, entry["after"] or {}
    changed = sorted(k for k in after if before.get(k) != after.get(k) and k not in IGNORED_CHANGES)
    return ", ".join(_label(_, "report.field", k) for k in changed)


def _inspections(facts: Facts, lang: str, limits: dict[str, Any]) -> list[Flowable]:
    _ = i18n.translator(lang)
    parts: list[Flowable] = [heading(_("report.section.inspections"))]
    if not facts.inspections:
        return parts + [para(_("report.inspections.none"), "small")]
    shown = facts.inspections[:limits["inspections"]]
    rows = [[moment(i["inspected_on"]), printable(i["inspector"], 40), _label(_, "report.containment", i["condition"])
             if i["condition"] else "", printable(i["findings"], 240), str(i["attachments"])] for i in shown]
    header = [_("report.col.date"), _("report.col.inspector"), _("report.col.condition"), _("report.col.findings"),
              _("report.col.attachments")]
    parts.append(table(header, rows, [w * mm for w in (20, 26, 22, 96, 18)], right={4}))
    return parts + _more(lang, len(shown), len(facts.inspections), f"sites inspection list {facts.site['code']}")


def _photos(facts: Facts, lang: str, limits: dict[str, Any]) -> list[Flowable]:
    _ = i18n.translator(lang)
    photos = [a for a in facts.attachments if a["is_photo"]]
    documents = [a for a in facts.attachments if not a["is_photo"]]
    parts: list[Flowable] = []
    if photos:
        shown = photos[:limits["photos"]]
        cells = [_photo_cell(a, facts.thumbnails.get(a["id"]), lang) for a in shown]
        rows = [cells[i:i + 3] + [""] * (3 - len(cells[i:i + 3])) for i in range(0, len(cells), 3)]
        parts.append(KeepTogether([heading(_("report.section.photos")),
                                   table(None, rows, [60.6 * mm] * 3, zebra=False, commands=NO_GRID)]))
        parts += _more(lang, len(shown), len(photos), f"sites inspection list {facts.site['code']}")
    else:
        parts += [heading(_("report.section.photos")), para(_("report.photos.none"), "small")]
    if documents:
        names = ", ".join(printable(d["filename"], 60) for d in documents[:10])
        parts.append(para(_("report.documents", count=len(documents), names=names), "small"))
    return parts


def _photo_cell(meta: dict[str, Any], thumbnail: bytes | None, lang: str) -> list[Flowable]:
    _ = i18n.translator(lang)
    if meta["lat"] is None:
        where = _("report.photo.no_geotag")
    else:
        where = _("report.photo.geotag", lat=f"{meta['lat']:.5f}", lon=f"{meta['lon']:.5f}",
                  metres=number(meta["distance_m"], lang))
    caption = para(f"{printable(meta['filename'], 50)} · {moment(meta['created_at'])} · {where} · "
                   f"SHA-256 {meta['sha256'][:12]}…", "small")
    if thumbnail is None:
        return [para(_("report.photo.missing"), "small"), caption]
    return [_picture(thumbnail, 56 * mm, 32 * mm), caption]


def _picture(data: bytes, most_width: float, most_height: float) -> Image:
    width, height = PILImage.open(io.BytesIO(data)).size
    fit = min(most_width / width, most_height / height)
    return Image(io.BytesIO(data), width=width * fit, height=height * fit)


def sources(facts: Facts, lang: str) -> list[str]:
    """Where everything printed comes from: the register, the site's own sources, the samples', the guideline
    set, the map's layers and the scoring method."""
    _ = i18n.translator(lang)
    lines = [_("map.credit.sites")]
    if facts.site["sources"]:
        lines.append(_("report.sources.site", sources=printable(facts.site["sources"], 400)))
    sample_sources = sorted({printable(s["source"]) for s in facts.samples if s["source"]})
    if sample_sources:
        lines.append(_("report.sources.samples", sources=printable("; ".join(sample_sources), 400)))
    g = facts.guidelines
    lines.append(_("report.sources.guidelines", name=printable(g["name"], 240), source=g["source"] or g["code"]))
    if facts.map.sources:
        lines.append(_("report.sources.map", sources="; ".join(facts.map.sources)))
    lines.append(_("report.sources.method", method=_method(facts.score)))
    return lines
