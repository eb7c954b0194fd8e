"""PDF building blocks of the printed reports (reportlab): fonts, styles, escaped paragraphs, tables, page frame.

Every text drawn goes through :func:`para` or :func:`table`, which escape it for reportlab's paragraph markup, so a
site name such as ``<b>x</b>`` or ``&amp;`` from the database prints as typed. DejaVu Sans (bundled with
matplotlib, so no system font is needed) is embedded as a TrueType subset with its Unicode map: Kazakh letters
(ә ғ қ ң ө ұ ү һ і) print and pdftotext reads them back.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    Flowable, LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from gis.ranking_output import write_output
from sites.report_format import printable

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONTS = {"DejaVuSans": "DejaVuSans.ttf", "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
         "DejaVuSansMono": "DejaVuSansMono.ttf"}
MARGIN = 14 * mm
TOP, BOTTOM = MARGIN + 5 * mm, MARGIN + 4 * mm  # room for the running header and footer
FRAME_PADDING = 6  # reportlab's default frame padding, points, on each side
GRID = colors.HexColor("#b8b8b8")
HEAD = colors.HexColor("#e6e9ee")
ZEBRA = colors.HexColor("#f6f7f9")
MUTED = colors.HexColor("#555555")
CREATOR = "kz-legacy-sites (sites report)"


@functools.lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register DejaVu Sans, its bold and its monospace face once per process."""
    for name, filename in FONTS.items():
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
    pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold",
                                  italic="DejaVuSans", boldItalic="DejaVuSans-Bold")


@functools.lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles every report uses, by name."""
    register_fonts()
    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=8, leading=9.8)
    return {
        "title": ParagraphStyle("title", parent=body, fontName="DejaVuSans-Bold", fontSize=15, leading=18,
                                spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=9, leading=11.5, textColor=MUTED),
        "h2": ParagraphStyle("h2", parent=body, fontName="DejaVuSans-Bold", fontSize=10.5, leading=13,
                             spaceBefore=5, spaceAfter=2.5, keepWithNext=1),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7, leading=8.4),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.2, leading=8.6),
        "cell_right": ParagraphStyle("cell_right", parent=body, fontSize=7.2, leading=8.6, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=body, fontName="DejaVuSans-Bold", fontSize=7.2, leading=8.6),
        "mono": ParagraphStyle("mono", parent=body, fontName="DejaVuSansMono", fontSize=7.6, leading=9.4),
    }


def para(text: Any, style: str = "body", most: int | None = None, bold_prefix: str | None = None) -> Paragraph:
    """A paragraph of plain text, escaped: nothing in ``text`` is read as markup.

    ``bold_prefix`` (also escaped) is set in bold before it, as in "Stage: investigated".
    """
    body = escape(printable(text, most))
    if bold_prefix:
        body = f"<b>{escape(printable(bold_prefix))}</b> {body}"
    return Paragraph(body, styles()[style])


def heading(text: str) -> Paragraph:
    return para(text, "h2")


def table(header: Sequence[Any] | None, rows: Iterable[Sequence[Any]], widths: Sequence[float], *,
          right: Iterable[int] = (), plain: Iterable[int] = (), zebra: bool = True, style: str = "cell",
          commands: Iterable = ()) -> Table:
    """A table of escaped cells that wrap within ``widths`` (points); its header row repeats on every page.

    A cell may be a flowable (an image, a paragraph) or a list of flowables instead of text. ``right`` lists the
    columns aligned right (numbers); ``plain`` the columns of short text that never wraps (codes, numbers), drawn
    as plain strings, which are never read as markup either and cost a tenth of a paragraph on a long list;
    ``commands`` are further reportlab table style commands (a cell's colour).
    """
    right, plain = set(right), set(plain)
    cells = [[_cell(value, i in plain, "cell_right" if i in right else style) for i, value in enumerate(row)]
             for row in rows]
    first = 0 if header is None else 1
    if header is not None:
        cells.insert(0, [_cell(value, False, "head") for value in header])
    grid = LongTable(cells, colWidths=list(widths), repeatRows=first, hAlign="LEFT")
    cell = styles()["cell"]
    commands = [("GRID", (0, 0), (-1, -1), 0.3, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONT", (0, 0), (-1, -1), cell.fontName, cell.fontSize, cell.leading),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, 0), (-1, -1), 1.2), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.6),
                *(("ALIGN", (i, first), (i, -1), "RIGHT") for i in plain & right), *commands]
    if header is not None:
        commands.insert(0, ("BACKGROUND", (0, 0), (-1, 0), HEAD))
    if zebra:
        commands[:0] = [("BACKGROUND", (0, r), (-1, r), ZEBRA) for r in range(first + 1, len(cells), 2)]
    grid.setStyle(TableStyle(commands))
    return grid


def paged_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], widths: Sequence[float], *, before: float,
                room: float, row_commands: Callable[[int, int], list] = lambda index, row: [],
                **options) -> list[Flowable]:
    """``rows`` as one table per page, each opening with ``header``, cut where the measured rows fill the page.

    reportlab splits one long table by rebuilding and measuring all the rows left at every page break, which makes
    a list of 10,000 sites take minutes; measured once and cut here, it takes time in proportion to its length.
    ``before`` is the height already used on the first page, ``room`` a page's height for the table (points).
    ``row_commands(index, row)`` gives style commands for ``rows[index]``, drawn as table row ``row``.
    """
    heights = _row_heights(header, rows, widths, options)
    pages, current, used, limit = [], [], heights[0], room - before
    for index, height in enumerate(heights[1:]):
        if current and used + height > limit:
            pages.append(current)
            current, used, limit = [], heights[0], room
        current.append(index)
        used += height
    pages.append(current)
    out: list[Flowable] = []
    for number, chosen in enumerate(pages):
        commands = [c for row, index in enumerate(chosen, start=1) for c in row_commands(index, row)]
        out += [PageBreak()] if number else []
        out.append(table(header, [rows[i] for i in chosen], widths, commands=commands, **options))
    return out


def table_room(sheet: "Sheet") -> float:
    """Height of a page's frame in points, as a table on it may use."""
    return sheet.pagesize[1] - TOP - BOTTOM - 2 * FRAME_PADDING


def height_of(flowables: Iterable[Flowable], width: float) -> float:
    """Height the flowables take stacked in a frame ``width`` wide, with their paragraph spacing."""
    total = 0.0
    for flowable in flowables:
        total += flowable.wrap(width, 10_000)[1] + flowable.getSpaceBefore() + flowable.getSpaceAfter()
    return total


def _row_heights(header, rows, widths, options: dict, block: int = 200) -> list[float]:
    """The header's height, then each row's, as reportlab lays them out (measured ``block`` rows at a time)."""
    heights: list[float] = []
    for start in range(0, max(len(rows), 1), block):
        part = table(header, rows[start:start + block], widths, **options)
        part.wrap(sum(widths), 10_000)
        heights += part._rowHeights if start == 0 else part._rowHeights[1:]
    return heights


def _cell(value: Any, plain: bool, style: str) -> Flowable | list[Flowable] | str:
    if isinstance(value, Flowable) or (isinstance(value, list) and all(isinstance(v, Flowable) for v in value)):
        return value
    if plain:
        return printable(value)
    return para("" if value is None else value, style)


def gap(height_mm: float = 2.0) -> Spacer:
    return Spacer(1, height_mm * mm)


@dataclass
class Sheet:
    """What frames every page of one report: running header, footer, page numbers and the file's metadata."""

    title: str
    header_right: str
    footer: str
    page_word: str  # "Page {page} of {pages}" in the report's language
    subject: str = ""
    keywords: str = ""
    wide: bool = False  # A4 landscape instead of portrait
    pagesize: tuple[float, float] = field(init=False)

    def __post_init__(self) -> None:
        self.pagesize = landscape(A4) if self.wide else A4

    @property
    def frame_width(self) -> float:
        return self.pagesize[0] - 2 * MARGIN


def render(sheet: Sheet, story: list[Flowable]) -> tuple[bytes, int]:
    """The report as PDF bytes and its number of pages."""
    register_fonts()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=sheet.pagesize, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=TOP, bottomMargin=BOTTOM,
                            title=printable(sheet.title), subject=printable(sheet.subject), author=CREATOR,
                            creator=CREATOR, keywords=printable(sheet.keywords))
    pages: list[int] = []
    doc.build(list(story), canvasmaker=functools.partial(_FramedCanvas, sheet=sheet, pages=pages))
    return out.getvalue(), pages[0]


def write(path: Path, data: bytes) -> None:
    """Write the finished file beside ``path`` and rename it: a failure leaves no half-written report."""
    write_output(data, path)


class _FramedCanvas(canvas.Canvas):
    """A canvas that holds its pages until the end, so each can say "page 2 of 3" in its footer."""

    def __init__(self, *args, sheet: Sheet, pages: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self._sheet, self._pages_out, self._held = sheet, pages, []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held)
        for number, state in enumerate(self._held, start=1):
            self.__dict__.update(state)
            self._frame(number, total)
            super().showPage()
        self._pages_out.append(total)
        super().save()

    def _frame(self, number: int, total: int) -> None:
        sheet, (width, height) = self._sheet, self._sheet.pagesize
        self.saveState()
        self.setFillColor(MUTED)
        self.setFont("DejaVuSans", 7.5)
        top = height - MARGIN
        self.drawString(MARGIN, top, printable(sheet.title, 110))
        self.drawRightString(width - MARGIN, top, printable(sheet.header_right, 70))
        self.setStrokeColor(GRID)
        self.setLineWidth(0.4)
        self.line(MARGIN, top - 2.2 * mm, width - MARGIN, top - 2.2 * mm)
        self.line(MARGIN, MARGIN + 2 * mm, width - MARGIN, MARGIN + 2 * mm)
        self.setFont("DejaVuSans", 6.8)
        self.drawString(MARGIN, MARGIN - 1 * mm, printable(sheet.footer, 190 if sheet.wide else 130))
        self.drawRightString(width - MARGIN, MARGIN - 1 * mm, sheet.page_word.format(page=number, pages=total))
        self.restoreState()
