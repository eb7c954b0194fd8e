"""What-if rankings: every live site rescored in memory under a scenario, beside the official ranking."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import Engine

from gis.field_entry import active_guidelines
from gis.scoring import gather, ranking
from sites.scoring.method import score_site
from sites.scoring.whatif import rank_order, scenario


def compare(engine: Engine, overrides: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The scenario's ranking beside the official one, in the scenario's order.

    Each row: code, name, official rank, class and total, scenario rank, class and total, and ``moved`` (places
    gained, negative when lost). Scores are computed against the official run's guideline set and never stored.
    """
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


def stability(engine: Engine, *, draws: int = 200, top: int = 10, seed: int = 1) -> list[dict[str, Any]]:
    """Rank stability of every live site (Monte Carlo, in memory), with names; see sites.scoring.stability."""
    from sites.scoring.stability import rank_stability

    guidelines = active_guidelines(engine)
    names = {row["code"]: row["name"] for row in ranking(engine)}
    with engine.connect() as conn:
        inputs = list(gather(conn, None, guidelines).values())
    rows = rank_stability(inputs, guidelines, draws=draws, top=top, seed=seed)
    return [dict(row, name=names.get(row["code"])) for row in rows]
