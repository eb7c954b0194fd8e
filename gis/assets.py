"""Leaflet and its companions, fetched from the npm registry at set-up so maps render with no internet."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from sites.errors import SitesError

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
VENDOR_URL = "/app/static/vendor"

# package@version -> files to keep (path inside the npm tarball -> path under static/vendor)
PACKAGES: dict[str, dict[str, str]] = {
    "leaflet@1.9.3": {
        "package/dist/leaflet.js": "leaflet/leaflet.js",
        "package/dist/leaflet.css": "leaflet/leaflet.css",
        "package/dist/images/marker-icon.png": "leaflet/images/marker-icon.png",
        "package/dist/images/marker-icon-2x.png": "leaflet/images/marker-icon-2x.png",
        "package/dist/images/marker-shadow.png": "leaflet/images/marker-shadow.png",
        "package/dist/images/layers.png": "leaflet/images/layers.png",
        "package/dist/images/layers-2x.png": "leaflet/images/layers-2x.png",
        "package/LICENSE": "leaflet/LICENSE",
    },
    # Drawing a site's footprint on the add/edit page (folium.plugins.Draw); MIT, licence stated in package.json.
    "leaflet-draw@1.0.4": {
        "package/dist/leaflet.draw.js": "leaflet-draw/leaflet.draw.js",
        "package/dist/leaflet.draw.css": "leaflet-draw/leaflet.draw.css",
        "package/dist/images/spritesheet.png": "leaflet-draw/images/spritesheet.png",
        "package/dist/images/spritesheet-2x.png": "leaflet-draw/images/spritesheet-2x.png",
        "package/dist/images/spritesheet.svg": "leaflet-draw/images/spritesheet.svg",
        "package/package.json": "leaflet-draw/package.json",
    },
    # Clustering the national map (gis/site_layer.py); ISC. The bundle includes kdbush (ISC, same author).
    "supercluster@8.0.1": {
        "package/dist/supercluster.min.js": "supercluster/supercluster.min.js",
        "package/LICENSE": "supercluster/LICENSE",
    },
    "jquery@3.7.1": {
        "package/dist/jquery.min.js": "jquery/jquery.min.js",
        "package/LICENSE.txt": "jquery/LICENSE.txt",
    },
}


class AssetError(SitesError):
    """The map's JavaScript could not be fetched."""


def missing(static_dir: Path = STATIC_DIR) -> list[str]:
    """Packages whose files are not all present under ``static_dir/vendor``."""
    vendor = static_dir / "vendor"
    return [pkg for pkg, files in PACKAGES.items() if not all((vendor / f).exists() for f in files.values())]


def fetch(static_dir: Path = STATIC_DIR) -> list[str]:
    """Fetch every missing package with `npm pack` and keep only the files the map needs; return what was fetched."""
    todo = missing(static_dir)
    if todo and shutil.which("npm") is None:
        raise AssetError("npm is needed once to fetch Leaflet; install it with: sudo apt-get install -y npm")
    for package in todo:
        _fetch_one(package, static_dir / "vendor")
    return todo


def _fetch_one(package: str, vendor: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(["npm", "pack", package, "--silent", "--pack-destination", tmp],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise AssetError(f"npm pack {package} failed: {result.stderr.strip()[-300:]}")
        tarball = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tarball) as archive:
            for member, target in PACKAGES[package].items():
                source = archive.extractfile(member)
                if source is None:
                    raise AssetError(f"{package} has no file {member}")
                destination = vendor / target
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(source.read())
