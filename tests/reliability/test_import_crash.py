"""The database killed in the middle of a bulk import: afterwards the import is all there or not there at all.

The test starts its own throw-away cluster (``gis.cluster.Cluster`` in a folder of its own, on a free port, never
5432), so the project cluster other tests use is never touched. It runs ``sites import`` on a generated CSV of
5,000 sites in a separate process, watches ``pg_stat_activity`` until that import's transaction is writing (its
sites inserted, their audit rows being written one by one), and then kills the server with SIGKILL: the
postmaster first, then its remaining processes, as the OOM killer or a power cut takes a whole server. (Left
alone, orphaned backends would each exit at their next wait; a restart needs them gone, and killing them keeps
the test quick and the moment of death exact.)

After a restart (PostgreSQL's crash recovery replays the WAL) the register must hold either the whole batch
(import_batch row, every site, every import_record, every audit row) or none of it, and running the same import
again must complete and store each row exactly once; a third run then finds every row unchanged.

Linux only, like the project. The test makes itself a child subreaper (prctl) while its cluster runs, so the
killed server processes become its children and it can reap them itself: on machines whose PID 1 reaps orphans
slowly, or never, a dead postmaster would otherwise linger as a zombie and look alive to ``pg_ctl``.
"""

from __future__ import annotations

import csv
import ctypes
import json
import os
import random
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from gis import tables as t
from gis.cluster import Cluster, ClusterError
from gis.db import make_engine, migrate
from sites import vocab
from tests.conftest import ROOT

ROWS = 5000
SOURCE = "crash-test"
APPLICATION = "crash-test-import"
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
REGIONS = {"550000000": (50.5, 53.5, 73.5, 78.5), "350000000": (46.5, 50.5, 68.0, 76.0),
           "230000000": (46.0, 48.5, 50.0, 55.0)}  # region KATO: min lat, max lat, min lon, max lon


# ---- the throw-away cluster -------------------------------------------------------------------------------------
def set_subreaper(on: bool) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


@pytest.fixture
def cluster():
    """A migrated register in a cluster of its own; stopped and deleted afterwards, whatever happened."""
    # Inside the checkout: as root the cluster runs as `postgres`, which cannot enter pytest's 0700 temp dirs.
    root = ROOT / ".local" / "test-clusters" / f"crash-{uuid.uuid4().hex[:8]}"
    cluster = Cluster(root)
    set_subreaper(True)
    try:
        cluster.up()
        engine = make_engine(cluster.url())
        migrate(engine)
        engine.dispose()
        yield cluster
    finally:
        stop(cluster)
        set_subreaper(False)
        shutil.rmtree(root, ignore_errors=True)


def stop(cluster: Cluster) -> None:
    """Stop cleanly when it runs (and reap the postmaster, our child); kill it when it cannot stop cleanly."""
    postmaster = postmaster_pid(cluster)
    try:
        stopped = cluster.down()
    except ClusterError:
        kill_server(cluster)
        return
    if stopped and postmaster is not None:
        reap(postmaster)


def postmaster_pid(cluster: Cluster) -> int | None:
    pid_file = cluster.data_dir / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def server_processes(postmaster: int) -> list[int]:
    """The postmaster's processes, live or zombie: its children, or (once it is dead) the orphans we now reap.

    Matched by their command name ``postgres`` (kept by zombies, unlike the command line), which also leaves out
    the import's own process, our child too.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # exited while we looked
        command, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if command == "postgres" and int(rest[1]) in (postmaster, os.getpid()):
            found.append(int(entry.name))
    return found


def kill_server(cluster: Cluster) -> int:
    """SIGKILL the postmaster, then what is left of the server; reap them all.

    Returns how many server processes there were besides the postmaster (most exit by themselves the moment the
    postmaster dies, as they notice at their next wait; the rest are killed).
    """
    postmaster = postmaster_pid(cluster)
    if postmaster is None or not Path(f"/proc/{postmaster}").exists():
        return 0
    os.kill(postmaster, signal.SIGKILL)
    reap(postmaster)
    rest = server_processes(postmaster)
    for pid in rest:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in rest:
        reap(pid)
    return len(rest)


def reap(pid: int, timeout: float = 30.0) -> None:
    """Wait until ``pid`` is gone: reap it when it is our child, else wait for whoever reaps it."""
    try:
        os.waitpid(pid, 0)
        return
    except ChildProcessError:
        pass
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, f"process {pid} of the killed server is still there"
        time.sleep(0.05)


# ---- the import ---------------------------------------------------------------------------------------------------
def write_sites_csv(path: Path, rows: int, seed: int = 7) -> Path:
    """A plausible inventory: distinct names, points inside their region's box, several code series."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "lat", "lon", "region", "activity", "precision", "stage"])
        for number in range(1, rows + 1):
            region = rng.choice(sorted(REGIONS))
            low_lat, high_lat, low_lon, high_lon = REGIONS[region]
            out.writerow([f"Crash test site {number}", f"{rng.uniform(low_lat, high_lat):.5f}",
                          f"{rng.uniform(low_lon, high_lon):.5f}", region, rng.choice(vocab.ACTIVITY),
                          "approximate", rng.choice(vocab.STAGE)])
    return path


def start_import(cluster: Cluster, csv_path: Path, log: Path) -> subprocess.Popen:
    """``sites import`` as a user runs it, in its own process, naming its session so it can be watched."""
    env = dict(os.environ, DATABASE_URL=f"{cluster.url()}?application_name={APPLICATION}")
    with log.open("w") as sink:
        return subprocess.Popen([str(ROOT / ".venv" / "bin" / "sites"), "import", str(csv_path), "--source", SOURCE,
                                 "--json"], env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)


def run_import(cluster: Cluster, csv_path: Path, log: Path) -> dict:
    process = start_import(cluster, csv_path, log)
    assert process.wait(timeout=300) == 0, log.read_text()[-2000:]
    return json.loads(log.read_text().strip().splitlines()[-1])


def wait_until_writing(cluster: Cluster, process: subprocess.Popen, timeout: float = 240.0) -> float:
    """Poll until the import's transaction has written (it has an xid) and is writing per-site audit rows.

    Returns when that was seen, in seconds after the import started.
    """
    started = time.monotonic()
    query = ("SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND backend_xid IS NOT NULL "
             "AND query LIKE 'INSERT INTO audit%%'")
    with psycopg.connect(cluster.admin_url("sites"), autocommit=True) as conn:
        while conn.execute(query, (APPLICATION,)).fetchone() is None:
            assert process.poll() is None, "the import ended before it could be killed: make the file larger"
            assert time.monotonic() - started < timeout, "the import never started writing"
            time.sleep(0.005)
    return time.monotonic() - started


def stored(cluster: Cluster) -> dict[str, int]:
    """Rows an import of sites writes, per table (audit split into per-site and per-batch rows)."""
    engine = make_engine(cluster.url())
    try:
        with engine.connect() as conn:
            def count(table, *where):
                return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

            return {
                "site": count(t.site), "distinct codes": conn.execute(
                    select(func.count(t.site.c.code.distinct()))).scalar_one(),
                "import_batch": count(t.import_batch), "import_record": count(t.import_record),
                "records of distinct sites": conn.execute(
                    select(func.count(t.import_record.c.entity_id.distinct()))).scalar_one(),
                "site audit": count(t.audit, t.audit.c.entity == "site"),
                "batch audit": count(t.audit, t.audit.c.entity == "import_batch"),
            }
    finally:
        engine.dispose()


def whole_import(rows: int) -> dict[str, int]:
    return {"site": rows, "distinct codes": rows, "import_batch": 1, "import_record": rows,
            "records of distinct sites": rows, "site audit": rows, "batch audit": 1}


NOTHING = dict.fromkeys(whole_import(0), 0)


# ---- the test -----------------------------------------------------------------------------------------------------
def test_import_killed_midway_is_all_or_nothing_and_a_rerun_stores_each_row_once(cluster, tmp_path):
    csv_path = write_sites_csv(tmp_path / "inventory.csv", ROWS)
    process = start_import(cluster, csv_path, tmp_path / "killed.log")
    try:
        writing_after = wait_until_writing(cluster, process)
        others = kill_server(cluster)
    finally:
        exit_code = process.wait(timeout=120)
    # The import lost its database: it must say so and fail, not report success.
    assert exit_code != 0, (tmp_path / "killed.log").read_text()[-2000:]

    cluster.up()  # crash recovery; the postmaster.pid left behind names a process that is gone
    after_crash = stored(cluster)
    assert after_crash in (NOTHING, whole_import(ROWS)), after_crash

    started = time.monotonic()
    rerun = run_import(cluster, csv_path, tmp_path / "rerun.log")
    rerun_seconds = time.monotonic() - started
    if after_crash == NOTHING:
        assert (rerun["imported"], rerun["unchanged"], rerun["rejected"]) == (ROWS, 0, 0), rerun
    else:
        assert (rerun["imported"], rerun["unchanged"], rerun["rejected"]) == (0, ROWS, 0), rerun
    assert stored(cluster) == whole_import(ROWS)

    again = run_import(cluster, csv_path, tmp_path / "again.log")
    assert (again["imported"], again["unchanged"], again["rejected"]) == (0, ROWS, 0), again
    assert stored(cluster) == whole_import(ROWS)  # no new batch: nothing was new
    state = "nothing" if after_crash == NOTHING else "everything"
    print(f"postmaster killed {writing_after:.1f} s into the import (with {others} other server processes); "
          f"after restart {state} was "
          f"stored; the rerun imported {rerun['imported']} rows in {rerun_seconds:.1f} s")
