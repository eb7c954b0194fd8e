"""What the add/edit page needs besides the register's writes: catalogue, duplicate check, live exceedance, samples."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from gis import tables as t
from gis.scoring import DEFAULT_GUIDELINES, guideline_limits
from sites.units import normalise


def catalogue(engine: Engine) -> list[dict[str, Any]]:
    """Contaminants an inspector can pick: code, names and group, by English name."""
    c = t.contaminant
    query = select(c.c.code, c.c.cas, c.c.name_en, c.c.name_ru, c.c.grp).order_by(c.c.name_en)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def active_guidelines(engine: Engine) -> str:
    """The guideline set of the latest scoring run (the ranking's), or the default before any run."""
    with engine.connect() as conn:
        latest = conn.execute(select(t.score.c.guideline_set).order_by(t.score.c.id.desc()).limit(1)).scalar()
    return latest or DEFAULT_GUIDELINES


def exceedance(engine: Engine, contaminant: str, medium: str, value: float, unit: str,
               guidelines: str) -> dict[str, Any] | None:
    """The ratio of a result to its guideline value in ``guidelines``; None when the set has no value for it.

    Raises InvalidInput (from unit normalisation) when the unit does not fit the medium.
    """
    canonical, canonical_unit = normalise(value, unit, medium)
    with engine.connect() as conn:
        limit = guideline_limits(conn, guidelines).get((contaminant, medium))
    if limit is None or limit[1] != canonical_unit:
        return None
    return {"ratio": canonical / limit[0], "guideline": limit[0], "unit": canonical_unit, "set": guidelines,
            "value": canonical}


def possible_duplicates(engine: Engine, lat: float, lon: float, name: str | None, *, within_m: float = 500.0,
                        exclude_code: str | None = None) -> list[dict[str, Any]]:
    """Stored sites near the point or with a similar name, for the inspector to merge, link or continue."""
    from gis.duplicates import find_duplicates

    with engine.connect() as conn:
        return find_duplicates(conn, lat, lon, name, within_m=within_m, exclude_code=exclude_code)


def samples_of(engine: Engine, code: str) -> list[dict[str, Any]]:
    """A site's sample results, newest first, with the units as reported and as normalised."""
    s = t.sample
    query = (select(s.c.id, s.c.contaminant, s.c.medium, s.c.depth_m, s.c.sampled_on, s.c.qualifier, s.c.value,
                    s.c.unit, s.c.detection_limit, s.c.value_canonical, s.c.unit_canonical, s.c.laboratory,
                    s.c.created_by)
             .join(t.site, t.site.c.id == s.c.site_id).where(t.site.c.code == code)
             .order_by(func.coalesce(s.c.sampled_on, func.date(s.c.created_at)).desc(), s.c.id.desc()))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
