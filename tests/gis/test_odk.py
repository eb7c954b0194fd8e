"""ODK Central / KoboToolbox exports against a real PostGIS and files folder: every submission all or nothing."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from pyxform import xls2xform
from sqlalchemy import func, select

from gis import tables as t
from gis.cli import main
from gis.inspections import list_attachments, list_inspections
from gis.odk import SOURCE, import_export, parse_geoshape
from gis.reference import load_reference
from gis.services import Register
from gis.xlsform import form_version
from sites.errors import InvalidInput
from tests.gis.factories import site_data

A_KEY = "uuid:6f1c2f0e-4b1a-4c55-9d0e-0a7b1f3e2c11"
B_KEY = "uuid:0d9e8b7a-1c2b-4e3f-8a9b-5c6d7e8f9a01"
PHOTO_GPS = (52.2875, 76.9680)  # some 50 m from A's point
MAIN_HEADER = ["SubmissionDate", "start", "end", "deviceid", "name_en", "name_ru", "activity", "location-Latitude",
               "location-Longitude", "location-Altitude", "location-Accuracy", "location_precision", "footprint",
               "containment", "accessibility", "area_ha", "description", "inspected_on", "findings",
               "meta-instanceID", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
               "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
REPEAT_HEADERS = {
    "contaminant": ["contaminant_code", "contaminant_medium", "status", "PARENT_KEY", "KEY"],
    "sample": ["sample_contaminant", "sample_medium", "result", "unit", "detection_limit", "depth_m", "sampled_on",
               "laboratory", "PARENT_KEY", "KEY"],
    "photo": ["photo_file", "caption", "PARENT_KEY", "KEY"],
}
WRITTEN = (t.site, t.site_contaminant, t.sample, t.inspection, t.attachment, t.import_record, t.import_batch)


def jpeg(gps: tuple[float, float] | None = None, colour: str = "olive") -> bytes:
    """A phone photo; with ``gps`` its EXIF GPS directory holds that position (degrees, minutes, seconds)."""
    exif = Image.Exif()
    if gps is not None:
        exif[0x8825] = {1: "N", 2: _dms(gps[0]), 3: "E", 4: _dms(gps[1])}
    out = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    return float(int(value)), float(int(value * 60 % 60)), round(value * 3600 % 60, 4)


@dataclass
class Submission:
    """One submission as ODK Central exports it: a main row and its repeat rows."""

    key: str
    answers: dict[str, str]
    contaminant: list[dict[str, str]] = field(default_factory=list)
    sample: list[dict[str, str]] = field(default_factory=list)
    photo: list[dict[str, str]] = field(default_factory=list)
    instance: str | None = None

    def row(self) -> dict[str, str]:
        meta = {"SubmissionDate": "2024-05-14T09:12:44.123Z", "start": "2024-05-14T13:55:02.000+05:00",
                "end": "2024-05-14T14:31:40.000+05:00", "deviceid": "collect:Fh3kQ9xZ2pLm7Tq1",
                "meta-instanceID": self.instance or self.key, "KEY": self.key, "SubmitterID": "7",
                "SubmitterName": "Aigerim Bekova", "AttachmentsPresent": str(len(self.photo)),
                "AttachmentsExpected": str(len(self.photo)), "Status": "", "ReviewState": "", "DeviceID": "",
                "Edits": "0", "FormVersion": form_version()}
        return {**meta, **self.answers}


def mercury_sludge() -> Submission:
    """Pavlodar chlor-alkali sludge pond: two contaminants, two samples below the limit, two photos."""
    answers = {"name_en": "Pavlodar chlor-alkali sludge pond", "name_ru": "Шламонакопитель ПО «Химпром»",
               "activity": "chemical_plant", "location-Latitude": "52.2871", "location-Longitude": "76.9674",
               "location-Altitude": "118.3", "location-Accuracy": "4.9", "location_precision": "facility",
               "containment": "poor", "accessibility": "restricted", "area_ha": "12.5",
               "description": "Dried sludge beds,\nbroken fence on the north side", "inspected_on": "2024-05-14",
               "findings": "Mercury droplets seen in the eastern bed."}
    return Submission(A_KEY, answers, contaminant=[
        {"contaminant_code": "hg", "contaminant_medium": "soil", "status": "confirmed"},
        {"contaminant_code": "hg", "contaminant_medium": "groundwater", "status": "suspected"},
    ], sample=[
        {"sample_contaminant": "hg", "sample_medium": "soil", "result": "<0,05", "unit": "mg_per_kg",
         "depth_m": "0.2", "sampled_on": "2024-05-14", "laboratory": "ЦЛ Павлодар"},
        {"sample_contaminant": "hg", "sample_medium": "groundwater", "result": "н/о", "unit": "mg_per_L",
         "detection_limit": "0.0001", "sampled_on": "2024-05-14"},
    ], photo=[
        {"photo_file": "1715678901234.jpg", "caption": "eastern bed"},
        {"photo_file": "1715678955555.jpg", "caption": ""},
    ])


def pesticide_store() -> Submission:
    """A walked boundary around a former pesticide store near Shieli."""
    answers = {"name_en": "", "name_ru": "Склад ядохимикатов у Шиели", "activity": "pesticide_store",
               "location-Latitude": "44.1702", "location-Longitude": "66.7499", "location-Altitude": "",
               "location-Accuracy": "12", "location_precision": "approximate",
               "footprint": "44.1700 66.7495 0 5;44.1700 66.7505 0 5;44.1706 66.7505 0 5;44.1706 66.7495 0 5;"
                            "44.1700 66.7495 0 5",
               "containment": "none", "accessibility": "open", "inspected_on": "2024-05-16"}
    return Submission(B_KEY, answers, contaminant=[
        {"contaminant_code": "ddt", "contaminant_medium": "soil", "status": ""}])


MEDIA = {"1715678901234.jpg": jpeg(gps=PHOTO_GPS), "1715678955555.jpg": jpeg(colour="navy")}


def csv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_export(path: Path, submissions: list[Submission], media: dict[str, bytes] | None = None,
                 extra: dict[str, bytes] | None = None) -> Path:
    """A zip as ODK Central's "CSV zip with media" export of kz_legacy_sites."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("kz_legacy_sites.csv", csv_text(MAIN_HEADER, [s.row() for s in submissions]))
        for name, header in REPEAT_HEADERS.items():
            rows = [{"PARENT_KEY": s.key, "KEY": f"{s.key}/{name}[{i}]", **row}
                    for s in submissions for i, row in enumerate(getattr(s, name), start=1)]
            archive.writestr(f"kz_legacy_sites-{name}.csv", csv_text(header, rows))
        for name, content in (MEDIA if media is None else media).items():
            archive.writestr(f"media/{name}", content)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return path


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one() for table in WRITTEN}


def stored_files(folder: Path) -> list[str]:
    """Every file under the files folder, temporary ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def admin(engine):
    register = Register(engine)
    load_reference(engine, register.actor())
    return register.actor()


@pytest.fixture
def files(tmp_path) -> Path:
    return tmp_path / "files"


def run(engine, actor, path, files, **options):
    return import_export(engine, actor, path, files_dir=files, **options)


def by_submission(report) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for problem in report.rejections:
        found.setdefault(problem.row, []).append((problem.column, problem.reason))
    return found


# ---- a realistic export ---------------------------------------------------------------------------------------------
def test_export_becomes_sites_samples_inspections_and_flagged_photos(engine, admin, files, tmp_path):
    report = run(engine, admin, write_export(tmp_path / "export.zip", [mercury_sludge(), pesticide_store()]), files)
    assert (report.rows_read, report.imported, report.unchanged, report.rejected) == (2, 2, 0, 0), report.to_json()
    assert report.committed and report.target == "odk" and report.source == SOURCE == "odk:kz_legacy_sites"
    assert counts(engine) == {"site": 2, "site_contaminant": 3, "sample": 2, "inspection": 2, "attachment": 2,
                              "import_record": 6, "import_batch": 1}
    a, b = _sites(engine)
    assert (a["name_ru"], a["activity"], a["location_precision"], a["containment"], a["accessibility"],
            a["area_ha"]) == ("Шламонакопитель ПО «Химпром»", "chemical_plant", "facility", "poor", "restricted", 12.5)
    assert (a["lat"], a["lon"]) == pytest.approx((52.2871, 76.9674)) and a["footprint"] is None
    assert a["location_note"] == "ODK Collect GPS: accuracy 4.9 m, altitude 118 m" and A_KEY in a["sources"]
    assert a["description"] == "Dried sludge beds,\nbroken fence on the north side"
    assert b["name_en"] is None and b["footprint"].startswith("MULTIPOLYGON(((66.7495 44.17")
    assert b["containment"] == "none"


def test_samples_below_the_limit_keep_qualifier_limit_and_canonical_unit(engine, admin, files, tmp_path):
    run(engine, admin, write_export(tmp_path / "export.zip", [mercury_sludge()]), files)
    with engine.connect() as conn:
        rows = conn.execute(select(t.sample).order_by(t.sample.c.id)).mappings().all()
        statuses = dict(conn.execute(select(t.site_contaminant.c.medium, t.site_contaminant.c.status)).all())
    soil, water = rows
    assert (soil["qualifier"], soil["value"], soil["detection_limit"], soil["unit"], soil["depth_m"]) == \
        ("<", 0.05, 0.05, "mg/kg", 0.2)
    assert soil["laboratory"] == "ЦЛ Павлодар" and str(soil["sampled_on"]) == "2024-05-14"
    assert (water["qualifier"], water["value"], water["detection_limit"], water["unit"], water["unit_canonical"]) == \
        ("<", 0.0001, 0.0001, "mg/L", "mg/L")
    assert statuses == {"soil": "confirmed", "groundwater": "suspected"}


def test_inspection_carries_condition_findings_captions_and_geotag_flags(engine, admin, files, tmp_path):
    run(engine, admin, write_export(tmp_path / "export.zip", [mercury_sludge()]), files)
    [site] = _sites(engine)
    [inspection] = list_inspections(engine, site["code"])
    assert (str(inspection["inspected_on"]), inspection["condition"], inspection["inspector"]) == \
        ("2024-05-14", "poor", "Aigerim Bekova")
    assert inspection["findings"].startswith("Mercury droplets") and "1715678901234.jpg: eastern bed" in \
        inspection["findings"] and inspection["attachments"] == 2
    tagged, untagged = list_attachments(engine, site["code"])
    assert (tagged["filename"], tagged["geotag_missing"], untagged["geotag_missing"]) == \
        ("1715678901234.jpg", False, True)
    assert (tagged["lat"], tagged["lon"]) == pytest.approx(PHOTO_GPS, abs=1e-5) and 30 < tagged["distance_m"] < 80
    assert (files / tagged["storage_path"]).read_bytes() == MEDIA["1715678901234.jpg"]
    assert len(stored_files(files)) == 4 and not [f for f in stored_files(files) if f.endswith(".part")]


def test_batch_records_and_audit_trace_every_row_to_its_submission(engine, admin, files, tmp_path):
    report = run(engine, admin, write_export(tmp_path / "export.zip", [mercury_sludge(), pesticide_store()]), files)
    with engine.connect() as conn:
        batch = conn.execute(select(t.import_batch)).mappings().one()
        records = conn.execute(select(t.import_record.c.row_key, t.import_record.c.entity)).all()
        audited = dict(conn.execute(select(t.audit.c.entity, func.count()).group_by(t.audit.c.entity)).all())
    assert (batch["id"], batch["target"], batch["mode"], batch["rows_read"], batch["imported"]) == \
        (report.batch_id, "odk", "all", 2, 2)
    assert batch["mapping"]["flavour"] == "ODK Central" and batch["report"]["imported"] == 2
    assert sorted(records) == sorted([(A_KEY, "site"), (A_KEY, "inspection"), (B_KEY, "site"), (B_KEY, "inspection"),
                                      (f"{A_KEY}/sample[1]", "sample"), (f"{A_KEY}/sample[2]", "sample")])
    assert {k: audited.get(k) for k in ("site", "site_contaminant", "sample", "inspection", "attachment",
                                        "import_batch")} == {"site": 2, "site_contaminant": 3, "sample": 2,
                                                             "inspection": 2, "attachment": 2, "import_batch": 1}


# ---- repeated and edited submissions --------------------------------------------------------------------------------
def test_importing_the_same_export_again_changes_nothing(engine, admin, files, tmp_path):
    path = write_export(tmp_path / "export.zip", [mercury_sludge(), pesticide_store()])
    run(engine, admin, path, files)
    before, on_disk = counts(engine), stored_files(files)
    again = run(engine, admin, path, files)
    assert (again.rows_read, again.imported, again.unchanged, again.rejected) == (2, 0, 2, 0)
    assert not again.committed and again.batch_id is None
    assert counts(engine) == before and stored_files(files) == on_disk


def test_the_same_instance_twice_in_one_export_is_a_repeat(engine, admin, files, tmp_path):
    path = write_export(tmp_path / "export.zip", [mercury_sludge(), pesticide_store(), mercury_sludge()])
    report = run(engine, admin, path, files)
    assert (report.rows_read, report.imported, report.rejected, report.held_back) == (3, 0, 3, 2)
    [(column, reason)] = by_submission(report)[3]
    assert column == "KEY" and "repeats submission 1" in reason and report.reasons["repeated submission"] == 1
    assert counts(engine)["site"] == 0 and stored_files(files) == []
    valid = run(engine, admin, path, files, valid_only=True)
    assert (valid.imported, valid.rejected) == (2, 1) and counts(engine)["sample"] == 2  # the repeat's rows once


def test_an_edited_submission_is_reported_never_overwritten(engine, admin, files, tmp_path):
    run(engine, admin, write_export(tmp_path / "first.zip", [mercury_sludge()]), files)
    edited = mercury_sludge()
    edited.instance = "uuid:1b2c3d4e-0000-4000-8000-00000000e1e1"  # Central keeps KEY, gives the edit a new ID
    edited.answers["containment"] = "partial"
    report = run(engine, admin, write_export(tmp_path / "second.zip", [edited, pesticide_store()]), files,
                 valid_only=True)
    assert (report.imported, report.unchanged, report.rejected) == (1, 0, 1)
    [(column, reason)] = by_submission(report)[1]
    assert column == "KEY" and "edited since" in reason and "the stored site is kept" in reason
    assert [s["containment"] for s in _sites(engine)] == ["poor", "none"]


# ---- rejected submissions store nothing -----------------------------------------------------------------------------
def test_a_bad_unit_rejects_its_submission_and_stores_nothing(engine, admin, files, tmp_path):
    bad = mercury_sludge()
    bad.sample[0]["unit"] = "furlongs"
    path = write_export(tmp_path / "export.zip", [bad, pesticide_store()])
    before = counts(engine)
    report = run(engine, admin, path, files)
    assert (report.imported, report.rejected, report.held_back, report.committed) == (0, 2, 1, False)
    [problem] = report.rejections
    assert (problem.row, problem.where, problem.column, problem.value) == \
        (1, "kz_legacy_sites-sample.csv line 2", "unit", "furlongs")
    assert "unit: expected one of mg/kg" in problem.reason
    assert counts(engine) == before and stored_files(files) == []


def test_valid_only_imports_the_good_submission_and_nothing_of_the_bad_one(engine, admin, files, tmp_path):
    bad = mercury_sludge()
    bad.sample[1]["result"] = "н/о"
    bad.sample[1]["detection_limit"] = ""  # not detected, limit unknown: the value it stands for is unknown
    report = run(engine, admin, write_export(tmp_path / "export.zip", [bad, pesticide_store()]), files,
                 valid_only=True)
    assert (report.rows_read, report.imported, report.rejected, report.held_back) == (2, 1, 1, 0)
    assert by_submission(report)[1] == [("result", "result: expected a detection limit alongside a 'not detected' "
                                                   "result, received 'н/о'")]
    assert counts(engine) == {"site": 1, "site_contaminant": 1, "sample": 0, "inspection": 1, "attachment": 0,
                              "import_record": 2, "import_batch": 1}
    assert stored_files(files) == []  # the bad submission's photos were never written


def test_a_photo_missing_from_the_export_rejects_its_submission(engine, admin, files, tmp_path):
    media = {"1715678901234.jpg": MEDIA["1715678901234.jpg"]}
    path = write_export(tmp_path / "export.zip", [mercury_sludge(), pesticide_store()], media=media)
    report = run(engine, admin, path, files, valid_only=True)
    [problem] = report.rejections
    assert (problem.row, problem.column, problem.value, problem.where) == \
        (1, "photo_file", "1715678955555.jpg", "kz_legacy_sites-photo.csv line 3")
    assert "listed but missing" in problem.reason and report.reasons == {"photo missing from the export": 1}
    assert counts(engine)["site"] == 1 and counts(engine)["attachment"] == 0 and stored_files(files) == []


def test_a_refusal_after_photos_were_staged_leaves_no_file(engine, admin, files, tmp_path):
    earlier = mercury_sludge()
    earlier.key, earlier.photo = "uuid:00000000-1111-4222-8333-444444444444", []
    run(engine, admin, write_export(tmp_path / "first.zip", [earlier]), files)
    clash = mercury_sludge()
    clash.sample[0]["KEY"] = f"{earlier.key}/sample[1]"  # a hand-edited export: a sample claims a stored row's KEY
    before = counts(engine)
    report = run(engine, admin, write_export(tmp_path / "second.zip", [clash]), files, valid_only=True)
    assert (report.imported, report.rejected) == (0, 1) and report.rejections[0].column == "(submission)"
    assert "already stored" in report.rejections[0].reason
    assert counts(engine) == before and stored_files(files) == []


def test_inspector_outside_the_sites_region_is_refused_with_nothing_stored(engine, admin, files, tmp_path):
    inspector = Register(engine).add_user(admin, "dana", "inspector", ["KZ-KAR"])
    report = run(engine, inspector, write_export(tmp_path / "export.zip", [mercury_sludge()]), files)
    assert report.reasons == {"not permitted in this region": 1}
    assert report.rejections[0].column == "location-Latitude/location-Longitude"
    assert counts(engine)["site"] == 0 and stored_files(files) == []


def test_dry_run_checks_everything_and_stores_nothing(engine, admin, files, tmp_path):
    path = write_export(tmp_path / "export.zip", [mercury_sludge(), pesticide_store()])
    before = counts(engine)
    report = run(engine, admin, path, files, dry_run=True)
    assert (report.dry_run, report.committed, report.imported, report.rejected) == (True, False, 2, 0)
    assert counts(engine) == before and stored_files(files) == []
    assert run(engine, admin, path, files).imported == 2


# ---- archives refused whole, other flavours --------------------------------------------------------------------------
def test_a_zip_entry_escaping_its_folder_is_refused(engine, admin, files, tmp_path):
    path = write_export(tmp_path / "export.zip", [mercury_sludge()], extra={"../evil.jpg": MEDIA["1715678901234.jpg"]})
    with pytest.raises(InvalidInput, match="paths stay inside the archive") as refused:
        run(engine, admin, path, files)
    assert "../evil.jpg" in str(refused.value.received)
    assert counts(engine)["site"] == 0 and not (tmp_path / "evil.jpg").exists() and stored_files(files) == []


def test_a_truncated_export_and_an_export_of_another_form_are_refused(engine, admin, files, tmp_path):
    whole = write_export(tmp_path / "export.zip", [mercury_sludge()]).read_bytes()
    (tmp_path / "cut.zip").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidInput, match="truncated or corrupt"):
        run(engine, admin, tmp_path / "cut.zip", files)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("water_points.csv", "SubmissionDate,name,KEY\n2024-01-01,well,uuid:1\n")
        archive.writestr("water_points-visit.csv", "note,PARENT_KEY,KEY\n")
    with pytest.raises(InvalidInput, match="export of form kz_legacy_sites"):
        run(engine, admin, tmp_path / "other.zip", files)
    (tmp_path / "labels.csv").write_text("Site name (English);GPS point;_uuid\nStore;43.2 76.9 0 5;1\n")
    with pytest.raises(InvalidInput, match="question names as headers"):  # Kobo's export with label headers
        run(engine, admin, tmp_path / "labels.csv", files)


KOBO_HEADER = ("start;end;name_en;name_ru;activity;location;_location_latitude;_location_longitude;"
               "_location_altitude;_location_precision;location_precision;containment;accessibility;area_ha;"
               "inspected_on;findings;meta/instanceID;meta/deprecatedID;_id;_uuid;_submission_time;"
               "_validation_status;_submitted_by;__version__;_index")
KOBO_UUID = "5b1e0c4a-9f3e-4d2a-8c1b-2e3f4a5b6c7d"


def kobo_csv(path: Path, containment: str = "partial", uuid: str = KOBO_UUID, deprecated: str = "") -> Path:
    """A KoboToolbox CSV export (XML values and headers, ';', BOM) of one submission."""
    row = ("2024-06-02T10:01:00.000+05:00;2024-06-02T10:20:00.000+05:00;Balkhash tailings;Хвосты Балхаша;"
           f"mining_smelting;46.8439 74.9811 352 3.5;46.8439;74.9811;352;3.5;facility;{containment};fenced;40;"
           f"2024-06-02;Dust blowing east;uuid:{uuid};{deprecated};301;{uuid};2024-06-02T05:21:00;;serik_k;vX;1")
    path.write_bytes(b"\xef\xbb\xbf" + f"{KOBO_HEADER}\n{row}\n".encode())
    return path


def test_kobotoolbox_csv_with_semicolons_and_underscore_columns(engine, admin, files, tmp_path):
    path = kobo_csv(tmp_path / "Kazakhstan_legacy_pollution_site_-_latest_version_-_False_-_2024-06-03.csv")
    report = run(engine, admin, path, files)
    assert (report.imported, report.rejected) == (1, 0), report.to_json()
    assert any("KoboToolbox export" in n for n in report.notes) and any("vX" in n for n in report.notes)
    [site] = _sites(engine)
    assert (site["lat"], site["lon"], site["containment"]) == (pytest.approx(46.8439), pytest.approx(74.9811),
                                                               "partial")
    assert list_inspections(engine, site["code"])[0]["inspector"] == "serik_k"
    assert run(engine, admin, path, files).unchanged == 1


def test_an_edit_naming_its_deprecated_instance_is_reported(engine, admin, files, tmp_path):
    run(engine, admin, kobo_csv(tmp_path / "first.csv"), files)
    edit = kobo_csv(tmp_path / "edit.csv", "good", uuid="9a8b7c6d-0000-4000-8000-000000000002",
                    deprecated=f"uuid:{KOBO_UUID}")
    report = run(engine, admin, edit, files)
    assert report.reasons == {"edited since an earlier import": 1} and f"instanceID uuid:{KOBO_UUID}" in \
        report.rejections[0].reason
    assert [s["containment"] for s in _sites(engine)] == ["partial"] and counts(engine)["import_batch"] == 1


def test_the_imported_sites_are_rescored_when_the_register_is_scored(engine, admin, files, tmp_path):
    from gis.scoring import rescore

    Register(engine).create_site(admin, site_data(lat=PHOTO_GPS[0], lon=PHOTO_GPS[1]))
    rescore(engine, admin)
    report = run(engine, admin, write_export(tmp_path / "export.zip", [mercury_sludge(), pesticide_store()]), files)
    with engine.connect() as conn:
        scored = conn.execute(select(t.score.c.site_id).where(t.score.c.site_id.in_(report.site_ids))).scalars()
        assert sorted(scored) == sorted(report.site_ids)
    assert [w.kind for w in report.warnings] == ["possible duplicate of a stored site"]  # 50 m from it


def test_geoshape_parsing():
    square = parse_geoshape("44.17 66.74 0 5; 44.17 66.75 0 5;44.18 66.75 0 5;44.18 66.74 0 5")
    assert square.exterior.coords[0] == square.exterior.coords[-1] == (66.74, 44.17) and square.area > 0
    for bad in ("44.17 66.74;44.18 66.75", "44.17;44.18 66.75;44.19 66.70", "north 66.7;44 66;45 67"):
        with pytest.raises(InvalidInput, match="at least three points"):
            parse_geoshape(bad)


def test_a_self_crossing_outline_is_repaired_with_a_warning(engine, admin, files, tmp_path):
    bowtie = pesticide_store()
    bowtie.answers["footprint"] = "44.1700 66.7495 0 5;44.1706 66.7505 0 5;44.1700 66.7505 0 5;44.1706 66.7495 0 5"
    report = run(engine, admin, write_export(tmp_path / "export.zip", [bowtie]), files)
    assert report.imported == 1 and [w.column for w in report.warnings] == ["footprint"]
    assert "Self-intersection" in report.warnings[0].reason


# ---- the command line -----------------------------------------------------------------------------------------------
@pytest.fixture
def cli(db_url, engine, admin, files, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SITES_FILES_DIR", str(files))

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_cli_writes_a_form_pyxform_converts(cli, tmp_path):
    result = cli("odk", "form", "-o", str(tmp_path / "form.xlsx"))
    assert result.exit_code == 0 and f"form kz_legacy_sites version {form_version()}, 34 questions" in result.output
    xform = xls2xform.convert(str(tmp_path / "form.xlsx")).xform
    assert 'id="kz_legacy_sites"' in xform and "/sample/result" in xform
    refused = cli("odk", "form", "-o", str(tmp_path / "nowhere" / "form.xlsx"))
    assert refused.exit_code == 1 and "output: expected an .xlsx file in an existing folder" in refused.output


def test_cli_import_json_matches_sites_import_and_files_land_in_settings_folder(cli, engine, files, tmp_path):
    path = write_export(tmp_path / "export.zip", [mercury_sludge(), pesticide_store()])
    dry = json.loads(cli("odk", "import", str(path), "--dry-run", "--json").output)
    assert (dry["dry_run"], dry["imported"], dry["committed"]) == (True, 2, False) and stored_files(files) == []
    result = cli("odk", "import", str(path), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 0 and (report["rows_read"], report["imported"], report["target"]) == (2, 2, "odk")
    (tmp_path / "one.csv").write_text("name_en,lat,lon,activity,location_precision\n"
                                      "Test store,43.2,76.9,pesticide_store,approximate\n", encoding="utf-8")
    plain = json.loads(cli("import", str(tmp_path / "one.csv"), "--target", "site", "--json").output)
    assert report.keys() == plain.keys()
    assert len(stored_files(files)) == 4
    again = cli("odk", "import", str(path))
    assert again.exit_code == 0 and "imported 0, unchanged 2, rejected 0" in again.output


def test_cli_lists_rejections_and_exits_1(cli, tmp_path):
    bad = mercury_sludge()
    bad.contaminant[0]["contaminant_code"] = "unobtainium"
    result = cli("odk", "import", str(write_export(tmp_path / "export.zip", [bad, pesticide_store()])))
    assert result.exit_code == 1 and "nothing stored: 1 submissions have problems" in result.output
    assert ("submission 1 (kz_legacy_sites-contaminant.csv line 2), contaminant_code: contaminant_code: expected a "
            "contaminant code") in result.output


def _sites(engine) -> list[dict]:
    register = Register(engine)
    return [register.get_site(code) for code in register.site_codes()]
