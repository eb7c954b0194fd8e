"""The demo inventory loads completely, cites its sources and loads again without changes."""

from __future__ import annotations

from sqlalchemy import func, select

from gis import tables as t
from gis.demo import load_demo
from gis.services import Register
from tests.conftest import demo_site_count


def table_counts(engine):
    with engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                for table in (t.site, t.site_contaminant, t.sample, t.contaminant, t.guideline_value, t.receptor)}


def test_demo_loads_every_site_with_contaminants_and_is_idempotent(engine):
    actor = Register(engine).actor()
    first = load_demo(engine, actor)
    assert len(first.created) == demo_site_count() >= 25 and first.kept == []
    assert first.settlements > 300
    counts = table_counts(engine)
    second = load_demo(engine, actor)
    assert second.created == [] and len(second.kept) == demo_site_count()
    assert table_counts(engine) == counts
    with engine.connect() as conn:
        without = conn.execute(
            select(func.count()).select_from(t.site)
            .where(~select(t.site_contaminant.c.id).where(t.site_contaminant.c.site_id == t.site.c.id).exists())
        ).scalar()
        unsourced = conn.execute(select(func.count()).where(t.site.c.sources.is_(None))).scalar()
    assert without == 0 and unsourced == 0


def test_documented_worst_sites_are_in_the_demo(engine):
    load_demo(engine, Register(engine).actor())
    with engine.connect() as conn:
        names = " | ".join(conn.execute(select(t.site.c.name_en)).scalars())
    for place in ("Temirtau", "Pavlodar", "Koshkar-Ata", "Shymkent", "Semipalatinsk", "Ust-Kamenogorsk"):
        assert place in names
