"""Read queries the app and exports share: built as SQLAlchemy expressions, run with bound parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, case, func, select

from gis import tables as t
from gis.public import rows_for
from sites.i18n import FALLBACK, localize_site, parse_language
from sites.permissions import Actor

MAX_MAP_SITES = 200_000


def map_sites(engine: Engine, regions: list[str] | None = None, *, actor: Actor | None = None,
              lang: str = "en") -> list[dict[str, Any]]:
    """Live sites for the map: code, names, stage, class, location, contaminant names and the confidential flag.

    ``regions`` (KATO codes) keeps only those regions' sites; None or empty means the whole register. For the
    public ``actor`` the rows are in their public form (``gis.public``): confidential sites generalised. Site and
    contaminant names are in ``lang`` where the register has them.
    """
    view = t.sites_view
    lang = parse_language(lang)
    contaminant = func.coalesce(*(t.contaminant.c[f"name_{k}"] for k in FALLBACK[lang]))
    names = (
        select(func.string_agg(func.distinct(contaminant), ", "))
        .select_from(t.site_contaminant.join(t.contaminant))
        .where(t.site_contaminant.c.site_id == view.c.id)
        .scalar_subquery()
    )
    query = select(
        view.c.code, view.c.name, t.site.c.name_en, view.c.name_ru, view.c.name_kk, view.c.region,
        view.c.region_kato, view.c.workflow_stage, view.c.priority_class, view.c.score,
        view.c.location_precision, func.ST_Y(view.c.geom).label("lat"), func.ST_X(view.c.geom).label("lon"),
        names.label("contaminants"), t.site.c.confidential,
    ).select_from(view.join(t.site, t.site.c.id == view.c.id)).order_by(view.c.code).limit(MAX_MAP_SITES)
    if regions:
        query = query.where(view.c.region_kato.in_(regions))
    with engine.connect() as conn:
        rows = rows_for(actor, conn.execute(query).mappings())
    # ``region`` stays the English name: pages filter by it and label it in the reader's language themselves.
    return [localize_site(row, lang, region=False) for row in rows]


def register_version(engine: Engine) -> tuple[int, int]:
    """(last audit row, last score row): changes whenever a site, its findings or its scores change.

    Every edit writes an audit row in the same transaction and every scoring run adds score rows, so a page may
    keep what it read for as long as this pair stays the same. Both are primary-key lookups.
    """
    with engine.connect() as conn:
        audit = conn.execute(select(func.max(t.audit.c.id))).scalar() or 0
        score = conn.execute(select(func.max(t.score.c.id))).scalar() or 0
    return int(audit), int(score)


def region_counts(engine: Engine, lang: str = "en") -> list[dict[str, Any]]:
    """Regions that hold live sites, with their KATO code, name in ``lang`` and number of sites, by name."""
    # From the site table, not the sites view: the view joins each site's latest score, which counting does not need.
    s, r = t.site, t.region
    name = func.min(r.c[f"name_{parse_language(lang)}"])
    query = (select(s.c.region_kato.label("kato"), name.label("name"), func.count().label("sites"))
             .select_from(s.outerjoin(r, r.c.kato == s.c.region_kato)).where(~s.c.archived)
             .group_by(s.c.region_kato).order_by(name))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def receptor_points(engine: Engine, kind: str, limit: int = 2000) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The largest ``limit`` receptors of one kind from the layer exposure counts, and that layer's description
    (name, source, licence, feature_count).

    A national settlement layer holds about 10,000 places; drawing every one makes the map page take tens of
    seconds, so the map shows the most populous and says how many it leaves out.
    """
    layer = (select(t.receptor_layer.c.id).where(t.receptor_layer.c.kind == kind)
             .order_by(t.receptor_layer.c.loaded_at.desc(), t.receptor_layer.c.id.desc()).limit(1).scalar_subquery())
    where = (t.receptor.c.kind == kind) & (t.receptor.c.layer_id == layer)
    query = (
        select(t.receptor.c.name, t.receptor.c.population,
               func.ST_Y(func.ST_PointOnSurface(t.receptor.c.geom)).label("lat"),
               func.ST_X(func.ST_PointOnSurface(t.receptor.c.geom)).label("lon"))
        .where(where)
        .order_by(t.receptor.c.population.desc().nulls_last(), t.receptor.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        meta = conn.execute(select(t.receptor_layer.c.name, t.receptor_layer.c.source, t.receptor_layer.c.licence,
                                   t.receptor_layer.c.feature_count).where(t.receptor_layer.c.id == layer)).mappings().first()
        return [dict(r) for r in conn.execute(query).mappings()], dict(meta or {})


def score_history(engine: Engine, code: str) -> list[dict[str, Any]]:
    """Every stored score of one site, oldest first: when, method and version, guideline set, class, total."""
    s = t.score
    query = (select(s.c.computed_at, s.c.method, s.c.method_version, s.c.guideline_set, s.c.priority_class,
                    s.c.total, s.c.confidence)
             .join(t.site, t.site.c.id == s.c.site_id).where(t.site.c.code == code)
             .order_by(s.c.computed_at, s.c.id))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


# A site falls under a convention when any of its contaminants does, as the catalogue (data/contaminants.csv)
# marks them: a Stockholm annex, Minamata (mercury), Rotterdam Annex III, a Basel Y-code.
CONVENTIONS = ("Stockholm", "Minamata", "Rotterdam", "Basel")


def _convention_rules() -> tuple:
    c = t.contaminant.c
    return (c.stockholm_annex.isnot(None), c.minamata, c.rotterdam_annex3, c.basel_y.isnot(None))


def site_attributes(engine: Engine) -> list[dict[str, Any]]:
    """What planners filter the ranking by, per live site: stage, activity, district (KATO and, where loaded
    boundaries name it, its name), contaminant codes and the conventions they fall under (comma-separated)."""
    sc = t.site_contaminant
    codes = (select(func.string_agg(func.distinct(sc.c.contaminant), ","))
             .where(sc.c.site_id == t.site.c.id).scalar_subquery())
    flags = [case((func.bool_or(rule), name)) for name, rule in zip(CONVENTIONS, _convention_rules())]
    conventions = (select(func.concat_ws(",", *flags)).select_from(sc.join(t.contaminant))
                   .where(sc.c.site_id == t.site.c.id).scalar_subquery())
    b = t.boundary.c
    district = (select(func.coalesce(b.name_en, b.name_ru, b.name_kk))
                .where(b.level == "district", b.kato == t.site.c.district_kato).limit(1).scalar_subquery())
    query = select(t.site.c.code, t.site.c.stage, t.site.c.activity, t.site.c.district_kato,
                   district.label("district"), codes.label("contaminant_codes"),
                   conventions.label("conventions")).where(~t.site.c.archived)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def site_points(engine: Engine, *, actor: Actor | None = None) -> dict[str, tuple[float, float]]:
    """Longitude and latitude of every live site by code, to export rankings and programmes as points (for the
    public ``actor``, confidential sites generalised)."""
    query = select(t.site.c.code, func.ST_X(t.site.c.geom).label("lon"), func.ST_Y(t.site.c.geom).label("lat"),
                   t.site.c.confidential).where(~t.site.c.archived)
    with engine.connect() as conn:
        rows = rows_for(actor, conn.execute(query).mappings())
    return {row["code"]: (row["lon"], row["lat"]) for row in rows}
