"""Rankings rendered for people and programs: an aligned table, CSV, JSON, a formatted XLSX workbook, or points in a
GeoPackage; and the one atomic writer the CLI uses for them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from gis.xlsx import workbook_bytes

from sites.errors import InvalidInput
from sites.report_format import csv_cell

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
        writer.writerows({k: csv_cell(v) for k, v in {**r, **r["pathways"]}.items()} for r in records)
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
    return workbook_bytes(book)


def points_frame(rows: list[dict[str, Any]], points: Mapping[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    """``rows`` as points at their sites (``points``: code to longitude and latitude), in EPSG:4326.

    A row whose site has no point (archived since it was scored) is refused: a layer must not drop sites silently.
    """
    missing = [row["code"] for row in rows if row["code"] not in points]
    if missing:
        raise InvalidInput("site", ", ".join(missing[:5]), "a live site with a location for every row exported")
    frame = pd.DataFrame(rows)
    xy = [points[row["code"]] for row in rows]
    geometry = gpd.points_from_xy([x for x, _ in xy], [y for _, y in xy])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def gpkg_bytes(frame: gpd.GeoDataFrame, layer: str, metadata: Mapping[str, Any]) -> bytes:
    """One point layer in a GeoPackage, as bytes; ``metadata`` (method version, date...) is kept on the layer,
    where QGIS shows it and ``pyogrio.read_info`` reads it."""
    out = io.BytesIO()
    frame.to_file(out, driver="GPKG", layer=layer, layer_metadata={k: str(v) for k, v in metadata.items()})
    return out.getvalue()


def write_output(data: bytes | str, path: Path) -> None:
    """Write an export atomically: a reader never sees half a file, and a failed write leaves the old one."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidInput("output", str(path), "a file in an existing folder")
    handle, temporary = tempfile.mkstemp(suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
