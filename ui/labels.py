"""Words the pages show for stored values: vocabulary, region names, table headers, in the reader's language.

Stored values stay codes (``remediation_planned``, ``550000000``, ``cost_kzt``); only what is displayed is translated,
from data/i18n.csv, so that switching language keeps every widget's value and every table's column names.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import pandas as pd

from sites import i18n
from sites.regions import REGIONS

Translate = Callable[..., str]
_REGIONS_BY_NAME = {r.name_en: r for r in REGIONS}


def vocab(_: Translate, kind: str, value: Any) -> str:
    """The label of a vocabulary value: ``kind.value`` in the catalogue (``stage.suspected``); nothing stays empty."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return ""
    return _(f"{kind}.{value}")


def vocab_or_value(_: Translate, kind: str, value: Any) -> str:
    """As ``vocab``, but a value the catalogue does not know (an audit entity added later) shows as it is stored."""
    return vocab(_, kind, value) if f"{kind}.{value}" in i18n.catalogue() else str(value)


def region(lang: str, name_en: Any) -> str:
    """A region's name in ``lang`` from its English name (as the register's views give it); unknown names unchanged."""
    found = _REGIONS_BY_NAME.get(name_en)
    if found is None:
        return "" if name_en is None or (isinstance(name_en, float) and pd.isna(name_en)) else str(name_en)
    return i18n.localized({"name_en": found.name_en, "name_ru": found.name_ru, "name_kk": found.name_kk}, lang)


def headers(_: Translate, columns: Iterable[str]) -> dict[str, str]:
    """``column_config`` for ``st.dataframe``: each column labelled by ``col.<name>`` where the catalogue has it.

    The data keep their column names (tests and downloads read them); a column without a catalogue row shows its
    name, and tests/app/test_languages.py fails on any such column it meets in Kazakh or Russian.
    """
    known = i18n.catalogue()
    return {str(c): _(f"col.{c}") if f"col.{c}" in known else str(c) for c in columns}


def renamed(_: Translate, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with translated column names, for ``st.table`` (which has no column_config)."""
    return frame.rename(columns=headers(_, frame.columns))


def shown(frame: pd.DataFrame, _: Translate, lang: str, **kinds: str) -> pd.DataFrame:
    """A copy of ``frame`` for display: each column named in ``kinds`` translated as that vocabulary.

    ``kinds`` maps a column to a vocabulary prefix (``workflow_stage="stage"``); the prefix ``region`` turns English
    region names into ``lang``.
    """
    copy = frame.copy()
    for column, kind in kinds.items():
        if column in copy.columns:
            copy[column] = [region(lang, v) if kind == "region" else vocab(_, kind, v) for v in copy[column]]
    return copy
