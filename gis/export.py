"""Export live sites with their latest scores as GeoJSON, GeoPackage, zipped shapefile, KML, CSV or XLSX.

Every export can be narrowed to a region or a list of sites, names come in the chosen language, and each file says
when it was made, with which scoring method, and from what (as layer metadata, a sheet header or extra columns).
Files are written beside the target and renamed, so a failure never leaves half a file.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from pathlib import Path
from typing import Iterable

import geopandas as gpd
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Engine, func, select, true

from gis import tables as t
from gis.printmap import find_region, parse_codes
from gis.public import frame_for
from gis.ranking_output import write_output
from gis.xlsx import workbook_bytes
from sites.errors import InvalidInput
from sites.i18n import parse_language, text
from sites.permissions import Actor
from sites.regions import BY_KATO
from sites.report_format import csv_cell

FORMATS = ("geojson", "gpkg", "shp", "kml", "csv", "xlsx")
COLUMNS = ("code", "name", "name_ru", "name_kk", "region", "region_kato", "district_kato", "activity",
           "workflow_stage", "location_precision", "priority_class", "score", "confidence", "score_method",
           "scored_at")
# Shapefile field names hold ten characters at most: say which short name stands for which column.
SHP_NAMES = {"location_precision": "precision", "district_kato": "district", "workflow_stage": "stage",
             "priority_class": "class", "score_method": "method", "confidence": "confidenc", "region_kato": "reg_kato"}


def sites_frame(engine: Engine, *, region: str | None = None, codes: str | Iterable[str] = (),
                lang: str = "en", actor: Actor | None = None) -> gpd.GeoDataFrame:
    """Live sites with their latest score as a GeoDataFrame in EPSG:4326, filtered, ``name`` in ``lang``; for the
    public ``actor`` in the public form (confidential sites generalised, see ``gis.public``)."""
    chosen = find_region(region) if region not in (None, "") else None
    codes = parse_codes(codes)
    if chosen and codes:
        raise InvalidInput("sites", ",".join(codes), "either a region or a list of sites, not both")
    s, sc = t.site, t.score
    latest = (select(sc.c.total, sc.c.priority_class, sc.c.confidence, sc.c.method, sc.c.method_version,
                     sc.c.computed_at).where(sc.c.site_id == s.c.id)
              .order_by(sc.c.computed_at.desc(), sc.c.id.desc()).limit(1).lateral("latest"))
    order = dict.fromkeys((lang, "ru", "kk", "en"))
    query = (select(s.c.code, func.coalesce(*(s.c[f"name_{k}"] for k in order)).label("name"), s.c.name_ru,
                    s.c.name_kk, s.c.region_kato, s.c.district_kato, s.c.activity, s.c.stage.label("workflow_stage"),
                    s.c.location_precision, latest.c.priority_class, latest.c.total.label("score"),
                    latest.c.confidence, (latest.c.method + " " + latest.c.method_version).label("score_method"),
                    latest.c.computed_at.label("scored_at"), s.c.confidential, s.c.geom)
             .select_from(s.outerjoin(latest, true())).where(~s.c.archived).order_by(s.c.code))
    if chosen:
        query = query.where(s.c.region_kato == chosen.kato)
    if codes:
        query = query.where(s.c.code.in_(codes))
    with engine.connect() as conn:
        frame = gpd.read_postgis(query, conn, geom_col="geom", crs="EPSG:4326")
    _check_found(codes, frame)
    frame = frame_for(actor, frame)
    frame["region"] = [_region_name(kato, lang) for kato in frame["region_kato"]]
    frame["scored_at"] = frame["scored_at"].astype(str).where(frame["scored_at"].notna(), None)
    return frame[[*COLUMNS, "geom"]]


def export_sites(engine: Engine, fmt: str, path: Path, *, region: str | None = None,
                 codes: str | Iterable[str] = (), lang: str = "en", on: dt.date | None = None,
                 actor: Actor | None = None) -> int:
    """Write the chosen live sites to ``path`` in ``fmt``; return the number of sites written.

    An export for the public (``actor`` is ``sites.permissions.PUBLIC``) places confidential sites on the public
    grid only; see :func:`sites_frame`.
    """
    if fmt not in FORMATS:
        raise InvalidInput("format", fmt, "one of " + ", ".join(FORMATS))
    lang = parse_language(lang)
    path = Path(path)
    if path.is_dir() or not path.parent.is_dir():
        raise InvalidInput("output", str(path), "a file in an existing folder")
    if fmt == "shp" and path.suffix.lower() != ".zip":
        raise InvalidInput("output", str(path), "a .zip file name: a shapefile is several files, zipped together")
    frame = sites_frame(engine, region=region, codes=codes, lang=lang, actor=actor)
    about = _about(frame, lang, on or dt.date.today())
    write_output(WRITERS[fmt](frame, about), path)
    return len(frame)


def _about(frame: gpd.GeoDataFrame, lang: str, on: dt.date) -> dict[str, str]:
    methods = sorted(set(frame["score_method"].dropna()))
    return {"title": text("export.title", lang), "exported": on.isoformat(),
            "method": ", ".join(methods) or text("export.not_scored", lang),
            "source": text("map.credit.sites", lang), "sites": text("export.count", lang, count=len(frame)),
            "crs": "EPSG:4326 (WGS 84)"}


def _gdal_bytes(frame: gpd.GeoDataFrame, driver: str, suffix: str, **options) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"sites{suffix}"
        frame.to_file(target, driver=driver, **options)
        return target.read_bytes()


def _geojson(frame, about) -> bytes:
    return _gdal_bytes(frame, "GeoJSON", ".geojson", layer="sites", DESCRIPTION=_line(about))


def _gpkg(frame, about) -> bytes:
    return _gdal_bytes(frame, "GPKG", ".gpkg", layer="sites", layer_metadata=about)


def _kml(frame, about) -> bytes:
    named = frame.rename(columns={"name": "Name"}).assign(Description=_line(about))
    return _gdal_bytes(named, "KML", ".kml", layer="sites")


def _shp(frame, about) -> bytes:
    """A zip of the shapefile's parts (.shp .shx .dbf .prj .cpg) and a readme naming the short column names."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "sites.shp"
        frame.rename(columns=SHP_NAMES).to_file(target, driver="ESRI Shapefile", encoding="UTF-8")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(folder).iterdir()):
                archive.write(part, part.name)
            readme = [_line(about), ""] + [f"{short} = {long}" for long, short in SHP_NAMES.items()]
            archive.writestr("README.txt", "\n".join(readme) + "\n")
        return out.getvalue()


def _csv(frame, about) -> str:
    table = frame.assign(exported=about["exported"], lat=frame.geometry.y, lon=frame.geometry.x).drop(columns="geom")
    return frame_csv(table)


def frame_csv(table) -> str:
    """A table as CSV in which text a spreadsheet would run as a formula (``=...``) gets a leading apostrophe."""
    text = table.select_dtypes(include=["object", "string"]).columns
    return table.assign(**{c: table[c].map(csv_cell) for c in text}).to_csv(index=False)


def _xlsx(frame, about) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Sites"
    sheet.append([about["title"]])
    sheet["A1"].font = Font(bold=True, size=14)
    for key in ("exported", "method", "source", "sites", "crs"):
        sheet.append([key, about[key]])
    sheet.append([])
    columns = [*COLUMNS, "lat", "lon"]
    sheet.append(columns)
    header = sheet.max_row
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = f"A{header + 1}"
    table = frame.assign(lat=frame.geometry.y, lon=frame.geometry.x)
    for row in table[columns].itertuples(index=False):
        sheet.append([None if value != value else value for value in row])  # NaN -> empty cell
    return workbook_bytes(book)


WRITERS = {"geojson": _geojson, "gpkg": _gpkg, "shp": _shp, "kml": _kml, "csv": _csv, "xlsx": _xlsx}


def _line(about: dict[str, str]) -> str:
    return (f"{about['title']} · {about['exported']} · {about['method']} · {about['source']} · "
            f"{about['sites']} · {about['crs']}")


def _region_name(kato: str | None, lang: str) -> str | None:
    region = BY_KATO.get(kato or "")
    return getattr(region, f"name_{lang}") if region else kato


def _check_found(codes: tuple[str, ...], frame: gpd.GeoDataFrame) -> None:
    missing = [code for code in codes if code not in set(frame["code"])]
    if missing:
        raise InvalidInput("sites", ", ".join(missing), "codes of live sites in the register")
