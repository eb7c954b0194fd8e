"""The XLSForm for ODK Collect / KoboToolbox: it converts to a valid XForm and carries the register's vocabularies."""

from __future__ import annotations

from openpyxl import load_workbook
from pyxform import xls2xform

from gis.xlsform import QUESTIONS, choice_lists, unit_of_slug, unit_slug, write_xlsform
from sites import vocab
from sites.records import SITE_FIELDS
from sites.units import UNITS


def test_the_form_converts_to_an_xform_with_every_question(tmp_path):
    path = tmp_path / "form.xlsx"
    meta = write_xlsform(path)
    warnings: list[str] = []
    xform = xls2xform.convert(str(path), warnings=warnings).xform
    assert f'id="{meta["form_id"]}"' in xform and f'version="{meta["version"]}"' in xform
    for kind, name, *_ in QUESTIONS:
        if kind not in ("end_repeat",):
            assert f"/{name}" in xform, name
    assert [w for w in warnings if "max-pixels" not in w] == []  # full-size photos keep their EXIF geotag


def test_choice_lists_are_the_registers_vocabularies_and_catalogue(tmp_path):
    lists = choice_lists()
    assert [v for v, *_ in lists["activity"]] == list(vocab.ACTIVITY)
    assert [v for v, *_ in lists["containment"]] == list(vocab.CONTAINMENT)
    assert {"hg", "pb", "ddt"} <= {v for v, *_ in lists["contaminant_code"]}
    assert all(unit_of_slug(unit_slug(u)) == u for u in UNITS)
    book = load_workbook(write_xlsform(tmp_path / "f.xlsx") and tmp_path / "f.xlsx")
    used = {row[0].split(" ", 1)[1] for row in book["survey"].iter_rows(min_row=2, values_only=True)
            if row[0] and row[0].startswith("select_one ")}
    listed = {row[0] for row in book["choices"].iter_rows(min_row=2, values_only=True)}
    assert used <= listed


def test_site_questions_use_the_registers_field_names():
    fields = {f.name for f in SITE_FIELDS}
    site_questions = {"name_en", "name_ru", "activity", "location_precision", "containment", "accessibility",
                      "area_ha", "description"}
    assert site_questions <= fields
    assert site_questions <= {name for _, name, *_ in QUESTIONS}


def test_the_version_changes_with_the_catalogue(tmp_path):
    from gis.reference import DATA_DIR
    from gis.xlsform import form_version

    for name in ("contaminants.csv",):
        (tmp_path / name).write_text((DATA_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    same = form_version(tmp_path)
    assert same == form_version(DATA_DIR)
    with (tmp_path / "contaminants.csv").open("a", encoding="utf-8") as extra:
        extra.write("xx,,new thing,новое,жаңа,other,,false,false,,test\n")
    assert form_version(tmp_path) != same
