"""Scoring runs: gather each site's inputs from PostGIS, score them with the pure method, store the history."""

from __future__ import annotations

import csv
import queue
import tempfile
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import IO, Iterable

import orjson
from sqlalchemy import Connection, Engine, select, text

from gis import tables as t
from gis.exposure import exposures, stream_exposures
from gis.public import rows_for
from gis.services import write_audit
from sites.errors import InvalidInput, SitesError
from sites.i18n import localize_site
from sites.permissions import Actor, require
from sites.scoring.method import Result, Score, SiteInputs, Substance, score_site
from sites.scoring.tables import METHOD_NAME, OVERRIDES
from sites.units import canonical_unit, normalise

DEFAULT_GUIDELINES = "kz_pdk_soil"
LAND_USE_PREFERENCE = ("residential", "any", "agricultural", "drinking")


@dataclass
class Run:
    """What a scoring run did: the scores themselves are in the history table, not held in memory."""

    method: str
    guidelines: str
    method_version: str = ""
    classes: Counter = field(default_factory=Counter)

    @property
    def sites(self) -> int:
        return sum(self.classes.values())

    def count(self, score: Score) -> None:
        self.method_version = score.method_version
        self.classes[score.priority_class] += 1


def rescore(engine: Engine, actor: Actor, site_ids: Iterable[int] | None = None, *,
            method: str = METHOD_NAME, guidelines: str = DEFAULT_GUIDELINES) -> Run:
    """Score every live site (or ``site_ids``) and append the scores to the history, in one transaction."""
    require(actor, "run_scoring")
    if OVERRIDES.get():  # a what-if scenario is being computed in this context: never store its values
        raise SitesError("a what-if scenario is active; official scores are computed with the declared method only")
    if method != METHOD_NAME:
        raise InvalidInput("method", method, f"one of the available methods: {METHOD_NAME}")
    ids = None if site_ids is None else sorted(set(site_ids))
    run = Run(method, guidelines)
    # Scores go to a spooled file as they are made (kept in memory up to 64 MB, on disk beyond): a national run of
    # a million sites would otherwise hold every explanation in memory until the COPY.
    with engine.begin() as conn, tempfile.SpooledTemporaryFile(64 * 2**20, mode="w+", newline="") as rows:
        _check_guideline_set(conn, guidelines)
        _score_all(conn, ids, guidelines, csv.writer(rows), run)
        _store(conn, rows)
        write_audit(conn, actor, "insert", "score", "run", None,
                    {"method": method, "guidelines": guidelines, "sites": run.sites,
                     "scope": "all" if ids is None else ids[:50]})
    return run


def rescore_changed(engine: Engine, site_ids: Iterable[int] | None) -> Run | None:
    """Rescore changed sites (None: all) with the latest run's configuration; nothing if never scored."""
    with engine.connect() as conn:
        latest = conn.execute(
            select(t.score.c.method, t.score.c.guideline_set).order_by(t.score.c.id.desc()).limit(1)
        ).first()
    if latest is None:
        return None
    from gis.services import Register

    return rescore(engine, Register(engine).actor(), site_ids, method=latest.method, guidelines=latest.guideline_set)


def gather(conn: Connection, site_ids: list[int] | None, guidelines: str) -> dict[int, SiteInputs]:
    """Every input of the method for the chosen sites (for inspection and tests; scoring streams instead)."""
    facts = _site_facts(conn, site_ids, guidelines)
    return {site_id: _inputs(facts, site_id, exposure)
            for site_id, exposure in exposures(conn, site_ids).items() if site_id in facts[0]}


def _score_all(conn: Connection, site_ids: list[int] | None, guidelines: str, out, run: Run) -> None:
    """Score while PostGIS is still computing exposure: a reader thread streams the rows.

    The server works on one core and Python scores on the other, so a national run takes about as long as the
    slower of the two instead of their sum. The connection is used by the reader thread alone until it ends.
    """
    facts = _site_facts(conn, site_ids, guidelines)
    chunks: queue.Queue = queue.Queue(maxsize=4)
    failure: list[BaseException] = []
    stop = threading.Event()
    reader = threading.Thread(target=_read_exposures, args=(conn, site_ids, chunks, failure, stop), daemon=True)
    reader.start()
    try:
        while (chunk := chunks.get()) is not _DONE:
            for site_id, exposure in chunk:
                if site_id in facts[0]:
                    score = score_site(_inputs(facts, site_id, exposure), guidelines)
                    out.writerow(_row(site_id, score))
                    run.count(score)
    finally:
        stop.set()
        _drain(chunks, reader)
    if failure:
        raise failure[0]


def _drain(chunks: queue.Queue, reader: threading.Thread) -> None:
    """Wait for the reader to let go of the connection; it may be blocked on a full queue when scoring failed."""
    while reader.is_alive():
        try:
            chunks.get(timeout=0.1)
        except queue.Empty:
            pass
    reader.join()


_DONE = object()


def _read_exposures(conn: Connection, site_ids, chunks: queue.Queue, failure: list[BaseException],
                    stop: threading.Event) -> None:
    try:
        for chunk in stream_exposures(conn, site_ids):
            if stop.is_set():
                break
            chunks.put(chunk)
    except BaseException as error:  # handed to the scoring thread, which raises it
        failure.append(error)
    finally:
        chunks.put(_DONE)


def _site_facts(conn: Connection, site_ids: list[int] | None, guidelines: str) -> tuple[dict, dict, dict]:
    return _sites(conn, site_ids), _substances(conn, site_ids), _results(conn, site_ids, guidelines)


def _inputs(facts: tuple[dict, dict, dict], site_id: int, exposure) -> SiteInputs:
    sites, substances, results = facts
    row = sites[site_id]
    return SiteInputs(
        code=row["code"], activity=row["activity"], containment=row["containment"],
        location_precision=row["location_precision"], waste_mass_t=row["waste_mass_t"], area_ha=row["area_ha"],
        substances=tuple(substances.get(site_id, ())), results=tuple(results.get(site_id, ())), exposure=exposure,
    )


def _check_guideline_set(conn: Connection, code: str) -> None:
    known = list(conn.execute(select(t.guideline_set.c.code).order_by(t.guideline_set.c.code)).scalars())
    if code not in known:
        raise InvalidInput("guidelines", code, "one of the loaded guideline sets: " + (", ".join(known) or "none loaded"))


def _scope(column, site_ids: list[int] | None):
    return column.in_(site_ids) if site_ids is not None else True


def _sites(conn: Connection, site_ids: list[int] | None) -> dict[int, dict]:
    query = select(t.site.c.id, t.site.c.code, t.site.c.activity, t.site.c.containment, t.site.c.location_precision,
                   t.site.c.waste_mass_t, t.site.c.area_ha).where(~t.site.c.archived, _scope(t.site.c.id, site_ids))
    return {row["id"]: dict(row) for row in conn.execute(query).mappings()}


def _substances(conn: Connection, site_ids: list[int] | None) -> dict[int, list[Substance]]:
    sc, c = t.site_contaminant, t.contaminant
    query = select(sc.c.site_id, sc.c.contaminant, c.c.name_en, c.c.grp, c.c.stockholm_annex, sc.c.medium,
                   sc.c.status, sc.c.quantity_t).join(c, c.c.code == sc.c.contaminant).where(_scope(sc.c.site_id, site_ids))
    grouped = defaultdict(list)
    for row in conn.execute(query).mappings():
        grouped[row["site_id"]].append(Substance(
            row["contaminant"], row["name_en"], row["grp"], bool(row["stockholm_annex"]), row["medium"],
            row["status"] == "confirmed", row["quantity_t"]))
    return grouped


def _results(conn: Connection, site_ids: list[int] | None, guidelines: str) -> dict[int, list[Result]]:
    limits = guideline_limits(conn, guidelines)
    s = t.sample
    query = select(s.c.site_id, s.c.contaminant, s.c.medium, s.c.value_canonical, s.c.unit_canonical,
                   s.c.qualifier, s.c.detection_limit, s.c.value, s.c.unit).where(_scope(s.c.site_id, site_ids))
    grouped = defaultdict(list)
    for row in conn.execute(query).mappings():
        limit = limits.get((row["contaminant"], row["medium"]))
        same_unit = limit is not None and limit[1] == row["unit_canonical"]
        detection = _canonical_detection_limit(row)
        grouped[row["site_id"]].append(Result(
            row["contaminant"], row["medium"], row["value_canonical"], row["qualifier"], detection,
            limit[0] if same_unit else None))
    return grouped


def _canonical_detection_limit(row) -> float | None:
    if row["detection_limit"] is None:
        return None
    return normalise(row["detection_limit"], row["unit"], row["medium"])[0]


def guideline_limits(conn: Connection, guidelines: str) -> dict[tuple[str, str], tuple[float, str]]:
    """(contaminant, medium) -> (value, canonical unit) of one set; land use by a fixed preference."""
    g = t.guideline_value
    rows = conn.execute(select(g.c.contaminant, g.c.medium, g.c.land_use, g.c.value, g.c.unit)
                        .where(g.c.set_code == guidelines)).mappings().all()
    rank = {use: i for i, use in enumerate(LAND_USE_PREFERENCE)}
    chosen: dict[tuple[str, str], tuple[int, float, str]] = {}
    for row in rows:
        try:
            limit, unit = normalise(row["value"], canonical_unit(row["unit"]), row["medium"])
        except SitesError:
            continue  # e.g. ng TEQ/kg: comparable only with TEQ results, which samples do not carry yet
        key, order = (row["contaminant"], row["medium"]), rank.get(row["land_use"], len(rank))
        if key not in chosen or order < chosen[key][0]:
            chosen[key] = (order, limit, unit)
    return {key: (limit, unit) for key, (_, limit, unit) in chosen.items()}


SCORE_COLUMNS = ("site_id", "method", "method_version", "guideline_set", "pathways", "hazard", "exposure", "total",
                 "priority_class", "confidence", "explanation")


def _row(site_id: int, s: Score) -> tuple:
    return (site_id, s.method, s.method_version, s.guideline_set, _json(s.pathways),
            s.hazard, s.exposure, s.total, s.priority_class, s.confidence, _json(s.explanation))


def _store(conn: Connection, rows: IO[str]) -> None:
    """Append the spooled scores with COPY: a national rescoring writes 100,000 rows, which INSERT would make slow."""
    rows.seek(0)
    statement = f"COPY score ({', '.join(SCORE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        while block := rows.read(2**20):
            copy.write(block)


def _json(value) -> str:
    """JSON text for a jsonb column; orjson because a national run serialises 100,000 explanations."""
    return orjson.dumps(value).decode()


def ranking(engine: Engine, *, top: int | None = None, region: str | None = None,
            actor: Actor | None = None, lang: str = "en") -> list[dict]:
    """Latest score of every live site, highest first (class I after the scored classes).

    For the public ``actor`` a confidential site's explanation is left out (``sites.disclosure``): its distances
    to towns and wells would place the site more exactly than the public view does. Site names are in ``lang``
    where the register has them; ``region`` stays the English name, which pages use as a key and label themselves.
    """
    query = text("""
        SELECT v.code, v.name, s.name_en, v.name_ru, v.name_kk, v.region, v.region_kato, sc.priority_class,
               sc.total, sc.hazard, sc.exposure,
               sc.pathways, sc.confidence, sc.explanation, sc.method, sc.method_version, sc.guideline_set,
               sc.computed_at, s.confidential
        FROM sites v
        JOIN site s ON s.id = v.id
        JOIN LATERAL (SELECT * FROM score WHERE score.site_id = v.id ORDER BY computed_at DESC, id DESC LIMIT 1) sc ON true
        WHERE (CAST(:region AS text) IS NULL OR v.region_kato = :region)
        ORDER BY (sc.priority_class = 'I'), sc.total DESC, v.code
        LIMIT :top
    """)
    with engine.connect() as conn:
        rows = rows_for(actor, conn.execute(query, {"region": region, "top": top}).mappings())
    for row in rows:
        del row["confidential"]  # only the public form needed it
        localize_site(row, lang, region=False)
    return rows
