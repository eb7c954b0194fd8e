"""Workbooks the register writes keep every cell as the value it is: text that looks like a formula stays text."""

from __future__ import annotations

import io

from openpyxl import Workbook


def as_values(book: Workbook) -> Workbook:
    """Turn every cell openpyxl took for a formula (text starting with ``=``) back into text.

    A site named ``=HYPERLINK(...)`` or ``=cmd|...`` would otherwise run as a formula in the reader's Excel;
    the register never writes formulas on purpose.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    return book


def workbook_bytes(book: Workbook) -> bytes:
    """The workbook as bytes, with no cell a formula."""
    out = io.BytesIO()
    as_values(book).save(out)
    return out.getvalue()
