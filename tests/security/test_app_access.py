"""The app (Streamlit AppTest) as the public and as signed-in users: the public view reads only and hides what it
must, sign-in goes through the sidebar form, an inspector edits only in their regions, and sessions end."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from gis.services import Register
from tests.conftest import ROOT, sign_in
from tests.security.conftest import PASSWORD, PRINCIPALS, SYSTEM, World

EXACT, GRID = (52.2871, 76.9674), (52.3, 77.0)
INSPECTOR = PRINCIPALS["inspector-own-region"][0]


@pytest.fixture
def app(world: World, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", world.engine.url.render_as_string(hide_password=False))
    st.cache_resource.clear()  # engines and the map's rows are cached per process
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def map_rows(at) -> dict[str, list]:
    """The map's site rows by code: [lat, lon, code, name, ...] as the browser receives them."""
    maps = [c for c in at.get("component_instance") if "script" in c.proto.json_args]
    script = json.loads(maps[0].proto.json_args)["script"]
    data = json.loads(re.search(r"var data = (\{.*?\});\n", script).group(1))
    return {row[2]: row for row in data["rows"]}


def save_button(at):
    return next(b for b in at.button if b.label == "Save changes")


def texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


# ---- the public view ---------------------------------------------------------------------------------------------
def test_without_sign_in_the_map_is_the_public_view(app, world):
    rows = map_rows(app)
    assert tuple(rows[world.own_site][:2]) == GRID  # the confidential site, on the grid
    assert "Not signed in: the public view" in texts(app.markdown)
    assert [b.label for b in app.sidebar.button] == ["Sign in"]
    assert "acting-as" not in [s.key for s in app.selectbox]  # nobody picks whom to act as any more


def test_the_public_cannot_reach_the_edit_and_import_pages(app):
    for page in ("ui/edit_page.py", "ui/import_page.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(page)


def test_the_public_sites_table_and_ranking_hold_nothing_restricted(app, world):
    app.switch_page("ui/sites_page.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert world.own_site in set(table["code"]) and not {"lat", "lon", "operator"} & set(table.columns)
    app.switch_page("ui/ranking_page.py").run()
    assert not app.exception
    assert "for planners and administrators" in texts(app.info)
    assert "w-run" not in [b.key for b in app.button] and "p-run" not in [b.key for b in app.button]


def test_a_csv_made_on_the_exports_page_without_sign_in_is_the_public_view(app, world):
    app.switch_page("ui/exports_page.py").run()
    app.selectbox(key="export-data-format").select("csv").run()
    app.button(key="make-data-csv").click().run()
    assert not app.exception and not app.error, texts(app.error)
    made = app.session_state["file-data-csv"][1]
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(made.decode("utf-8")))}
    assert (float(rows[world.own_site]["lat"]), float(rows[world.own_site]["lon"])) == GRID


# ---- signing in --------------------------------------------------------------------------------------------------
def test_a_wrong_password_leaves_the_public_view_with_one_message(app, world):
    app.text_input(key="signin-name").input(INSPECTOR)
    app.text_input(key="signin-password").input("not the password 1")
    app.button(key="signin-submit").click().run()
    assert "Wrong user name or password, or the account is locked or deactivated." in texts(app.error)
    assert "signed-in" not in app.session_state
    assert "signin-password" not in app.session_state  # what was typed is not kept in the session


def test_an_inspector_edits_in_their_region_only(app, world):
    sign_in(app, INSPECTOR, PASSWORD)
    assert tuple(map_rows(app)[world.own_site][:2]) == EXACT  # signed in: the exact place
    app.switch_page("ui/edit_page.py").run()
    app.radio(key="mode").set_value("Edit a site").run()
    register = Register(world.engine)

    app.selectbox(key="site-code").select(world.own_site).run()
    app.text_input(key="edit-operator").input("Pavlodar akimat").run()
    save_button(app).click().run()
    assert f"Saved {world.own_site}" in texts(app.success), texts(app.error)
    assert register.get_site(world.own_site)["operator"] == "Pavlodar akimat"

    before = register.get_site(world.other_site)
    app.selectbox(key="site-code").select(world.other_site).run()
    app.text_input(key="edit-operator").input("Not my region").run()
    save_button(app).click().run()
    assert "may edit sites only in their regions" in texts(app.error)
    assert register.get_site(world.other_site) == before


def test_sign_out_returns_to_the_public_view(app, world):
    sign_in(app, PRINCIPALS["planner"][0], PASSWORD)
    app.switch_page("ui/ranking_page.py").run()
    assert "w-run" in [b.key for b in app.button]  # planners run what-ifs
    app.button(key="sign-out").click().run()
    assert "signed-in" not in app.session_state and "w-run" not in [b.key for b in app.button]
    app.switch_page("ui/map_page.py").run()
    assert tuple(map_rows(app)[world.own_site][:2]) == GRID


def test_an_idle_session_expires_and_the_next_action_is_the_publics(app, world):
    sign_in(app, INSPECTOR, PASSWORD)
    app.session_state["signed-in"]["last_seen"] -= 61 * 60  # an hour and a minute without a rerun
    app.run()
    assert "signed-in" not in app.session_state
    assert "signed out after 60 minutes without activity" in texts(app.sidebar.warning)
    assert tuple(map_rows(app)[world.own_site][:2]) == GRID


def test_deactivating_a_user_ends_their_session_at_the_next_action(app, world):
    sign_in(app, INSPECTOR, PASSWORD)
    Register(world.engine).set_active(SYSTEM, INSPECTOR, False)
    app.run()
    assert "signed-in" not in app.session_state
    assert "your account changed" in texts(app.sidebar.warning)
