"""Rankings rendered for people and programs: an aligned table, CSV, JSON or a formatted XLSX workbook."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from openpyxl import Workbook
from openpyxl.styles import Font

COLUMNS = ("rank", "code", "class", "total", "hazard", "exposure", "confidence", "region", "name")


def render(rows: list[dict], fmt: str) -> str:
    records = [_record(i, row) for i, row in enumerate(rows, start=1)]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2, default=str) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS + ("groundwater", "surface_water", "soil", "air",
                                                          "method", "guidelines"), extrasaction="ignore")
        writer.writeheader()
        writer.writerows({**r, **r["pathways"]} for r in records)
        return out.getvalue()
    return _table(records)


def _record(position: int, row: dict) -> dict:
    return {
        "rank": position, "code": row["code"], "name": row["name"], "region": row["region"],
        "class": row["priority_class"], "total": round(row["total"], 2), "hazard": round(row["hazard"], 2),
        "exposure": round(row["exposure"], 2), "confidence": round(row["confidence"], 2),
        "pathways": {k: round(v, 2) for k, v in row["pathways"].items()},
        "method": f"{row['method']} {row['method_version']}", "guidelines": row["guideline_set"],
        "explanation": row["explanation"],
    }


def _table(records: list[dict]) -> str:
    lines = [COLUMNS] + [tuple(str(r[c] if r[c] is not None else "") for c in COLUMNS) for r in records]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS) - 1)]
    out = []
    for line in lines:
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1])
    footer = f"method {records[0]['method']}, guidelines {records[0]['guidelines']}" if records else ""
    return "\n".join(out) + "\n" + footer + "\n"


XLSX_COLUMNS = COLUMNS + ("groundwater", "surface_water", "soil", "air")


def render_xlsx(rows: list[dict], *, title: str = "Ranking of legacy pollution sites") -> bytes:
    """The ranking as a workbook a ministry reader can file: the method, version, guideline set and date on the sheet
    above the table, a frozen header, and one row per site in rank order."""
    records = [_record(i, row) for i, row in enumerate(rows, start=1)]
    book = Workbook()
    sheet = book.active
    sheet.title = "Ranking"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=14)
    method = records[0]["method"] if records else "no scores"
    guidelines = records[0]["guidelines"] if records else ""
    for label, value in (("Method", method), ("Guideline set", guidelines), ("Exported", dt.date.today().isoformat()),
                         ("Sites", len(records))):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(list(XLSX_COLUMNS))
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = f"A{header + 1}"  # a string: sheet.cell() would create the row and push the data down
    for record in records:
        sheet.append([record[c] for c in COLUMNS] + [record["pathways"].get(p) for p in XLSX_COLUMNS[len(COLUMNS):]])
    sheet.column_dimensions["I"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
