"""The embedded cluster: a throwaway one is initialised, started, used, stopped and started again."""

from __future__ import annotations

import shutil
import uuid

import psycopg
import pytest

from gis.cluster import Cluster
from gis.settings import Settings
from tests.conftest import ROOT


@pytest.fixture
def cluster():
    # Inside the checkout: as root the cluster runs as `postgres`, which cannot enter pytest's 0700 temp dirs.
    root = ROOT / ".local" / "test-clusters" / uuid.uuid4().hex[:8]
    cluster = Cluster(root)
    yield cluster
    cluster.down()
    shutil.rmtree(root, ignore_errors=True)


def test_cluster_lifecycle_keeps_data_and_avoids_5432(cluster):
    if Settings.from_env().database_url:
        pytest.skip("DATABASE_URL is set: this run uses an external server")
    url = cluster.up()
    assert cluster.port() != 5432 and cluster.running()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3.")
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    assert cluster.up() == url  # idempotent while running
    assert cluster.down() is True and not cluster.running()
    assert "stopped" in cluster.status()
    cluster.up()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone()[0] == 42
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url.replace(cluster.password(), "wrong-password"))
