"""The words printed on a print map, from the shared kk/ru/en catalogue (data/i18n.csv, keys ``print.*``)."""

from __future__ import annotations

from sites.i18n import LANGUAGES, text

__all__ = ["LANGUAGES", "word"]


def word(key: str, lang: str, **values) -> str:
    """The word or phrase ``key`` (as ``"class 1"``, stored as ``print.class_1``) in ``lang``, values filled in."""
    return text("print." + key.replace(" ", "_"), lang, **values)
