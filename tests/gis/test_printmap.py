"""Print maps on real PostGIS: sheet sizes, 300 dpi pixels, text read back by pdftotext, pages rendered by pdftoppm."""

from __future__ import annotations

import re
import subprocess
from datetime import date

import numpy as np
import pytest
from PIL import Image, ImageStat

from gis.db import make_engine
from gis.layer_import import import_layer
from gis.maps import CLASS_COLOURS
from gis.printmap import print_map
from gis.scoring import rescore
from gis.services import Register
from sites.errors import InvalidInput
from tests.conftest import app_url, cli_invoker, demo_site_count, drop_database, new_database, shared_data
from tests.gis.factories import site_data

ON = date(2024, 5, 17)
KAZAKH_LETTERS = "әғқңөұүһі"
# Every Kazakh-specific letter in lower case, in a name short enough to be printed whole (stored in name_kk).
KAZAKH_NAME = "Сәуірқұм ғимараты, Бөгеңбай шаһ. Үштүбі"
HOSTILE = "<script>x</script> $(x) $a$ \\n"
LAYERS = (("kz/boundaries/kaz_admbnda_adm1_2024.shp", "region", "geokz", "CC BY 4.0"),
          ("kz/water/rivers.geojson", "river", "WaterHydro-Kazakhstan", "MIT"),
          ("kz/places/hotosm_kaz_populated_places_points.geojson", "settlement", "OpenStreetMap (HOT export)",
           "ODbL"))
PAGES_PT = {("a4", "portrait"): (595.28, 841.89), ("a4", "landscape"): (841.89, 595.28),
            ("a3", "portrait"): (841.89, 1190.55), ("a3", "landscape"): (1190.55, 841.89)}


@pytest.fixture(scope="module")
def register(template_database):
    """The demo inventory with national boundaries, rivers and towns, a Kazakh-named and a hostile-named site,
    all scored; shared read-only by this module's tests."""
    name = new_database(template_database)
    engine = make_engine(app_url(name))
    admin = Register(engine).actor()
    from gis.demo import load_demo

    load_demo(engine, admin)
    for relative, kind, source, licence in LAYERS:
        import_layer(engine, admin, shared_data(relative), kind, source=source, licence=licence)
    kazakh = Register(engine).create_site(admin, site_data(name_en="Test store", name_kk=KAZAKH_NAME,
                                                           lat=52.0, lon=76.5))
    hostile = Register(engine).create_site(admin, site_data(name_en=HOSTILE, lat=49.8, lon=73.1,
                                                            region_kato="350000000"))
    rescore(engine, admin)
    yield engine, kazakh["code"], hostile["code"]
    engine.dispose()
    drop_database(name)


def pdf_text(path) -> str:
    """The PDF's text as pdftotext reads it, whitespace collapsed (lines wrap wherever the sheet ends)."""
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                            check=True)
    return " ".join(result.stdout.split())


def page_image(path, tmp_path) -> Image.Image:
    """The PDF's page rendered by poppler, independently of matplotlib."""
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
    return Image.open(tmp_path / "page.png").convert("RGB")


def pixels_of(image: Image.Image, colour: str, tolerance: int = 3) -> int:
    want = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(np.asarray(image, dtype=int) - want) <= tolerance).all(axis=2).sum())


@pytest.mark.parametrize("paper, orientation", list(PAGES_PT))
def test_the_pdf_page_is_the_chosen_sheet(register, tmp_path, paper, orientation):
    engine, _, _ = register
    printed = print_map(engine, tmp_path / "map.pdf", fmt="pdf", paper=paper, orientation=orientation, on=ON)
    box = re.search(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]", (tmp_path / "map.pdf").read_bytes())
    assert (float(box.group(1)), float(box.group(2))) == pytest.approx(PAGES_PT[paper, orientation], abs=0.01)
    assert printed.page_mm == ((210, 297) if (paper, orientation) == ("a4", "portrait") else printed.page_mm)
    assert sorted(printed.page_mm) == sorted({"a4": (210, 297), "a3": (297, 420)}[paper])


@pytest.mark.parametrize("paper, orientation, pixels", [("a4", "portrait", (2480, 3508)),
                                                        ("a3", "landscape", (4961, 3508))])
def test_the_png_is_the_sheet_at_300_dpi_and_not_blank(register, tmp_path, paper, orientation, pixels):
    engine, _, _ = register
    print_map(engine, tmp_path / "map.png", fmt="png", paper=paper, orientation=orientation, on=ON)
    image = Image.open(tmp_path / "map.png")
    assert image.size == pixels
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert max(ImageStat.Stat(image.convert("L")).var) > 200  # a blank page has none


def test_a_kazakh_pdf_holds_title_method_date_sources_and_every_kazakh_letter(register, tmp_path):
    engine, kazakh, _ = register
    printed = print_map(engine, tmp_path / "kk.pdf", region="KZ-PAV", lang="kk", paper="a3", orientation="portrait",
                        title="Павлодар облысының тарихи ластануы", on=ON)
    text = pdf_text(tmp_path / "kk.pdf")
    assert kazakh in printed.codes and "Павлодар облысының тарихи ластануы" in text
    assert "Павлодар облысы" in text and "2024-05-17" in text and "kz-screening 1.0.0" in text
    assert "Шартты белгілер" in text and "Дереккөздер:" in text
    for source in printed.sources:  # the register, boundaries, rivers and towns, each with its licence
        assert source in text
    assert any("geokz (CC BY 4.0)" in s for s in printed.sources)
    assert any("WaterHydro-Kazakhstan (MIT)" in s for s in printed.sources)
    assert any("OpenStreetMap (HOT export) (ODbL)" in s for s in printed.sources)
    assert f"{kazakh} {KAZAKH_NAME}" in text
    assert all(letter in KAZAKH_NAME for letter in KAZAKH_LETTERS)
    missing = [letter for letter in KAZAKH_LETTERS if letter not in text]
    assert not missing, f"pdftotext lost {missing}"


def test_the_pdf_page_renders_with_the_class_colours_of_the_sites_drawn(register, tmp_path):
    engine, _, _ = register
    printed = print_map(engine, tmp_path / "map.pdf", fmt="pdf", on=ON)
    assert sum(printed.classes.values()) == demo_site_count() + 2 and len(printed.classes) >= 2
    image = page_image(tmp_path / "map.pdf", tmp_path)
    assert image.size == pytest.approx((1754, 1240), abs=1)  # A4 landscape at 150 dpi, as poppler rounds
    assert max(ImageStat.Stat(image).var) > 200
    # A site's marker fills about 70 pixels of its class colour at 150 dpi, and so does its legend swatch: more
    # than that shows sites on the map, not only in the legend. Markers overlap, hence 0.6.
    for cls, count in printed.classes.items():
        assert pixels_of(image, CLASS_COLOURS[None if cls == "unscored" else cls]) > 0.6 * 70 * (count + 1), cls
    for cls in {"1", "2", "3", "N", "I"} - set(printed.classes):
        assert pixels_of(image, CLASS_COLOURS[cls]) < 10, cls


def test_a_region_shows_only_its_own_sites_found_by_code_or_name(register, tmp_path):
    engine, kazakh, hostile = register
    with engine.connect() as conn:
        pavlodar = {r[0] for r in conn.exec_driver_sql("SELECT code FROM sites WHERE region_kato = '550000000'")}
    for asked in ("550000000", "KZ-PAV", "pav", "Павлодарская", "Pavlodar region"):
        printed = print_map(engine, tmp_path / "pav.png", fmt="png", region=asked, on=ON)
        assert set(printed.codes) == pavlodar and kazakh in pavlodar and hostile not in pavlodar
        assert sum(printed.classes.values()) == len(pavlodar)
        assert "districts" not in printed.layers and "regions" in printed.layers  # no district layer loaded


def test_a_selection_shows_exactly_the_chosen_sites(register, tmp_path):
    engine, kazakh, _ = register
    printed = print_map(engine, tmp_path / "sel.pdf", codes=f"kz-kar-0001, {kazakh}", on=ON)
    assert set(printed.codes) == {"KZ-KAR-0001", kazakh}
    assert "Selected sites · sites: 2" in pdf_text(tmp_path / "sel.pdf")


def test_hostile_names_and_titles_are_printed_as_typed(register, tmp_path):
    engine, _, hostile = register
    title = "$\\frac{1}{2}$ <b>report</b>"
    print_map(engine, tmp_path / "h.pdf", codes=hostile, title=title, on=ON)
    text = pdf_text(tmp_path / "h.pdf")
    assert title in text and f"{hostile} {HOSTILE}" in text
    print_map(engine, tmp_path / "h.png", fmt="png", codes=hostile, title=title, on=ON)
    assert Image.open(tmp_path / "h.png").size == (3508, 2480)


@pytest.mark.parametrize("options, field, expected", [
    ({"fmt": "svg"}, "format", "one of png, pdf"),
    ({"paper": "a5"}, "paper", "one of a4, a3"),
    ({"orientation": "sideways"}, "orientation", "one of portrait, landscape"),
    ({"lang": "de"}, "lang", "one of kk, ru, en"),
    ({"region": "Atlantis"}, "region", "a region's KATO code"),
    ({"codes": "KZ-PAV-0001,nonsense"}, "sites", "site codes like KZ-PAV-0003"),
    ({"codes": "KZ-PAV-9999"}, "sites", "codes of live (not archived) sites"),
    ({"codes": "KZ-PAV-0001", "region": "KZ-PAV"}, "sites", "either a region or a list of sites"),
])
def test_bad_values_are_refused_naming_what_was_expected_and_write_nothing(register, tmp_path, options, field,
                                                                          expected):
    engine, _, _ = register
    with pytest.raises(InvalidInput) as refused:
        print_map(engine, tmp_path / "map.pdf", **options)
    assert refused.value.field == field and expected in refused.value.message and "received" in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_half_file(register, tmp_path):
    engine, _, _ = register
    with pytest.raises(OSError):  # the rename fails after the whole sheet was drawn
        print_map(engine, tmp_path / ("x" * 300 + ".pdf"), on=ON)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InvalidInput, match="output: expected a file name, not a folder"):
        print_map(engine, tmp_path, on=ON)


def test_the_country_without_boundaries_or_scores_says_so(demo_url, tmp_path):
    engine = make_engine(demo_url)
    try:
        printed = print_map(engine, tmp_path / "kz.pdf", lang="ru", on=ON)
        region = print_map(engine, tmp_path / "pav.pdf", region="KZ-PAV", on=ON)  # framed by its sites alone
    finally:
        engine.dispose()
    assert printed.classes == {"unscored": demo_site_count()} and printed.layers == ("towns",)
    text = pdf_text(tmp_path / "kz.pdf")
    assert "kz-screening 1.0.0 (оценок ещё нет)" in text and "Республика Казахстан" in text
    assert "GeoNames" in text and "2024-05-17" in text
    assert region.codes and all(code.startswith("KZ-PAV-") for code in region.codes)


def test_the_cli_prints_maps_and_refuses_bad_options(register, tmp_path, monkeypatch):
    engine, _, _ = register
    run = cli_invoker(engine.url.render_as_string(hide_password=False), monkeypatch)
    result = run("export", "--format", "png", "-o", str(tmp_path / "m.png"), "--paper", "a3", "--orientation",
                 "portrait", "--region", "Павлодар", "--lang", "kk", "--title", "Карта")
    assert result.exit_code == 0, result.output
    assert "wrote A3 portrait PNG of" in result.output and Image.open(tmp_path / "m.png").size == (3508, 4961)
    bad = run("export", "--format", "pdf", "-o", str(tmp_path / "b.pdf"), "--paper", "a5")
    assert bad.exit_code == 1 and "paper: expected one of a4, a3, received 'a5'" in bad.output
    ignored = run("export", "--format", "csv", "-o", str(tmp_path / "c.csv"), "--paper", "a3")
    assert ignored.exit_code == 1 and "--paper: expected --format png or pdf" in ignored.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png"]
