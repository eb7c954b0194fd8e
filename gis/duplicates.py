"""The duplicate check before a site is saved: live sites close by, or with a similar name in any language.

Closeness is geodesic: ``ST_DWithin(geography(geom), ...)``, so the GiST expression index ``ix_site_geog`` is used
(a CAST would not match it, see STACK-FACTS). Name likeness is pg_trgm's ``word_similarity`` of the typed name
against every name of a site in one lower-cased string, the expression :data:`NAMES` that the GIN index
``ix_site_names_trgm`` (migration 0003) is built on; ``<%`` is the operator that index serves.
"""

from __future__ import annotations

import math

from sqlalchemy import Connection, text

from sites.errors import InvalidInput

# Must stay character for character the expression of ix_site_names_trgm, or the index is not used.
NAMES = "lower(coalesce(name_en, '') || ' ' || coalesce(name_ru, '') || ' ' || coalesce(name_kk, ''))"

MAX_WITHIN_M = 50_000.0
# A similar name counts within this distance; further away only a near-identical name does. Measured on the demo:
# "Pesticide store at Shieli" matched "Former pesticide storehouse, Kyzylkairat" (0.60) 1,000 km apart, and
# importing the Swiss register beside the US one gave 94 such cross-continent warnings.
NAME_WITHIN_M = 50_000.0
SAME_NAME = 0.8
MAX_LIMIT = 1000
_THRESHOLD = "pg_trgm.word_similarity_threshold"
_SEQSCAN = "enable_seqscan"

# For each point (and name) of the input, two candidate sets, each answerable from its own index, then scored and
# ranked; every value is a bound parameter. One statement checks a whole import.
DUPLICATES_SQL = text(f"""
WITH p AS (
    SELECT u.i, geography(ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326)) AS g, lower(u.name) AS name, u.exclude_code
    FROM unnest(CAST(:lats AS float8[]), CAST(:lons AS float8[]), CAST(:names AS text[]),
                CAST(:exclude_codes AS text[])) WITH ORDINALITY AS u(lat, lon, name, exclude_code, i)
), scored AS (
    SELECT p.i, s.code, coalesce(s.name_en, s.name_ru, s.name_kk) AS name, ST_Y(s.geom) AS lat, ST_X(s.geom) AS lon,
           ST_Distance(geography(s.geom), p.g) AS distance_m,
           ST_DWithin(geography(s.geom), p.g, :within_m) AS near,
           word_similarity(p.name, {NAMES}) AS name_similarity
    FROM p
    CROSS JOIN LATERAL (
        SELECT c.id FROM site c WHERE NOT c.archived AND ST_DWithin(geography(c.geom), p.g, :within_m)
        UNION
        SELECT c.id FROM site c WHERE NOT c.archived AND p.name <% {NAMES}
    ) candidate
    JOIN site s ON s.id = candidate.id
    WHERE s.code IS DISTINCT FROM p.exclude_code
), kept AS (
    SELECT *, row_number() OVER (PARTITION BY i ORDER BY near DESC, CASE WHEN near THEN distance_m END,
                                 name_similarity DESC NULLS LAST, distance_m, code) AS rank
    FROM scored
    WHERE near OR (name_similarity >= :min_similarity
                   AND (distance_m <= :name_within_m OR name_similarity >= :same_name))
)
SELECT i, code, name, lat, lon, distance_m, near, name_similarity FROM kept WHERE rank <= :limit ORDER BY i, rank
""")


def find_duplicates(conn: Connection, lat: float, lon: float, name: str | None, *, within_m: float = 500.0,
                    min_similarity: float = 0.45, exclude_code: str | None = None, limit: int = 10) -> list[dict]:
    """Live sites that may be the one about to be saved: within ``within_m`` metres, or with a similar name.

    Parameters
    ----------
    conn
        An open connection (in a transaction or AUTOCOMMIT); its settings are left as found.
    lat, lon
        The new site's point, decimal degrees WGS84.
    name
        Any of its names (English, Russian or Kazakh); ``None`` or blank checks distance only.
    within_m
        Sites closer than this many metres (geodesic) are reported whatever their name; 0 < within_m <= 50,000.
    min_similarity
        Sites within :data:`NAME_WITHIN_M` whose names reach this pg_trgm word similarity are reported, and sites
        at any distance whose names reach :data:`SAME_NAME`; 0 < value <= 1.
    exclude_code
        The site's own code when an existing site is edited, so it does not find itself.
    limit
        At most this many sites, 1 to 1000.

    Returns
    -------
    list of dict
        ``code``, ``name`` (first of English, Russian, Kazakh), ``lat``, ``lon``, ``distance_m``,
        ``name_similarity`` (``None``
        without a name) and ``reason`` such as ``"312 m away"`` or ``"similar name (0.62)"``: sites within the
        distance first, nearest first, then sites found by name only, most similar first.

    Raises
    ------
    InvalidInput
        For a point outside -90..90 / -180..180, or ``within_m``, ``min_similarity`` or ``limit`` out of range.

    Examples
    --------
    >>> find_duplicates(conn, 52.2871, 76.9674, "Павлодарский химзавод")  # doctest: +SKIP
    [{'code': 'KZ-PAV-0001', 'name': 'Pavlodar chemical plant', 'distance_m': 312.4, 'name_similarity': 0.6,
      'reason': '312 m away, similar name (0.60)'}]
    """
    return find_duplicates_many(conn, [(lat, lon, name, exclude_code)], within_m=within_m,
                                min_similarity=min_similarity, limit=limit)[0]


def find_duplicates_many(conn: Connection, points: list[tuple[float, float, str | None, str | None]], *,
                         within_m: float = 500.0, min_similarity: float = 0.45, limit: int = 10) -> list[list[dict]]:
    """:func:`find_duplicates` for many new sites at once, in one statement (a bulk import checks every row).

    ``points`` are (lat, lon, name, exclude_code); the result holds one list per point, in the same order.
    """
    for lat, lon, *_ in points:
        _check_arguments(lat, lon, within_m, min_similarity, limit)
    if not points:
        return []
    names = [name.strip() if name and name.strip() else None for _, _, name, _ in points]
    params = dict(lats=[p[0] for p in points], lons=[p[1] for p in points], names=names,
                  exclude_codes=[p[3] for p in points], within_m=within_m, min_similarity=min_similarity,
                  limit=limit, name_within_m=NAME_WITHIN_M, same_name=SAME_NAME)
    # The index answers ``<%`` only at the session's threshold: lower it for this query, then put it back. Set for
    # the session, not the transaction, so it also holds on an AUTOCOMMIT connection; a failed transaction's
    # rollback undoes the change anyway. Sequential scans are refused for the same span: the planner prices
    # word_similarity too low and scans a small register for every row (measured on 1,762 sites: 11 ms a row
    # scanning, 2.4 ms through ix_site_names_trgm).
    previous = {name: _setting(conn, name) for name in (_THRESHOLD, _SEQSCAN)}
    _set(conn, _THRESHOLD, str(min_similarity))
    _set(conn, _SEQSCAN, "off")
    try:
        rows = conn.execute(DUPLICATES_SQL, params).mappings().all()
    finally:
        for name, value in previous.items():
            _set(conn, name, value)
    found: list[list[dict]] = [[] for _ in points]
    for row in rows:
        found[row["i"] - 1].append(_result(row, min_similarity))
    return found


def _check_arguments(lat: float, lon: float, within_m: float, min_similarity: float, limit: int) -> None:
    _check_range("lat", lat, -90.0, 90.0, "a latitude in decimal degrees from -90 to 90")
    _check_range("lon", lon, -180.0, 180.0, "a longitude in decimal degrees from -180 to 180")
    _check_range("within_m", within_m, 0.0, MAX_WITHIN_M,
                 f"a distance in metres above 0 and at most {MAX_WITHIN_M:,.0f}", open_low=True)
    _check_range("min_similarity", min_similarity, 0.0, 1.0, "a similarity above 0 and at most 1", open_low=True)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", limit, f"a whole number from 1 to {MAX_LIMIT}")


def _check_range(field: str, value: float, low: float, high: float, expected: str, open_low: bool = False) -> None:
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    if not math.isfinite(number) or number > high or number < low or (open_low and number == low):
        raise InvalidInput(field, value, expected)


def _setting(conn: Connection, name: str) -> str:
    # None: pg_trgm was not loaded in this session before; its built-in default then applies.
    value = conn.execute(text("SELECT current_setting(:name, true)"), {"name": name}).scalar()
    return {_THRESHOLD: "0.6"}.get(name, "on") if value is None else value


def _set(conn: Connection, name: str, value: str) -> None:
    conn.execute(text("SELECT set_config(:name, :value, false)"), {"name": name, "value": value})


def _result(row, min_similarity: float) -> dict:
    similarity = None if row["name_similarity"] is None else round(float(row["name_similarity"]), 2)
    reasons = [_distance_text(row["distance_m"])] if row["near"] else []
    if similarity is not None and row["name_similarity"] >= min_similarity:
        reasons.append(f"similar name ({similarity:.2f})")
    return {"code": row["code"], "name": row["name"], "lat": row["lat"], "lon": row["lon"],
            "distance_m": round(float(row["distance_m"]), 1),
            "name_similarity": similarity, "reason": ", ".join(reasons)}


def _distance_text(metres: float) -> str:
    return f"{metres:.0f} m away" if metres < 1000 else f"{metres / 1000:.1f} km away"
