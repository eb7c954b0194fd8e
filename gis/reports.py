"""What the printed reports share: the result they return, the output check, and where their numbers come from.

The reports themselves: ``gis.report_passport`` (one site), ``gis.report_priorities`` (the ranking as a list) and
``gis.report_conventions`` (per region and convention, with the sites behind every number).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from gis import tables as t
from sites import i18n
from sites.errors import InvalidInput
from sites.permissions import Actor, require
from sites.report_format import printable
from sites.scoring.tables import METHOD_NAME, METHOD_VERSION


@dataclass(frozen=True)
class Written:
    """What a report wrote: the file, its pages (0 for CSV), language, date, method and the sources it names."""

    path: Path
    pages: int
    lang: str
    on: dt.date
    method: str
    sources: tuple[str, ...]


def require_restricted(actor: Actor | None) -> None:
    """Reports print owners and confidential sites' exact places: refuse a reader who may not see them (the
    public). ``None`` is a script or the CLI's default system user, as elsewhere in the services."""
    if actor is not None:
        require(actor, "read_restricted")


def output_path(path: str | Path, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` when it names a file in an existing folder (ending in one of ``suffixes`` when given)."""
    path = Path(path)
    if path.is_dir() or not path.parent.is_dir():
        raise InvalidInput("output", str(path), "a file in an existing folder")
    if suffixes and path.suffix.lower() not in suffixes:
        raise InvalidInput("output", str(path), "a file name ending " + " or ".join(suffixes))
    return path


def current_method(engine: Engine, lang: str) -> str:
    """The method and version of the latest scores ("kz-screening 1.0.0"), or the current one marked unscored."""
    with engine.connect() as conn:
        row = conn.execute(select(t.score.c.method, t.score.c.method_version)
                           .order_by(t.score.c.id.desc()).limit(1)).first()
    if row is None:
        return f"{METHOD_NAME} {METHOD_VERSION} ({i18n.text('export.not_scored', lang)})"
    return f"{row.method} {row.method_version}"


def guideline_set(engine: Engine, code: str) -> dict[str, Any]:
    """A guideline set's code, name and source (the code alone when it is not loaded)."""
    g = t.guideline_set
    with engine.connect() as conn:
        row = conn.execute(select(g.c.code, g.c.name, g.c.source).where(g.c.code == code)).mappings().first()
    return dict(row) if row else {"code": code, "name": code, "source": ""}


def layer_sources(engine: Engine) -> list[str]:
    """Each receptor layer exposure counted (the newest of each kind), as "kind: name, source (licence)"."""
    rl = t.receptor_layer
    newest = (select(rl.c.kind, func.max(rl.c.loaded_at).label("loaded_at")).group_by(rl.c.kind).subquery())
    query = (select(rl.c.kind, rl.c.name, rl.c.source, rl.c.licence)
             .join(newest, (newest.c.kind == rl.c.kind) & (newest.c.loaded_at == rl.c.loaded_at))
             .order_by(rl.c.kind))
    with engine.connect() as conn:
        return [f"{r.kind}: {printable(r.name, 80)}, {printable(r.source, 120)} ({printable(r.licence, 60)})"
                for r in conn.execute(query)]
