"""`sites sample add|list`: sample results from the command line, with the exceedance the add page shows."""

from __future__ import annotations

import json

import click


@click.group()
def sample() -> None:
    """Add and list a site's sample results (units normalised per medium)."""


@sample.command("add")
@click.argument("code")
@click.argument("fields", nargs=-1, required=True)
@click.pass_obj
def sample_add(obj, code: str, fields: tuple[str, ...]) -> None:
    """Add a result to site CODE from FIELD=VALUE pairs: contaminant=hg medium=soil value=<0,05 unit=mg/kg
    [detection_limit= depth_m= sampled_on=YYYY-MM-DD laboratory=]. The value may be written as the lab did:
    0,35 · <0.05 · > 100 · н/о or ND (with detection_limit)."""
    from gis.cli import _pairs
    from gis.field_entry import active_guidelines, exceedance
    from gis.services import Register
    from sites.samples import validate_sample

    data = _pairs(fields)
    row = validate_sample(data)  # refuse before writing, with the field's message
    new_id = Register(obj.engine()).add_sample(obj.actor(), code, data)
    guidelines = active_guidelines(obj.engine())
    found = exceedance(obj.engine(), row["contaminant"], row["medium"], row["value"], row["unit"], guidelines)
    ratio = (f"{found['ratio']:.2f} x the guideline value {found['guideline']:g} {found['unit']} ({guidelines})"
             if found else f"no guideline value in {guidelines}")
    click.echo(f"added sample {new_id} to {code}: {row['qualifier']}{row['value_canonical']:g} "
               f"{row['unit_canonical']}, {ratio}")


@sample.command("list")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of tab-separated lines.")
@click.pass_obj
def sample_list(obj, code: str, as_json: bool) -> None:
    """List the results of site CODE, newest first, as reported and normalised."""
    from gis.field_entry import samples_of
    from gis.services import Register

    Register(obj.engine()).get_site(code)  # an unknown code is refused rather than listed as empty
    rows = samples_of(obj.engine(), code)
    if as_json:
        click.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['id']}\t{r['contaminant']}\t{r['medium']}\t{r['qualifier']}{r['value']:g} {r['unit']}"
                   f"\t{r['value_canonical']:g} {r['unit_canonical']}\t{r['sampled_on'] or ''}\t{r['laboratory'] or ''}")
