"""Benchmark bulk imports of the real inventories in ../shared/data: medians of rounds on fresh databases."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from gis.cluster import Cluster
from gis.db import make_engine, migrate
from gis.import_mapping import load_mapping
from gis.reference import load_reference
from gis.services import Register
from gis.settings import Settings
from gis.site_import import import_file, parse_extent

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "real-inventories"
# (label, file, mapping, target): in this order, so samples find their NPL sites and VBS meets a non-empty register
STEPS = (
    ("US NPL sites into an empty register", "us_epa_npl_sites_hrs.csv", "us_epa_npl.json", "site"),
    ("Swiss VBS sites beside them (duplicate check)", "ch_vbs_polluted_sites.json", "ch_vbs.json", "site"),
    ("US concentrations as samples", "us_epa_superfund_concentrations.zip", "us_epa_concentrations.json", "sample"),
    ("US NPL again (nothing changes)", "us_epa_npl_sites_hrs.csv", "us_epa_npl.json", "site"),
)


def one_round(cluster: Cluster) -> dict[str, tuple[float, str]]:
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(cluster.admin_url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER sites").format(sql.Identifier(name)))
    try:
        with psycopg.connect(cluster.admin_url(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        engine = make_engine(cluster.url(name))
        migrate(engine)
        actor = Register(engine).actor()
        load_reference(engine, actor)
        results = {}
        for label, file, mapping, target in STEPS:
            started = time.perf_counter()
            report = import_file(engine, actor, SHARED / file, mapping=load_mapping(ROOT / "data/mappings" / mapping),
                                 target=target, extent=parse_extent("world"), valid_only=True)
            counts = (f"read {report.rows_read:,}, imported {report.imported:,}, unchanged {report.unchanged:,}, "
                      f"rejected {report.rejected:,}, warnings {len(report.warnings):,}")
            results[label] = (time.perf_counter() - started, counts)
        engine.dispose()
        return results
    finally:
        with psycopg.connect(cluster.admin_url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each on a fresh database (quote medians of >= 3)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"needs the real inventories in {SHARED}", file=sys.stderr)
        return 2
    cluster = Cluster(Settings.from_env().cluster_dir)
    rounds = [one_round(cluster) for _ in range(args.repeat)]
    print(f"{'step':48} {'median s':>9}  runs (s)")
    for label, *_ in STEPS:
        runs = [r[label][0] for r in rounds]
        print(f"{label:48} {statistics.median(runs):9.2f}  {' '.join(f'{x:.2f}' for x in runs)}")
        print(f"{'':48} {rounds[-1][label][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
