"""A score's explanation in a few translated lines, for popups and printed lists where the full table does not fit."""

from __future__ import annotations

from typing import Any, Mapping

from sites.i18n import catalogue, translator


def brief(score: Mapping[str, Any], lang: str) -> list[str]:
    """Lines saying the total, class and confidence, each pathway's share, what is missing and the nearest town.

    ``score`` holds ``total``, ``priority_class``, ``confidence`` and the stored ``explanation`` (sites/scoring/
    method.py); parts absent from an older explanation are left out rather than guessed.
    """
    _ = translator(lang)
    explanation = score.get("explanation") or {}
    lines = [_("explain.score", total=f"{float(score['total']):.1f}", klass=score["priority_class"],
               confidence=f"{float(score['confidence']):.0%}")]
    parts = sorted(explanation.get("parts", []), key=lambda p: -p.get("contribution", 0))
    if parts:
        shares = ", ".join(f"{_('pathway.' + p['pathway'])} {p['contribution']:.1f}" for p in parts)
        lines.append(_("explain.pathways", parts=shares))
    missing = [_(f"missing.{m}") if f"missing.{m}" in catalogue() else m for m in explanation.get("missing", [])]
    if missing:
        lines.append(_("explain.missing", items=", ".join(missing)))
    nearest = explanation.get("nearest_settlements") or []
    if nearest:
        town = nearest[0]
        lines.append(_("explain.nearest", name=town["name"], population=f"{int(town['population'] or 0):,}",
                       km=f"{float(town['km']):.1f}"))
    return lines
