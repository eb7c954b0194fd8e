"""Translate database refusals (constraints, foreign keys) into user errors naming the field."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from sites.errors import Conflict, InvalidInput, SitesError

# Tables whose constraint names carry a field name after the table prefix (ck_site_stage -> stage).
_TABLES = ("site_contaminant", "guideline_value", "receptor_layer", "app_user", "site", "sample",
           "inspection", "attachment", "receptor", "score", "contaminant", "boundary", "audit")


PRIVATE_TABLES = frozenset({"app_user"})


def translate_integrity_error(error: IntegrityError) -> SitesError:
    """Return the :class:`SitesError` a user should see for a refused write."""
    diag = getattr(error.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    column = getattr(diag, "column_name", None)
    detail = (getattr(diag, "message_detail", None) or "").strip()
    sqlstate = getattr(error.orig, "sqlstate", "")
    if sqlstate == "23505":  # unique_violation
        return Conflict(f"already stored: {detail or constraint}")
    if sqlstate == "23503":  # foreign_key_violation
        key = re.search(r"\((\w+)\)=\(([^)]*)\)", detail)
        field, value = (key.group(1), key.group(2)) if key else (constraint, None)
        return InvalidInput(field, value, f"a {field} that exists in the register")
    if sqlstate == "23502":  # not_null_violation
        return InvalidInput(column or "field", None, "a value")
    # A user's row holds their password hash: name the rule, never echo that row.
    shown = None if getattr(diag, "table_name", None) in PRIVATE_TABLES else _failing_row(detail)
    return InvalidInput(_field(constraint), shown, f"a value allowed by rule {constraint}")


def _field(constraint: str) -> str:
    name = constraint[3:] if constraint.startswith(("ck_", "uq_", "fk_")) else constraint
    for table in _TABLES:
        if name.startswith(table + "_"):
            name = name[len(table) + 1:]
            break
    return re.sub(r"_(non_negative|valid|in_range|format|hex|positive)$", "", name)


def _failing_row(detail: str) -> str | None:
    match = re.search(r"Failing row contains \((.*)\)\.?$", detail)
    return match.group(1)[:200] if match else (detail or None)
