"""Rankings rendered for people and programs: an aligned table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

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
