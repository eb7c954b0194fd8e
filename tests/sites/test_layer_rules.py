"""The architecture's import rules: sites is pure, gis has no Streamlit, pages hold no SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "sites": {"sqlalchemy", "geoalchemy2", "psycopg", "streamlit", "streamlit_folium", "folium", "geopandas",
              "pandas", "alembic", "gis", "ui", "app"},
    "gis": {"streamlit", "streamlit_folium", "ui", "app"},
    "ui": {"sqlalchemy", "geoalchemy2", "psycopg", "alembic"},
    "app": {"sqlalchemy", "geoalchemy2", "psycopg", "alembic"},
}


def modules():
    for package in ("sites", "gis", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield package, path
    yield "app", ROOT / "app.py"


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("layer, path", list(modules()), ids=lambda v: str(v).replace(str(ROOT) + "/", ""))
def test_module_respects_layer_rules(layer, path):
    bad = imported_roots(path) & FORBIDDEN[layer]
    assert not bad, f"{path.relative_to(ROOT)} ({layer}) imports {sorted(bad)}"


@pytest.mark.parametrize("layer, path", list(modules()), ids=lambda v: str(v).replace(str(ROOT) + "/", ""))
def test_every_module_says_what_it_is_for(layer, path):
    if path.name == "__init__.py" and not path.read_text().strip():
        pytest.fail(f"{path.relative_to(ROOT)} is empty; give it a one-line docstring")
    assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{path.relative_to(ROOT)} has no docstring"


def test_the_rule_catches_a_forbidden_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text('"""Bad."""\nimport streamlit as st\nfrom sqlalchemy import text\n')
    assert imported_roots(module) & FORBIDDEN["sites"] == {"streamlit", "sqlalchemy"}
