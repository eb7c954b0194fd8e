"""A remediation programme from the register: the latest ranking and site costs, chosen within a budget."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any, Mapping

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Engine, select

from gis import ranking_output, tables as t
from gis.queries import site_points
from gis.ranking_output import points_frame, write_output
from gis.scoring import ranking
from gis.xlsx import workbook_bytes
from sites.errors import SitesError
from sites.programme import (
    NO_COST, PROGRAMME_VERSION, SOLVER, Candidate, Cost, Selection, check_budget, choose_greedy, choose_optimal,
    people_protected, risk_reduction, site_cost,
)
from sites.permissions import Actor, require
from sites.regions import parse_region
from sites.report_format import csv_cell

BENEFIT = ("risk reduction = total score / 100 x person-equivalents near the site (the score's targets: people in "
           "the distance rings weighted by distance and sensitivity, of the pathway reaching most; at least 1)")


def programme(engine: Engine, budget_kzt: Any, *, region: str | None = None,
              actor: Actor | None = None) -> dict[str, Any]:
    """The sites a budget should buy to remove the most risk, with the greedy-by-rank baseline and what is left out.

    Parameters
    ----------
    engine : Engine
        The register's database.
    budget_kzt : number or str
        Budget in tenge; anything but a positive finite number is refused before the database is read.
    region : str, optional
        Region KATO or ISO code; only its sites compete for the budget.
    actor : Actor, optional
        Who plans (the app passes its user, who needs ``manage_scenarios``); scripts pass none.

    Returns
    -------
    dict
        ``selected`` (rank order) and ``left_out`` site records, ``totals``, ``greedy`` (codes and totals of
        greedy selection by rank), ``gain_over_greedy``, and the ``scores`` (method, version, guidelines) used.
    """
    if actor is not None:
        require(actor, "manage_scenarios")
    budget = check_budget(budget_kzt)
    kato = parse_region(region) if region else None
    rows = ranking(engine, region=kato)
    if not rows:
        raise SitesError("no scored sites" + (f" in region {region}" if region else "") + "; run `sites score` first")
    records, candidates, no_cost = _candidates(rows, _cost_fields(engine, kato))
    optimal, greedy = choose_optimal(candidates, budget), choose_greedy(candidates, budget)
    return {
        "budget_kzt": optimal.budget_kzt, "date": dt.date.today().isoformat(), "region": kato,
        "scores": _scores(rows), "benefit": BENEFIT, "solver": f"{SOLVER}; programme {PROGRAMME_VERSION}",
        "selected": [records[code] for code in optimal.codes],
        "totals": _totals(optimal),
        "greedy": {"order": "rank", "codes": list(greedy.codes), **_totals(greedy)},
        "gain_over_greedy": round(optimal.total_benefit - greedy.total_benefit, 2),
        "left_out": _left_out(optimal, records, no_cost),
    }


def _cost_fields(engine: Engine, kato: str | None) -> dict[str, Mapping[str, Any]]:
    """Cost and quantity fields of the live sites (of one region), keyed by code: one query."""
    s = t.site
    query = select(s.c.code, s.c.remediation_cost_kzt, s.c.area_ha, s.c.waste_volume_m3).where(~s.c.archived)
    if kato is not None:
        query = query.where(s.c.region_kato == kato)
    with engine.connect() as conn:
        return {row["code"]: row for row in conn.execute(query).mappings()}


def _candidates(rows: list[dict], costs: Mapping[str, Mapping[str, Any]]) -> tuple[dict, list[Candidate], list[dict]]:
    """Site records by code, the candidates in rank order, and the sites without any cost (left out)."""
    records, candidates, no_cost = {}, [], []
    for rank, row in enumerate(rows, start=1):
        fields = costs.get(row["code"], {})
        cost = site_cost(fields.get("remediation_cost_kzt"), fields.get("area_ha"), fields.get("waste_volume_m3"))
        people = people_protected(row["explanation"])
        benefit = risk_reduction(row["total"], people)
        record = _record(rank, row, people, benefit, cost)
        if cost is None:
            no_cost.append({**record, "reason": NO_COST})
            continue
        records[row["code"]] = record
        candidates.append(Candidate(row["code"], cost.kzt, benefit, cost.estimated, cost.basis))
    return records, candidates, no_cost


def _record(rank: int, row: dict, people: float, benefit: float, cost: Cost | None) -> dict[str, Any]:
    return {
        "rank": rank, "code": row["code"], "name": row["name"], "region": row["region"],
        "class": row["priority_class"], "total": round(row["total"], 2), "people": round(people, 1),
        "benefit": round(benefit, 2), "cost_kzt": cost.kzt if cost else None,
        "cost_estimated": cost.estimated if cost else None, "cost_basis": cost.basis if cost else None,
    }


def _totals(selection: Selection) -> dict[str, Any]:
    return {"sites": len(selection.chosen), "cost_kzt": selection.total_cost_kzt,
            "benefit": round(selection.total_benefit, 2), "remaining_kzt": selection.remaining_kzt,
            "estimated_costs": sum(c.cost_estimated for c in selection.chosen)}


def _left_out(selection: Selection, records: dict, no_cost: list[dict]) -> list[dict]:
    over = [{**records[out.candidate.code], "reason": out.reason} for out in selection.left_out]
    return sorted(over + no_cost, key=lambda record: record["rank"])


def _scores(rows: list[dict]) -> dict[str, Any]:
    """The method, version and guideline set of the scores used (several only if sites were scored apart)."""
    return {"method": "; ".join(sorted({f"{r['method']} {r['method_version']}" for r in rows})),
            "guidelines": "; ".join(sorted({r["guideline_set"] for r in rows})),
            "computed_at": max(r["computed_at"] for r in rows).isoformat(timespec="seconds")}


SITE_COLUMNS = (("rank", "Rank"), ("code", "Code"), ("name", "Name"), ("class", "Class"), ("total", "Total score"),
                ("people", "Person-equivalents"), ("benefit", "Risk reduction"), ("cost_kzt", "Cost (KZT)"),
                ("cost_estimated", "Cost estimated"), ("cost_basis", "Cost basis"))
FORMATS = {"total": "0.00", "people": "#,##0.0", "benefit": "#,##0.00", "cost_kzt": "#,##0"}


def write_xlsx(report: Mapping[str, Any], path: Path) -> None:
    """Write the programme workbook (see ``xlsx_bytes``) to ``path``, atomically."""
    write_output(xlsx_bytes(report), path)


def xlsx_bytes(report: Mapping[str, Any]) -> bytes:
    """The programme as a workbook: a Programme sheet and a Left out sheet.

    The Programme sheet carries what a reader needs to trust it: the budget, the date, the method and version
    of the scores, the benefit's definition, the solver, the sites bought, and the greedy-by-rank comparison.
    """
    book = Workbook()
    _programme_sheet(book.active, report)
    _sites_table(book.create_sheet("Left out"), report["left_out"], 1, extra=(("reason", "Reason"),))
    return workbook_bytes(book)


EXPORT_COLUMNS = ("rank", "code", "name", "region", "class", "total", "selected", "cost_kzt", "cost_source",
                  "cost_basis", "people", "risk_reduction", "reason")


def export_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every ranked site of the programme in rank order, chosen or not: the rows of the CSV and GeoPackage."""
    chosen = [dict(record, selected=True, reason=None) for record in report["selected"]]
    left = [dict(record, selected=False) for record in report["left_out"]]
    rows = sorted(chosen + left, key=lambda record: record["rank"])
    return [{**{k: r.get(k) for k in EXPORT_COLUMNS}, "risk_reduction": r["benefit"],
             "cost_source": _cost_source(r)} for r in rows]


def _cost_source(record: Mapping[str, Any]) -> str:
    if record["cost_kzt"] is None:
        return "none"
    return "estimated" if record["cost_estimated"] else "entered"


def csv_text(report: Mapping[str, Any]) -> str:
    """The programme's sites as CSV; each row also names the budget, date and scores used, so that a row read
    alone still says which programme it belongs to (the workbook has the greedy comparison)."""
    context = {"budget_kzt": report["budget_kzt"], "date": report["date"], "scores": report["scores"]["method"]}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS + tuple(context))
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in {**row, **context}.items()} for row in export_rows(report))
    return out.getvalue()


def gpkg_bytes(engine: Engine, report: Mapping[str, Any]) -> bytes:
    """The programme's sites as points in a GeoPackage layer ``programme`` (EPSG:4326), the budget, method
    version, date and greedy totals kept as layer metadata."""
    frame = points_frame(export_rows(report), site_points(engine))
    return ranking_output.gpkg_bytes(frame, "programme", dict(_header(report)))


def _header(report: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """What a reader of an exported file needs to trust it: budget, date, scores used and both totals."""
    scores = report["scores"]
    return [("budget_kzt", report["budget_kzt"]), ("date", report["date"]), ("region", report["region"] or "all"),
            ("scores", scores["method"]), ("guidelines", scores["guidelines"]),
            ("programme", _summary(report["totals"])), ("greedy_by_rank", _summary(report["greedy"])),
            ("solver", report["solver"])]


def _summary(totals: Mapping[str, Any]) -> str:
    return f"{totals['sites']} sites, {totals['cost_kzt']} KZT, risk reduction {totals['benefit']}"


def _programme_sheet(sheet, report: Mapping[str, Any]) -> None:
    sheet.title = "Programme"
    sheet.append(["Remediation programme"])
    sheet["A1"].font = Font(bold=True, size=14)
    scores = report["scores"]
    for label, value in (("Budget (KZT)", report["budget_kzt"]), ("Date", report["date"]),
                         ("Region", report["region"] or "all"), ("Scores: method and version", scores["method"]),
                         ("Guideline set", scores["guidelines"]), ("Scores computed at", scores["computed_at"]),
                         ("Benefit", report["benefit"]), ("Solver", report["solver"])):
        sheet.append([label, value])
    sheet["B2"].number_format = "#,##0"
    end = _sites_table(sheet, report["selected"], sheet.max_row + 2)
    _comparison(sheet, report, end + 2)


def _sites_table(sheet, records: list[dict], first_row: int, extra: tuple = ()) -> int:
    """Header and one row per site from ``first_row``; returns the last row written."""
    columns = SITE_COLUMNS + extra
    for col, (_, title) in enumerate(columns, start=1):
        sheet.cell(first_row, col, title).font = Font(bold=True)
    for row, record in enumerate(records, start=first_row + 1):
        for col, (key, _) in enumerate(columns, start=1):
            cell = sheet.cell(row, col, record[key])
            cell.number_format = FORMATS.get(key, "General")
    for letter, width in zip("ABCDEFGHIJK", (6, 13, 48, 6, 11, 18, 15, 20, 14, 48, 36)):
        sheet.column_dimensions[letter].width = width
    return first_row + len(records)


def _comparison(sheet, report: Mapping[str, Any], row: int) -> None:
    """Totals of the programme beside greedy selection by rank, the issue's baseline."""
    totals, greedy = report["totals"], report["greedy"]
    lines = (("", "Optimal (MILP)", "Greedy by rank"), ("Number of sites", totals["sites"], greedy["sites"]),
             ("Cost (KZT)", totals["cost_kzt"], greedy["cost_kzt"]),
             ("Risk reduction", totals["benefit"], greedy["benefit"]),
             ("Budget left (KZT)", totals["remaining_kzt"], greedy["remaining_kzt"]),
             ("Codes", ", ".join(r["code"] for r in report["selected"]), ", ".join(greedy["codes"])),
             ("Gain over greedy", report["gain_over_greedy"], None))
    for offset, line in enumerate(lines):
        for col, value in enumerate(line, start=1):
            cell = sheet.cell(row + offset, col, value)
            cell.number_format = _number_format(value)
            cell.font = Font(bold=offset == 0 or col == 1)


def _number_format(value: Any) -> str:
    if isinstance(value, float):
        return "#,##0.00"
    return "#,##0" if isinstance(value, int) else "General"
