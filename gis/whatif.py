"""What-if rankings: every live site rescored in memory under a scenario, beside the official ranking, and exported."""

from __future__ import annotations

import json
from typing import Any, Mapping

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Engine

from gis import ranking_output
from gis.field_entry import active_guidelines
from gis.queries import site_points
from gis.scoring import gather, ranking
from gis.xlsx import workbook_bytes
from sites.permissions import Actor, require
from sites.scoring.method import score_site
from sites.scoring.tables import BY_NAME
from sites.scoring.whatif import rank_order, scenario


def compare(engine: Engine, overrides: Mapping[str, Any], *, actor: Actor | None = None) -> list[dict[str, Any]]:
    """The scenario's ranking beside the official one, in the scenario's order.

    Each row: code, name, official rank, class and total, scenario rank, class and total, and ``moved`` (places
    gained, negative when lost). Scores are computed against the official run's guideline set and never stored.
    The app passes its ``actor``, who needs ``manage_scenarios`` (planners, admins); scripts pass none.
    """
    if actor is not None:
        require(actor, "manage_scenarios")
    official = {row["code"]: row for row in ranking(engine)}
    guidelines = active_guidelines(engine)
    with engine.connect() as conn:
        inputs = list(gather(conn, None, guidelines).values())
    with scenario(overrides):
        scored = [score_site(site, guidelines) for site in inputs]
    rows = rank_order([{"code": s.code, "class": s.priority_class, "total": s.total} for s in scored])
    before = {row["code"]: i for i, row in enumerate(
        rank_order([{"code": c, "class": r["priority_class"], "total": r["total"]} for c, r in official.items()]),
        start=1)}
    return [_row(i, row, official.get(row["code"]), before.get(row["code"])) for i, row in enumerate(rows, start=1)]


def _row(position: int, row: dict, official: dict | None, official_rank: int | None) -> dict[str, Any]:
    return {
        "code": row["code"], "name": official["name"] if official else None,
        "official_rank": official_rank, "official_class": official["priority_class"] if official else None,
        "official_total": round(official["total"], 2) if official else None,
        "scenario_rank": position, "scenario_class": row["class"], "scenario_total": round(row["total"], 2),
        "moved": (official_rank - position) if official_rank else None,
    }


def stability(engine: Engine, *, draws: int = 200, top: int = 10, seed: int = 1,
              actor: Actor | None = None) -> list[dict[str, Any]]:
    """Rank stability of every live site (Monte Carlo, in memory), with names; see sites.scoring.stability.

    As for :func:`compare`, an ``actor`` needs ``manage_scenarios``.
    """
    if actor is not None:
        require(actor, "manage_scenarios")
    from sites.scoring.stability import rank_stability

    guidelines = active_guidelines(engine)
    names = {row["code"]: row["name"] for row in ranking(engine)}
    with engine.connect() as conn:
        inputs = list(gather(conn, None, guidelines).values())
    rows = rank_stability(inputs, guidelines, draws=draws, top=top, seed=seed)
    return [dict(row, name=names.get(row["code"])) for row in rows]


def gpkg_bytes(engine: Engine, rows: list[dict[str, Any]], saved: Mapping[str, Any]) -> bytes:
    """The comparison as points in a GeoPackage layer ``whatif`` (EPSG:4326); the saved scenario (name, method
    version, date, values) is kept as layer metadata."""
    frame = ranking_output.points_frame(rows, site_points(engine))
    metadata = {**saved, "overrides": json.dumps(saved["overrides"]), "official_scores": "unchanged"}
    return ranking_output.gpkg_bytes(frame, "whatif", metadata)


def xlsx_bytes(rows: list[dict[str, Any]], saved: Mapping[str, Any]) -> bytes:
    """The comparison as a workbook: the scenario's name, method version, date and each changed factor beside its
    declared value above the table, so the sheet says what was assumed."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Scenario"
    sheet.append([f"What-if scenario: {saved['name']}"])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in (("Method", saved["method"]), ("Date", saved["date"]),
                         ("Official scores", "unchanged: this scenario was computed in memory")):
        sheet.append([label, value])
    _bold_row(sheet, ["Factor", "Declared", "Scenario"])
    for name, value in saved["overrides"].items():
        sheet.append([name, BY_NAME[name].value, value])
    sheet.append([])
    columns = list(rows[0]) if rows else ["code"]
    _bold_row(sheet, columns)
    for row in rows:
        sheet.append([row[c] for c in columns])
    return workbook_bytes(book)


def _bold_row(sheet, values: list) -> None:
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
