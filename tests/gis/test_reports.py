"""Printed reports on real PostGIS: pages rendered by pdftoppm, text read back by pdftotext, numbers checked in SQL."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from datetime import date

import numpy as np
import pytest
from PIL import Image, ImageStat
from sqlalchemy import text

from gis.db import make_engine
from gis.inspections import add_inspection
from gis.report_conventions import conventions
from gis.report_passport import passport
from gis.report_priorities import priorities
from gis.scoring import ranking, rescore
from gis.services import Register
from sites.errors import InvalidInput
from sites.scoring.explain import brief
from tests.conftest import app_url, cli_invoker, drop_database, new_database
from tests.gis.factories import site_data

ON = date(2024, 5, 17)
KAZAKH_LETTERS = "әғқңөұүһі"
KAZAKH_NAME = "Сәуірқұм ғимараты, Бөгеңбай шаһ. Үштүбі"  # every Kazakh-specific letter
HOSTILE = "<script>alert(1)</script> $x$ {{ 7*7 }} =cmd &amp; <b>bold</b> \\n"
PHOTO_COLOUR = (31, 158, 137)
CODE = re.compile(r"KZ-[A-Z]{3}-\d{4}")
RULES = {"Minamata": "c.minamata", "Stockholm": "c.stockholm_annex IS NOT NULL",
         "Basel": "c.basel_y IS NOT NULL", "Rotterdam": "c.rotterdam_annex3"}


def jpeg(size=(900, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, PHOTO_COLOUR).save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.fixture(scope="module")
def register(template_database):
    """The demo inventory scored, plus a Kazakh-named site with a photo and a non-detect, a hostile-named mercury
    site and a site with more samples than two pages hold; shared read-only by this module's tests."""
    name = new_database(template_database)
    url = app_url(name)
    engine = make_engine(url)
    admin = Register(engine).actor()
    from gis.demo import load_demo

    load_demo(engine, admin)
    quiet = Register(engine, rescore_on_write=False)
    kazakh = quiet.create_site(admin, site_data(name_en="Test store", name_kk=KAZAKH_NAME, lat=52.0, lon=76.5),
                               [{"contaminant": "hg", "medium": "soil", "status": "confirmed", "quantity_t": 2.5}],
                               [{"contaminant": "hg", "medium": "soil", "value": "<0.05", "unit": "mg/kg"},
                                {"contaminant": "pb", "medium": "soil", "value": "64", "unit": "mg/kg"}])["code"]
    add_inspection(engine, admin, kazakh, {"inspected_on": "2024-05-14", "condition": "poor",
                                           "findings": "Drums corroded; fence broken."},
                   [("site-photo.jpg", jpeg())])
    hostile = quiet.create_site(admin, site_data(name_en=HOSTILE, lat=49.8, lon=73.1, region_kato="350000000",
                                                 waste_mass_t=1200),
                                [{"contaminant": "hg", "medium": "soil", "status": "suspected"}])["code"]
    heavy = quiet.create_site(admin, site_data(name_en="Heavily sampled plant", lat=51.7, lon=75.3))["code"]
    for number in range(40):
        quiet.add_sample(admin, heavy, {"contaminant": "pb", "medium": "soil", "value": str(30 + number),
                                        "unit": "mg/kg", "laboratory": f"Lab {number}"})
    for version in range(1, 16):
        quiet.update_site(admin, heavy, version, {"operator": f"Operator {version}"})
    rescore(engine, admin)
    yield {"engine": engine, "url": url, "kazakh": kazakh, "hostile": hostile, "heavy": heavy}
    engine.dispose()
    drop_database(name)


def pdf_text(path, page: int | None = None) -> str:
    """The PDF's text (or one page's) as pdftotext reads it, whitespace collapsed (lines wrap wherever a cell ends)."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", *pages, str(path), "-"], capture_output=True, text=True,
                         check=True)
    return " ".join(out.stdout.split())


def pages_rendered(path, tmp_path) -> list[Image.Image]:
    """Every page of the PDF rendered by poppler, independently of reportlab."""
    folder = tmp_path / f"png-{path.stem}"
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(folder / "page")], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(folder.glob("page-*.png"))]


def pixels_near(image: Image.Image, colour: tuple[int, int, int], tolerance: int = 10) -> int:
    return int((np.abs(np.asarray(image, dtype=int) - np.array(colour)) <= tolerance).all(axis=2).sum())


def query(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).mappings().all()


def latest_score(engine, code: str) -> dict:
    return dict(query(engine, "SELECT sc.* FROM score sc JOIN site s ON s.id = sc.site_id WHERE s.code = :code "
                              "ORDER BY sc.computed_at DESC, sc.id DESC LIMIT 1", code=code)[0])


# ---- passport ------------------------------------------------------------------------------

def test_a_passport_names_the_site_its_guideline_set_method_date_sha_samples_and_explanation(register, tmp_path):
    engine = register["engine"]
    written = passport(engine, "kz-kar-0001", tmp_path / "p.pdf", on=ON)
    assert 1 <= written.pages <= 2 and written.method == "kz-screening 1.0.0"
    page_count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(written.path)], text=True,
                                                                   capture_output=True).stdout)[1])
    assert page_count == written.pages
    found = pdf_text(written.path)
    site = query(engine, "SELECT * FROM site WHERE code = 'KZ-KAR-0001'")[0]
    for value in ("KZ-KAR-0001", site["name_en"], site["name_ru"], site["name_kk"], site["geom_sha256"],
                  "kz_pdk_soil", "kz-screening 1.0.0", "2024-05-17", "Karagandy (350000000)", "investigated"):
        assert " ".join(value.split()) in found, value
    assert ">100 mg/kg" in found and ">47.6" in found and "2.1 mg/kg" in found  # result, ratio, guideline
    assert "The audit trail recorded the same SHA-256" in found
    for line in brief(latest_score(engine, "KZ-KAR-0001"), "en"):  # total, class, pathways, missing, nearest
        assert line in found, line
    assert "locate the facility itself (GPS at the site) instead of the settlement" in found  # a next step
    assert "Sources" in found and "HEAVEN2000A" in found  # the site's own references
    assert written.sources and all(" ".join(s.split()) in found for s in written.sources)


def test_a_kazakh_passport_holds_every_kazakh_letter_the_photo_and_the_non_detect(register, tmp_path):
    engine, code = register["engine"], register["kazakh"]
    written = passport(engine, code, tmp_path / "kk.pdf", lang="kk", on=ON)
    found = pdf_text(written.path)
    assert KAZAKH_NAME in found and "Объект паспорты" in found and "Дереккөздер" in found
    missing = [letter for letter in KAZAKH_LETTERS if letter not in found]
    assert not missing, f"pdftotext lost {missing}"
    assert "<LOD (0,05 mg/kg)" in found and "<0,0238" in found  # non-detect and its ratio, in Kazakh numbers
    assert "site-photo.jpg" in found and "Drums corroded; fence broken." in found
    pages = pages_rendered(written.path, tmp_path)
    assert len(pages) == written.pages
    assert sum(pixels_near(page, PHOTO_COLOUR) for page in pages) > 1500  # the thumbnail is drawn, not named only


@pytest.mark.parametrize("lang, title", [("en", "Site passport"), ("ru", "Паспорт объекта"), ("kk", "Объект паспорты")])
def test_every_passport_page_renders_and_is_not_blank(register, tmp_path, lang, title):
    written = passport(register["engine"], register["kazakh"], tmp_path / f"{lang}.pdf", lang=lang, on=ON)
    assert title in pdf_text(written.path)
    pages = pages_rendered(written.path, tmp_path)
    assert len(pages) == written.pages and 1 <= len(pages) <= 2
    for page in pages:
        assert page.size == pytest.approx((496, 702), abs=1)  # A4 portrait at 60 dpi
        assert max(ImageStat.Stat(page.convert("L")).var) > 300


def test_a_site_with_long_lists_still_fits_two_pages_and_says_what_is_left_out(register, tmp_path):
    code = register["heavy"]
    written = passport(register["engine"], code, tmp_path / "heavy.pdf", on=ON)
    found = pdf_text(written.path)
    assert written.pages == 2
    assert f"`sites sample list {code}` lists them all" in found
    assert f"`sites site history {code}` lists them all" in found
    assert "69 mg/kg" in found  # the highest result comes first


# ---- priority list ---------------------------------------------------------------------------

def test_the_priority_list_is_the_ranking_in_its_order_with_a_header_on_every_page(register, tmp_path):
    engine = register["engine"]
    written = priorities(engine, tmp_path / "kz.pdf", on=ON)
    found = pdf_text(written.path)
    expected = [row["code"] for row in ranking(engine)]
    assert list(dict.fromkeys(CODE.findall(found))) == expected
    listing = [page for page in range(1, written.pages + 1) if CODE.search(pdf_text(written.path, page))]
    assert len(listing) >= 2 and found.count("Main contaminants") == len(listing)
    assert all("Main contaminants" in pdf_text(written.path, page) for page in listing)  # header on every page
    assert "kz-screening 1.0.0" in found and "kz_pdk_soil" in found and "2024-05-17" in found
    assert f"{len(expected)} of {len(expected)} scored sites" in found
    assert "People within 6.4 km" in found and "170,600" in found  # Temirtau, from the stored explanation
    pages = pages_rendered(written.path, tmp_path)
    assert len(pages) == written.pages
    assert all(page.size == pytest.approx((702, 496), abs=1) for page in pages)  # A4 landscape
    assert all(max(ImageStat.Stat(page.convert("L")).var) > 300 for page in pages)


@pytest.mark.parametrize("region, kato", [("KZ-KAR", "350000000"), ("Павлодарская", "550000000")])
def test_a_regional_list_keeps_the_ranking_order_of_that_region(register, tmp_path, region, kato):
    engine = register["engine"]
    written = priorities(engine, tmp_path / "r.pdf", region=region, top="2", lang="ru", on=ON)
    found = pdf_text(written.path)
    assert list(dict.fromkeys(CODE.findall(found))) == [r["code"] for r in ranking(engine, top=2, region=kato)]
    assert f"({kato})" in found and "Приоритетный список" in found


# ---- conventions -----------------------------------------------------------------------------

def read_csv(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_convention_number_is_its_list_of_sites_and_matches_sql(register, tmp_path):
    engine = register["engine"]
    written = conventions(engine, tmp_path / "c.csv", on=ON)
    rows = read_csv(written.path)
    assert {r["convention"] for r in rows} == set(RULES)
    for row in rows:
        listed = row["site_codes"].split()
        assert int(row["site_count"]) == len(listed) == len(set(listed))
        assert row["made_on"] == "2024-05-17" and row["method"] == "kz-screening 1.0.0"
        assert "catalogue" in row["sources"]
        if row["unit"] == "sites":
            assert int(row["value"]) == len(listed), row
    for convention, rule in RULES.items():
        counted = query(engine, f"""
            SELECT coalesce(s.region_kato, '') AS kato, count(DISTINCT s.id) AS n,
                   string_agg(DISTINCT s.code, ' ' ORDER BY s.code) AS codes
            FROM site s JOIN site_contaminant sc ON sc.site_id = s.id JOIN contaminant c ON c.code = sc.contaminant
            WHERE NOT s.archived AND {rule} GROUP BY 1""")
        sites = {(r["scope"], r["region_kato"]): r for r in rows if r["convention"] == convention
                 and r["measure"] == "sites"}
        assert {k for scope, k in sites if scope == "region"} == {r["kato"] for r in counted}
        for r in counted:
            assert int(sites["region", r["kato"]]["value"]) == r["n"]
            assert sorted(sites["region", r["kato"]]["site_codes"].split()) == r["codes"].split()
        assert int(sites["country", ""]["value"]) == sum(r["n"] for r in counted)
        stages = [r for r in rows if r["convention"] == convention and r["scope"] == "country"
                  and r["measure"].startswith("stage.")]
        assert sum(int(r["value"]) for r in stages) == sum(r["n"] for r in counted)


def test_convention_quantities_are_the_recorded_ones_of_the_sites_listed(register, tmp_path):
    engine = register["engine"]
    rows = read_csv(conventions(engine, tmp_path / "c.csv", on=ON).path)
    mercury = {r["measure"]: r for r in rows if r["convention"] == "Minamata" and r["scope"] == "country"}
    tonnes = query(engine, """SELECT sum(sc.quantity_t) AS t, string_agg(DISTINCT s.code, ' ' ORDER BY s.code) AS codes
                              FROM site_contaminant sc JOIN site s ON s.id = sc.site_id
                              WHERE NOT s.archived AND sc.contaminant = 'hg' AND sc.quantity_t IS NOT NULL""")[0]
    assert float(mercury["contaminant_t"]["value"]) == pytest.approx(tonnes["t"])
    assert sorted(mercury["contaminant_t"]["site_codes"].split()) == tonnes["codes"].split()
    mass = query(engine, """SELECT sum(waste_mass_t) AS t, string_agg(code, ' ' ORDER BY code) AS codes FROM site s
                            WHERE NOT archived AND waste_mass_t IS NOT NULL AND EXISTS (
                              SELECT 1 FROM site_contaminant sc JOIN contaminant c ON c.code = sc.contaminant
                              WHERE sc.site_id = s.id AND c.minamata)""")[0]
    assert float(mercury["waste_mass_t"]["value"]) == pytest.approx(mass["t"])
    assert sorted(mercury["waste_mass_t"]["site_codes"].split()) == mass["codes"].split()
    assert register["hostile"] in mass["codes"]  # its 1,200 t are counted, and it is listed behind them
    stockholm = {r["measure"]: r for r in rows if r["convention"] == "Stockholm" and r["scope"] == "country"}
    pcb = query(engine, """SELECT string_agg(DISTINCT s.code, ' ' ORDER BY s.code) AS codes FROM site s
                           JOIN site_contaminant sc ON sc.site_id = s.id JOIN contaminant c ON c.code = sc.contaminant
                           WHERE NOT s.archived AND c.grp = 'pcb'""")[0]
    assert sorted(stockholm["sites_pcb"]["site_codes"].split()) == pcb["codes"].split()


def test_the_convention_pdf_lists_every_site_behind_its_numbers_in_kazakh(register, tmp_path):
    engine = register["engine"]
    written = conventions(engine, tmp_path / "c.pdf", lang="kk", on=ON)
    found = pdf_text(written.path)
    assert "Минамата конвенциясы, 12-бап" in found and "Стокгольм конвенциясы" in found
    assert "2024-05-17" in found and "kz-screening 1.0.0" in found and "data/contaminants.csv" in found
    assert all(letter in found for letter in KAZAKH_LETTERS)
    minamata = query(engine, """SELECT DISTINCT s.code FROM site s JOIN site_contaminant sc ON sc.site_id = s.id
                                JOIN contaminant c ON c.code = sc.contaminant WHERE NOT s.archived AND c.minamata""")
    assert {r["code"] for r in minamata} <= set(CODE.findall(found))
    pages = pages_rendered(written.path, tmp_path)
    assert len(pages) == written.pages and all(max(ImageStat.Stat(p.convert("L")).var) > 300 for p in pages)


# ---- what the database holds is printed, never interpreted --------------------------------------

def test_hostile_names_are_printed_literally_in_every_report(register, tmp_path):
    engine, code = register["engine"], register["hostile"]
    printed = " ".join(HOSTILE.split())
    for path in (passport(engine, code, tmp_path / "p.pdf", on=ON).path,
                 priorities(engine, tmp_path / "r.pdf", region="KZ-KAR", on=ON).path,
                 conventions(engine, tmp_path / "c.pdf", on=ON).path):
        assert printed in pdf_text(path), path.name
    with open(conventions(engine, tmp_path / "c.csv", on=ON).path, encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


# ---- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("report, options, field, expected", [
    ("passport", {"code": "KZ-PAV-9999"}, "code", "the code of a site in the register"),
    ("passport", {"code": "nonsense; DROP TABLE site"}, "code", "the code of a site in the register"),
    ("passport", {"code": "KZ-KAR-0001", "lang": "de"}, "language", "one of kk, ru, en"),
    ("priorities", {"region": "Atlantis"}, "region", "a region's KATO code"),
    ("priorities", {"top": "0"}, "top", "a whole number of sites, 1 or more"),
    ("priorities", {"top": "-3"}, "top", "a whole number of sites, 1 or more"),
    ("priorities", {"top": "2.5"}, "top", "a whole number of sites, 1 or more"),
    ("priorities", {"top": "ten"}, "top", "a whole number of sites, 1 or more"),
    ("conventions", {"fmt": "xlsx"}, "format", "one of csv, pdf"),
    ("conventions", {"name": "c.txt"}, "format", "csv or pdf"),
    ("conventions", {"name": "missing/c.csv"}, "output", "a file in an existing folder"),
])
def test_bad_inputs_are_refused_naming_what_was_expected_and_nothing_is_written(register, tmp_path, report, options,
                                                                                field, expected):
    engine, options = register["engine"], dict(options)
    target = tmp_path / options.pop("name", "out.pdf")
    write = {"passport": lambda: passport(engine, options.pop("code"), target, **options),
             "priorities": lambda: priorities(engine, target, **options),
             "conventions": lambda: conventions(engine, target, **options)}[report]
    with pytest.raises(InvalidInput) as refused:
        write()
    assert refused.value.field == field and expected in refused.value.message and "received" in refused.value.message
    assert list(tmp_path.iterdir()) == []


def test_the_cli_writes_each_report_and_refuses_bad_options_cleanly(register, tmp_path, monkeypatch):
    run = cli_invoker(register["url"], monkeypatch)
    result = run("report", "passport", "kz-kar-0001", "-o", str(tmp_path / "p.pdf"), "--lang", "ru")
    assert result.exit_code == 0 and "wrote the passport of KZ-KAR-0001" in result.output, result.output
    result = run("report", "priorities", "-o", str(tmp_path / "r.pdf"), "--region", "KZ-VOS", "--top", "3")
    assert result.exit_code == 0 and "wrote the priority list (1 page," in result.output, result.output
    for name in ("c.csv", "c.pdf"):
        result = run("report", "conventions", "-o", str(tmp_path / name), "--lang", "kk")
        assert result.exit_code == 0 and "wrote the convention summary" in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.pdf", "p.pdf", "r.pdf"]
    refused = {("passport", "KZ-XXX-0001"): "Error: code: expected the code of a site in the register",
               ("priorities", "--top", "0"): "Error: top: expected a whole number of sites, 1 or more, received '0'",
               ("priorities", "--region", "Atlantis"): "Error: region: expected a region's KATO code",
               ("conventions", "--format", "docx"): "Error: format: expected one of csv, pdf, received 'docx'"}
    for args, message in refused.items():
        result = run("report", *args, "-o", str(tmp_path / "bad.pdf"))
        assert result.exit_code == 1 and message in result.output, result.output
    assert not (tmp_path / "bad.pdf").exists()


def test_the_public_may_not_print_reports_and_no_file_is_written(register, tmp_path):
    from gis.report_conventions import conventions
    from gis.report_passport import passport
    from gis.report_priorities import priorities
    from sites.errors import PermissionDenied
    from sites.permissions import PUBLIC

    engine = register["engine"]
    with pytest.raises(PermissionDenied):
        passport(engine, "KZ-KAR-0001", tmp_path / "p.pdf", actor=PUBLIC)
    with pytest.raises(PermissionDenied):
        priorities(engine, tmp_path / "r.pdf", actor=PUBLIC)
    with pytest.raises(PermissionDenied):
        conventions(engine, tmp_path / "c.csv", actor=PUBLIC)
    assert list(tmp_path.iterdir()) == []
