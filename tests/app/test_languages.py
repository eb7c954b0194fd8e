"""Every page in Kazakh and in Russian (Streamlit AppTest): no exception, the catalogue's title, no English left.

A page's "chrome" (headings, widget labels and help, buttons, expanders, metrics, messages and captions, table headers)
is English leftover when it holds a Latin word and no Cyrillic letter; what the domain writes (the score's data lines
inside the explanation's expanders, errors from sites/) may stay English and is not read here. The deep tests click
through the parts a first run does not draw: duplicates, samples, history, the programme, a what-if, rank stability
and an import's check.
"""

from __future__ import annotations

import io
import json
import re
from typing import Iterator

import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from gis.db import make_engine
from gis.demo import load_demo
from gis.inspections import add_inspection
from gis.queries import CONVENTIONS
from gis.scoring import rescore
from gis.services import Register
from gis.settings import Settings
from sites import i18n, vocab
from sites.regions import REGIONS
from sites.scoring.whatif import ADJUSTABLE
from tests.conftest import ROOT, add_test_user, app_url, drop_database, new_database, sign_in
from ui import labels

PAGES = {  # page file -> its title's key
    "ui/map_page.py": "map.title",
    "ui/sites_page.py": "sites.title",
    "ui/ranking_page.py": "ranking.title",
    "ui/edit_page.py": "edit.title",
    "ui/import_page.py": "import.title",
    "ui/about_page.py": "about.title",
    "ui/exports_page.py": "exports.title",
}
CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
TEXT_TYPES = {"title", "header", "subheader", "caption", "markdown", "error", "warning", "info", "success"}


@pytest.fixture(scope="module")
def register_url(template_database, tmp_path_factory):
    """The demo register, scored, with district boundaries, one inspection with a photo and an admin who signs in
    (pages write to it)."""
    from tests.gis.test_ranking_filters import load_districts

    name = new_database(template_database)
    url = app_url(name)
    engine = make_engine(url)
    register = Register(engine)
    load_demo(engine, register.actor())
    load_districts(engine, tmp_path_factory.mktemp("districts"))
    rescore(engine, register.actor())
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(photo, "JPEG")
    add_inspection(engine, register.actor(), "KZ-PAV-0002", {"inspected_on": "2024-06-01", "condition": "poor"},
                   [("pond.jpg", photo.getvalue())], files_dir=Settings.from_env().files_dir)
    add_test_user(engine, "editor", "admin")  # every page and section: the add/edit and import pages, what-if
    engine.dispose()
    yield url
    drop_database(name)


def open_app(url: str, monkeypatch, lang: str | None = None, page: str | None = None, env_lang: str | None = None,
             signed_in: bool = True):
    """The app in ``lang`` (chosen as the sidebar would, before the first run) or from SITES_LANG, on ``page``,
    signed in as an admin unless ``signed_in`` is false (the public)."""
    monkeypatch.setenv("DATABASE_URL", url)
    if env_lang:
        monkeypatch.setenv("SITES_LANG", env_lang)
    st.cache_resource.clear()  # settings and engines are cached per process
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if lang:
        at.session_state["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    if signed_in:
        sign_in(at, "editor")
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def chrome(at) -> Iterator[str]:
    """Every text of the page meant for the reader, except what the explanation's expanders say about the data."""
    def walk(node, in_expander: bool) -> Iterator[str]:
        kind = getattr(node, "type", "")
        if kind in TEXT_TYPES and not (in_expander and kind == "caption"):
            yield str(node.value)
        for attribute in ("label", "help", "placeholder", "delta"):
            value = getattr(node, attribute, None)
            if isinstance(value, str) and value:
                yield value
        if kind == "image":
            yield from node.captions
        if kind == "radio":
            yield from node.options
        for child in getattr(node, "children", {}).values():
            yield from walk(child, in_expander or kind == "expander")

    for root in (at.main, at.sidebar):
        yield from walk(root, False)


def leftovers(at) -> list[str]:
    """Texts with a Latin word and no Cyrillic letter: English the page forgot to translate."""
    return sorted({text for text in chrome(at) if LATIN_WORD.search(text) and not CYRILLIC.search(text)})


def untranslated_headers(at) -> list[str]:
    """Columns of the page's tables shown under their stored English name."""
    found = []
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns or "{}")
        for column in frame.value.columns:
            label = (config.get(f"col:{column}") or config.get(str(column)) or {}).get("label")
            if not label or not CYRILLIC.search(label) and label != "№":
                found.append(str(column))
    for table in at.table:
        found += [str(c) for c in table.value.columns if not CYRILLIC.search(str(c)) and not str(c).isdigit()]
    return found


def check(at) -> None:
    assert not at.exception, at.exception
    assert leftovers(at) == []
    assert untranslated_headers(at) == []


@pytest.mark.parametrize("lang", ["kk", "ru"])
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_reads_in_the_chosen_language(register_url, monkeypatch, page, lang):
    at = open_app(register_url, monkeypatch, lang, page)
    assert at.title[0].value == i18n.text(PAGES[page], lang)
    check(at)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_public_view_reads_in_the_language(register_url, monkeypatch, lang):
    at = open_app(register_url, monkeypatch, lang, signed_in=False)  # the sidebar's sign-in form, the map
    assert at.title[0].value == i18n.text("map.title", lang)
    check(at)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_sites_lang_opens_every_page_in_that_language(register_url, monkeypatch, lang):
    at = open_app(register_url, monkeypatch, env_lang=lang)
    for page, key in PAGES.items():
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert at.title[0].value == i18n.text(key, lang), page


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_edit_page_in_depth(register_url, monkeypatch, lang):
    engine = make_engine(register_url)
    stored = Register(engine).get_site("KZ-PAV-0001")
    engine.dispose()
    at = open_app(register_url, monkeypatch, lang, "ui/edit_page.py")
    at.text_input(key="new-coords").input(f"{stored['lat'] + 0.001:.5f}, {stored['lon']:.5f}").run()
    assert at.warning and any(r.key.startswith("new-dup-choice-") for r in at.radio)
    check(at)
    at.radio(key="mode").set_value("Edit a site").run()
    at.selectbox(key="site-code").select("KZ-PAV-0002").run()
    at.selectbox(key="s-KZ-PAV-0002-contaminant").select("hg").run()
    at.text_input(key="s-KZ-PAV-0002-value").input("4,2").run()
    assert at.error, "the exceedance is shown"
    next(b for b in at.button if b.key == "s-KZ-PAV-0002-add").click().run()
    added = i18n.text("samples.added", lang, contaminant="hg", medium=i18n.text("medium.soil", lang), value="4,2",
                      unit="mg/kg")
    assert added in [s.value for s in at.success]
    check(at)
    photos = [caption for node in at.main if getattr(node, "type", "") == "image" for caption in node.captions]
    assert photos and i18n.text("files.no_geotag", lang) in photos[0]
    assert at.selectbox(key="edit-stage").options == [i18n.text(f"stage.{v}", lang) for v in vocab.STAGE]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_ranking_page_in_depth(register_url, monkeypatch, lang):
    at = open_app(register_url, monkeypatch, lang, "ui/ranking_page.py")
    at.selectbox(key="r-site").select("KZ-PAV-0001").run()
    at.number_input(key="w-population_scale").set_value(10_000.0).run()
    next(b for b in at.button if b.key == "w-run").click().run()
    next(b for b in at.button if b.key == "p-run").click().run()
    at.number_input(key="mc-draws").set_value(20).run()
    next(b for b in at.button if b.key == "mc-run").click().run()
    assert {"p-csv", "w-gpkg"} <= {b.key for b in at.get("download_button")}
    assert any("p_top" in d.value.columns for d in at.dataframe)
    check(at)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_import_page_checks_a_file_in_the_language(register_url, monkeypatch, lang):
    at = open_app(register_url, monkeypatch, lang, "ui/import_page.py")
    csv = ("name_en;lat;lon;activity;location_precision\n"
           "Pesticide store near Aksu;52,04;76,93;pesticide_store;settlement\n"
           "Swapped coordinates;76,95;52,29;other;approximate\n")
    at.file_uploader(key="import-file").upload("sites.csv", csv.encode("utf-8"), "text/csv").run()
    assert not at.exception, at.exception
    assert at.error and at.error[0].value.startswith(i18n.text("import.rejections", lang, count=1, reasons="")[:8])
    assert {"import-all", "import-valid"} <= {b.key for b in at.button}
    assert leftovers(at) == []  # the rejection reasons are the checks' own (English) words, inside the messages


def test_switching_language_keeps_the_choices_made(register_url, monkeypatch):
    at = open_app(register_url, monkeypatch, "en", "ui/ranking_page.py")
    at.multiselect(key="r-region").select("Pavlodar").run()
    at.multiselect(key="r-stage").select("suspected").run()
    shown = len(at.dataframe[0].value)
    at.selectbox(key="lang").set_value("kk").run()
    assert not at.exception, at.exception
    assert at.title[0].value == i18n.text("ranking.title", "kk")
    assert at.multiselect(key="r-region").value == ["Pavlodar"] and at.multiselect(key="r-stage").value == ["suspected"]
    assert "Павлодар" in at.multiselect(key="r-region").options
    assert len(at.dataframe[0].value) == shown


def test_the_check_finds_english_left_on_a_page():
    def page():
        import streamlit as st

        st.title("Объектілер")
        st.button("Save changes")
        st.caption("Нүкте: 51.72 с. е.")

    at = AppTest.from_function(page)
    at.run()
    assert leftovers(at) == ["Save changes"]


def test_every_stored_vocabulary_value_has_a_label_in_every_language():
    wanted = [f"stage.{v}" for v in vocab.STAGE] + [f"activity.{v}" for v in vocab.ACTIVITY]
    wanted += [f"precision.{v}" for v in vocab.LOCATION_PRECISION] + [f"medium.{v}" for v in vocab.MEDIUM]
    wanted += [f"containment.{v}" for v in vocab.CONTAINMENT] + [f"accessibility.{v}" for v in vocab.ACCESSIBILITY]
    wanted += [f"owner_status.{v}" for v in vocab.OWNER_STATUS] + [f"signin.role.{v}" for v in vocab.ROLES]
    wanted += [f"class.{v}" for v in vocab.PRIORITY_CLASS] + [f"receptor.{v}" for v in vocab.RECEPTOR_KIND]
    wanted += [f"action.{v}" for v in vocab.AUDIT_ACTION] + [f"convention.{v}" for v in CONVENTIONS]
    wanted += [f"whatif.factor.{f.name}" for f in ADJUSTABLE] + [f"whatif.why.{f.name}" for f in ADJUSTABLE]
    assert [key for key in wanted if key not in i18n.catalogue()] == []


def test_the_what_if_reasons_say_in_english_what_the_method_says():
    # The bounds' reasons are the method's (sites/scoring/whatif.py); the catalogue must follow when they change.
    assert {f.name: i18n.text(f"whatif.why.{f.name}", "en") for f in ADJUSTABLE} == {f.name: f.why for f in ADJUSTABLE}


def test_region_names_follow_the_language():
    _ = i18n.translator("kk")
    assert [labels.region("kk", r.name_en) for r in REGIONS] == [r.name_kk for r in REGIONS]
    assert labels.region("ru", "Pavlodar") == "Павлодарская" and labels.region("en", "Pavlodar") == "Pavlodar"
    assert labels.region("kk", "Atlantis") == "Atlantis"
    assert labels.vocab(_, "stage", None) == "" and labels.vocab(_, "stage", "closed") == "жабылған"
