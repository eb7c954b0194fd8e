"""Attacks through the register's inputs: script in stored text, SQL in every filter, hostile uploads.

Each test stores or sends the attack through the public services and checks the outcome a user would see: the text
comes back literally (never as markup or SQL), and a hostile file is refused with the register unchanged.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from gis import maps, queries
from gis import tables as t
from gis.duplicates import find_duplicates
from gis.export import export_sites
from gis.html_export import export_html
from gis.import_readers import read_table
from gis.inspections import attach
from gis.services import Register
from sites.errors import InvalidInput, NotFound
from tests.gis.factories import site_data

SCRIPT = '<img src=x onerror=alert(1)><script>alert(2)</script>'
TEMPLATE = "{{ 7*191 }} ${alert(3)} `x`"
SQL = "x'); DROP TABLE site; --"
NAMES = (SCRIPT, TEMPLATE, SQL)


@pytest.fixture
def register(engine):
    from gis.reference import load_reference

    register = Register(engine)
    load_reference(engine, register.actor())
    for number, name in enumerate(NAMES, start=1):
        register.create_site(register.actor(), site_data(code=f"KZ-PAV-{number:04d}", name_en=name,
                                                         region_kato="550000000", lat=52 + number / 100, lon=77.0))
    return register


def tables(engine) -> set[str]:
    with engine.connect() as conn:
        return {row[0] for row in conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def site_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.site)).scalar()


# ---- script and template syntax in stored text ------------------------------------------------------------------
def test_hostile_names_come_back_literally_from_the_register(register):
    stored = {register.get_site(f"KZ-PAV-{n:04d}")["name_en"] for n in range(1, 4)}
    assert stored == set(NAMES)


def test_the_map_page_carries_names_as_escaped_data_only(register, engine):
    html = maps.site_map(queries.map_sites(engine)).get_root().render()
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "1337" not in html  # {{ 7*191 }} was not evaluated
    data = json.loads(re.search(r"var data = (\{.*?\});\n", html).group(1))
    assert {row[3] for row in data["rows"]} == set(NAMES)


def test_the_offline_html_export_carries_names_as_escaped_data_only(register, engine, tmp_path):
    exported = export_html(engine, tmp_path / "m.html")
    html = exported.path.read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script>alert(2)" not in html and "1337" not in html
    assert len(exported.codes) == 3


def test_a_formula_in_a_name_stays_text_in_a_workbook(register, engine, tmp_path):
    from openpyxl import load_workbook

    register.create_site(register.actor(), site_data(code="KZ-PAV-0009", name_en="=cmd|' /C calc'!A0",
                                                     region_kato="550000000", lat=52.5, lon=77.5))
    export_sites(engine, "xlsx", tmp_path / "s.xlsx")
    cells = [c for row in load_workbook(tmp_path / "s.xlsx").active.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


# ---- SQL in filters and searches --------------------------------------------------------------------------------
@pytest.mark.parametrize("attack", [SQL, "' OR '1'='1", "550000000' OR 'x'='x", "1; SELECT pg_sleep(5)"])
def test_sql_in_filters_matches_nothing_and_changes_nothing(register, engine, attack):
    before = (tables(engine), site_count(engine))
    assert queries.map_sites(engine, [attack]) == []
    with engine.connect() as conn:
        found = find_duplicates(conn, 52.01, 77.0, attack)
    assert {d["code"] for d in found} <= {"KZ-PAV-0001", "KZ-PAV-0002", "KZ-PAV-0003"}  # by distance, not by SQL
    with pytest.raises(NotFound, match="no site with code"):
        register.get_site(attack)
    assert (tables(engine), site_count(engine)) == before


def test_sql_in_an_export_filter_is_refused_as_an_unknown_region(register, engine, tmp_path):
    with pytest.raises(InvalidInput):
        export_sites(engine, "csv", tmp_path / "s.csv", region=SQL)
    assert not (tmp_path / "s.csv").exists() and "site" in tables(engine)


# ---- hostile uploads --------------------------------------------------------------------------------------------
def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_an_archive_entry_leaving_its_folder_is_refused(tmp_path):
    path = tmp_path / "sites.zip"
    path.write_bytes(zipped({"../../etc/cron.d/x.csv": b"code,name\n1,a\n"}))
    with pytest.raises(InvalidInput, match="stay inside the archive"):
        read_table(path)
    assert not (tmp_path.parent.parent / "etc").exists()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("sites.csv", "w") as entry:
        zeros = bytes(2**20)
        for _ in range(64):  # 64 MiB of zeros: a few hundred kilobytes packed
            entry.write(zeros)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(InvalidInput, match="contents total at most"):
        read_table(path, max_bytes=10_000_000)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # the warning is the point
def test_an_image_bomb_is_refused_without_decoding_it(register, engine, tmp_path):
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, format="PNG")  # 144 million pixels in a small file
    before = site_count(engine)
    with pytest.raises(InvalidInput, match="million pixels"):
        attach(engine, register.actor(), "KZ-PAV-0001", "photo.png", out.getvalue(), files_dir=tmp_path)
    assert site_count(engine) == before and not any(tmp_path.rglob("*.png"))


@pytest.mark.parametrize("name, content", [
    ("photo.jpg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ("report.pdf", b"<html><script>alert(1)</script></html>"),
    ("run.jpg", b"MZ\x90\x00" + bytes(200)),
])
def test_a_file_whose_content_is_not_its_claimed_type_is_refused(register, engine, tmp_path, name, content):
    with pytest.raises(InvalidInput):
        attach(engine, register.actor(), "KZ-PAV-0001", name, content, files_dir=tmp_path)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.attachment)).scalar() == 0


def test_a_workbook_that_unpacks_to_far_more_than_its_size_is_refused(tmp_path):
    path = tmp_path / "sites.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/sharedStrings.xml", "w") as entry:
            for _ in range(32):  # 32 MiB of one repeated string: kilobytes packed
                entry.write(b"<si><t>aaaaaaaa</t></si>" * 43_690)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(InvalidInput, match="a workbook whose contents total at most"):
        read_table(path, max_bytes=5_000_000)


def test_a_formula_in_a_name_is_defused_in_csv_exports(register, engine, tmp_path):
    import csv as csv_module

    register.create_site(register.actor(), site_data(code="KZ-PAV-0009", name_en="=HYPERLINK(\"http://x\")",
                                                     region_kato="550000000", lat=52.5, lon=77.5))
    export_sites(engine, "csv", tmp_path / "s.csv")
    rows = list(csv_module.DictReader((tmp_path / "s.csv").open(encoding="utf-8")))
    names = {row["code"]: row["name"] for row in rows}
    assert names["KZ-PAV-0009"] == "'=HYPERLINK(\"http://x\")"
    assert names["KZ-PAV-0001"] == SCRIPT  # other text untouched
    assert all(not row["lat"].startswith("'") for row in rows)
