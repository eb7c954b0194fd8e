"""Reference data: the contaminant catalogue and guideline sets, loaded from the cited CSVs in data/."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert

from gis import tables as t
from gis.services import write_audit
from sites.permissions import Actor, require

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_reference(engine: Engine, actor: Actor, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Insert or refresh the catalogue and guideline values (idempotent); return rows per table."""
    require(actor, "load_reference")
    contaminants = [_contaminant(r) for r in read_csv(data_dir / "contaminants.csv")]
    sets = [_guideline_set(r) for r in read_csv(data_dir / "guideline_sets.csv")]
    values = [_guideline_value(r) for r in read_csv(data_dir / "guidelines.csv")]
    with engine.begin() as conn:
        _upsert(conn, t.contaminant, contaminants, ["code"])
        _upsert(conn, t.guideline_set, sets, ["code"])
        _upsert(conn, t.guideline_value, values, ["set_code", "contaminant", "medium", "land_use"])
        counts = {"contaminant": len(contaminants), "guideline_set": len(sets), "guideline_value": len(values)}
        write_audit(conn, actor, "update", "reference", "catalogue", None, {"rows": counts, "from": str(data_dir)})
    return counts


def _upsert(conn, table, rows: list[dict], keys: list[str]) -> None:
    if not rows:
        return
    statement = pg_insert(table).values(rows)
    updates = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates))


def _contaminant(row: dict[str, str]) -> dict:
    return {
        "code": row["code"], "cas": row["cas"] or None, "name_en": row["name_en"], "name_ru": row["name_ru"],
        "name_kk": row["name_kk"], "grp": row["group"], "stockholm_annex": row["stockholm_annex"] or None,
        "minamata": row["minamata"] == "true", "rotterdam_annex3": row["rotterdam_annex3"] == "true",
        "basel_y": row["basel_y"] or None, "source": row["source"],
    }


def _guideline_set(row: dict[str, str]) -> dict:
    return {"code": row["code"], "name": row["name"], "jurisdiction": row["jurisdiction"],
            "year": int(row["year"]) if row["year"] else None, "source": row["source"]}


def _guideline_value(row: dict[str, str]) -> dict:
    return {"set_code": row["set_code"], "contaminant": row["contaminant"], "medium": row["medium"],
            "land_use": row["land_use"], "value": float(row["value"]), "unit": row["unit"],
            "verified": row["verified"] == "V", "source": row["source"]}
