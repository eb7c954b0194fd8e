"""The message catalogue: every message in Kazakh, Russian and English, and every key the code asks for present."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sites import i18n
from sites.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
KAZAKH_LETTERS = set("әғқңөұүһі")
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+$")  # "map.title", "class.N": not SQL passed to text()


def test_every_message_has_all_three_languages_with_the_same_placeholders():
    assert i18n.problems() == []


def keys_asked_for() -> dict[str, str]:
    """Literal keys passed to ``_(...)``, ``text(...)`` or ``i18n.text(...)`` anywhere in app.py, ui/, gis/, sites/."""
    found = {}
    files = [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "gis").rglob("*.py"), *(ROOT / "sites").rglob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in ("_", "text") and isinstance(node.args[0].value, str) and KEY.match(node.args[0].value):
                found[node.args[0].value] = str(path.relative_to(ROOT))
    return found


def test_every_key_the_code_asks_for_is_in_the_catalogue():
    asked = keys_asked_for()
    assert len(asked) > 15  # the scan finds the pages' keys: a broken scan must not pass silently
    missing = {key: where for key, where in asked.items() if key not in i18n.catalogue()}
    assert missing == {}


def test_kazakh_messages_are_written_in_kazakh():
    # Kazakh text copied from Russian would show none of the letters Russian lacks.
    kazakh = " ".join(entry["kk"] for entry in i18n.catalogue().values())
    assert len(KAZAKH_LETTERS & set(kazakh)) >= 6


def test_placeholders_are_filled_and_unknown_keys_are_named():
    assert i18n.text("map.shown", "ru", shown=3, total=10) == "Показано объектов: 3 из 10"
    with pytest.raises(KeyError, match="no message 'map.nothing'"):
        i18n.text("map.nothing", "en")


def test_names_fall_back_to_another_language():
    site = {"name": "Temirtau", "name_en": "", "name_ru": "Темиртау", "name_kk": "Теміртау"}
    assert i18n.localized(site, "kk") == "Теміртау"
    assert i18n.localized({**site, "name_kk": None}, "kk") == "Темиртау"
    assert i18n.localized(site, "en") == "Темиртау"
    assert i18n.localized({"name": "Only"}, "ru") == "Only"


@pytest.mark.parametrize("value", ["de", "", None, "kz"])
def test_an_unknown_language_is_refused_with_the_choices(value):
    with pytest.raises(InvalidInput, match="one of kk, ru, en"):
        i18n.parse_language(value)


def test_language_codes_are_read_loosely():
    assert i18n.parse_language(" KK ") == "kk"
