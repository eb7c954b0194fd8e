"""Shared test set-up: a real PostGIS (migrated template, fresh database per module) and the no-skip rule."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from gis.cluster import Cluster
from gis.db import make_engine, migrate
from gis.settings import Settings
from sites.errors import SitesError

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
TEMPLATE = f"sites_test_tmpl_{os.getpid()}_0"
# Tests find buttons and texts by their English words; the app's own default (Russian) is tested page by page in
# tests/app/test_languages.py. Apps the browser tests start inherit this.
os.environ["SITES_LANG"] = "en"


def pytest_report_header(config):
    try:
        settings = Settings.from_env()
        url = settings.database_url or Cluster(settings.cluster_dir).url()
        with psycopg.connect(url, connect_timeout=3) as conn:
            full = conn.execute("SELECT postgis_full_version()").fetchone()[0]
        return [f"PostGIS: {full}"]
    except (psycopg.Error, OSError, SitesError) as error:  # the header must never break the run
        return [f"PostGIS: unavailable ({type(error).__name__})"]


def pytest_sessionfinish(session, exitstatus):
    """With CI=true or SITES_FAIL_ON_SKIP set, a skipped test fails the run."""
    if not (os.environ.get("CI") == "true" or os.environ.get("SITES_FAIL_ON_SKIP")):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"FAILED: {len(skipped)} test(s) skipped; skipping is not allowed here", red=True)
        session.exitstatus = 1


def _admin_url(database: str = "postgres") -> str:
    settings = Settings.from_env()
    if settings.database_url:
        return make_url(settings.database_url).set(database=database).render_as_string(hide_password=False)
    return Cluster(settings.cluster_dir).admin_url(database)


def app_url(database: str) -> str:
    """URL of ``database`` for the role the app uses."""
    settings = Settings.from_env()
    if settings.database_url:
        return make_url(settings.database_url).set(database=database).render_as_string(hide_password=False)
    return Cluster(settings.cluster_dir).url(database)


def _admin(statement: sql.Composable, database: str = "postgres") -> None:
    with psycopg.connect(_admin_url(database), autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session", autouse=True)
def files_dir(tmp_path_factory):
    """Photos and documents stored by any test go to a temporary folder, never the checkout's .local/files."""
    folder = tmp_path_factory.mktemp("files")
    previous = os.environ.get("SITES_FILES_DIR")
    os.environ["SITES_FILES_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("SITES_FILES_DIR", None)
    else:
        os.environ["SITES_FILES_DIR"] = previous


@pytest.fixture(scope="session")
def template_database():
    """A migrated, empty database that every test database is copied from."""
    settings = Settings.from_env()
    if settings.embedded:
        Cluster(settings.cluster_dir).up()
    _drop_leftovers()
    _admin(sql.SQL("CREATE DATABASE {} OWNER sites").format(sql.Identifier(TEMPLATE)))
    _admin(sql.SQL("CREATE EXTENSION IF NOT EXISTS postgis"), TEMPLATE)
    engine = make_engine(app_url(TEMPLATE))
    migrate(engine)
    engine.dispose()
    yield TEMPLATE
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE)))


def _drop_leftovers() -> None:
    """Drop test databases of runs that died; another live run on the same cluster keeps its own."""
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sites_test_%'")]
        for name in names:
            pid = name.split("_")[-2] if name.count("_") >= 3 else ""
            if pid.isdigit() and Path(f"/proc/{pid}").exists():
                continue
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def new_database(template: str) -> str:
    name = f"sites_test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    _admin(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER sites").format(sql.Identifier(name), sql.Identifier(template)))
    return name


def drop_database(name: str) -> None:
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db_url(template_database):
    """A fresh, migrated database for one test; dropped afterwards."""
    name = new_database(template_database)
    yield app_url(name)
    drop_database(name)


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def demo_url(template_database):
    """A database holding the demo inventory, shared by the tests of one module (read-only use)."""
    from gis.demo import load_demo
    from gis.services import Register

    name = new_database(template_database)
    url = app_url(name)
    engine = make_engine(url)
    load_demo(engine, Register(engine).actor())
    engine.dispose()
    yield url
    drop_database(name)


def demo_site_count() -> int:
    """Number of sites in the demo inventory file."""
    from gis.reference import DATA_DIR, read_csv

    return len(read_csv(DATA_DIR / "demo_sites.csv"))


def cli_invoker(url: str, monkeypatch):
    """Run the `sites` CLI in-process against the database at ``url``, as a user's shell would."""
    from click.testing import CliRunner

    from gis.cli import main

    monkeypatch.setenv("DATABASE_URL", url)

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def shared_data(relative: str) -> Path:
    """A file from ../shared/data, skipping (which fails under CI) where that folder is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} is not present (shared data lives beside the checkout)")
    return path


# ---- signing in (issue 7): tests act as a user of their own, with a password only the tests know ----------------
TEST_PASSWORD = "test-only password, never a deployment's"


def add_test_user(engine, name: str, role: str = "admin", regions=()) -> str:
    """Create ``name`` (once) with :data:`TEST_PASSWORD`, so that an app test can sign in as it through the form."""
    from gis.services import Register

    register = Register(engine)
    if name not in {user["name"] for user in register.list_users()}:
        register.add_user(register.actor(), name, role, list(regions), password=TEST_PASSWORD)
    return name


def sign_in(at, name: str, password: str = TEST_PASSWORD):
    """Sign an AppTest in through the sidebar form, as a reader would; return it after the rerun."""
    at.text_input(key="signin-name").input(name)
    at.text_input(key="signin-password").input(password)
    at.button(key="signin-submit").click().run()
    assert not at.exception, at.exception
    state = at.session_state["signed-in"] if "signed-in" in at.session_state else {}
    assert state.get("name") == name, [e.value for e in at.error]
    return at
