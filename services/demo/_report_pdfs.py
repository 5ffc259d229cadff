"""The PDF of one synthetic demo report, so the demo portal has real files to open and download.

Only fpdf2's core Helvetica is used: no font files, no network, latin-1 text. The output is
byte-identical for the same content (the creation date comes from the content, and fpdf2
derives the trailer /ID from the bytes), so a re-seeded demo database gets the same hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from fpdf import FPDF

FOOTER_TEXT = "ResultsDesk demo: synthetic data, not a real person"
MAX_PAGES = 2

_FONT = "Helvetica"
_MARGIN = 15.0
_LINE = 5.0
_LABEL_WIDTH = 50.0
_PAIR_LABEL_WIDTH = 30.0
_BOTTOM = 20.0


@dataclass(frozen=True)
class DemoReportContent:
    """Everything printed on one demo report.

    `details` are the type-specific label/value rows (test results, work status, form fields)
    and `narrative` the paragraphs below them (visit notes, letter text); both are filled by
    the seed, which knows what each report type carries.
    """

    report_label: str
    report_type: str
    type_label: str  # the type's name from the report type list
    patient_name: str
    date_of_birth: date
    employee_id: str
    employer_name: str
    provider_name: str
    provider_npi: str
    provider_address: str
    service_date: date
    posted_at: datetime
    state: str
    claim_number: str | None = None
    section_title: str = ""
    details: tuple[tuple[str, str], ...] = ()
    narrative: tuple[str, ...] = ()
    signed_by: str = ""


@dataclass(frozen=True)
class DemoPdf:
    data: bytes
    page_count: int


@dataclass
class _WidthCache:
    """Word widths per style and size: measuring through fpdf2 is the slow part of wrapping."""

    widths: dict[tuple[str, float, str], float] = field(default_factory=dict)

    def width(self, pdf: FPDF, word: str) -> float:
        key = (pdf.font_style, pdf.font_size_pt, word)
        found = self.widths.get(key)
        if found is None:
            if len(self.widths) > 50_000:  # names vary per patient; keep the cache bounded
                self.widths.clear()
            found = self.widths[key] = pdf.get_string_width(word)
        return found


_widths = _WidthCache()


def _date(value: date) -> str:
    return value.strftime("%m/%d/%Y")


class _ReportPdf(FPDF):
    """Lines placed with FPDF.text() and a cursor of our own.

    cell() costs about eight times as much as text() per line (it re-measures and re-styles
    on every call), and a full seed draws some 200,000 lines, so the layout is done here.
    """

    def __init__(self, content: DemoReportContent) -> None:
        super().__init__(format="letter")
        self.content = content
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(False, margin=_BOTTOM)
        self.set_creation_date(content.posted_at)
        self.set_title(f"{content.type_label} {content.report_label}")
        self.set_author(content.provider_name)
        self.set_creator("ResultsDesk demo seed")

    def put(self, x: float, text: str, style: str = "", size: float = 10, height: float = _LINE,
            *, advance: bool = True, right: bool = False) -> None:
        """Write one line at the cursor (baseline near the bottom of a `height` band)."""
        if self.y + height > self.h - _BOTTOM:
            self.add_page()
        if self.font_family != "helvetica" or self.font_style != style or self.font_size_pt != size:
            self.set_font(_FONT, style, size)
        if right:
            x = self.w - _MARGIN - _widths.width(self, text)
        self.text(x, self.y + height * 0.72, text)
        if advance:
            self.y += height

    def header(self) -> None:
        c = self.content
        self.y = _MARGIN
        self.put(_MARGIN, f"Report {c.report_label}", size=9, height=7, advance=False, right=True)
        self.put(_MARGIN, c.type_label, "B", 14, height=7)
        if self.page_no() == 1:
            self.put(_MARGIN, c.provider_name, "B", 10)
            self.put(_MARGIN, f"{c.provider_address}    NPI {c.provider_npi}", size=9, height=4.5)
        else:
            self.put(_MARGIN, f"{c.patient_name} (continued)", "I", 9, height=4.5)
        self.y += 1.5
        self.line(_MARGIN, self.y, self.w - _MARGIN, self.y)
        self.y += 3

    def footer(self) -> None:
        self.set_xy(_MARGIN, self.h - 13)
        self.set_font(_FONT, "I", 8)
        self.cell(140, 4, FOOTER_TEXT)
        # cell(), unlike text(), fills in the {nb} page total when the document is written.
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    def wrap(self, text: str, width: float) -> list[str]:
        # fpdf2's multi_cell measures every prefix of a line again (milliseconds for one long
        # paragraph); greedy wrapping over cached word widths costs microseconds.
        space = _widths.width(self, " ")
        lines: list[str] = []
        current: list[str] = []
        used = 0.0
        for word in text.split():
            w = _widths.width(self, word)
            extra = w if not current else space + w
            if current and used + extra > width:
                lines.append(" ".join(current))
                current, used = [word], w
            else:
                current.append(word)
                used += extra
        if current:
            lines.append(" ".join(current))
        return lines or [""]

    def row(self, label: str, value: str) -> None:
        self.set_font(_FONT, "B", 10)
        labels = self.wrap(label, _LABEL_WIDTH - 3)
        self.set_font(_FONT, "", 10)
        values = self.wrap(value, self.epw - _LABEL_WIDTH)
        for index in range(max(len(labels), len(values))):
            if index < len(labels):
                self.put(_MARGIN, labels[index], "B", advance=False)
            self.put(_MARGIN + _LABEL_WIDTH, values[index] if index < len(values) else "")

    def pair_row(self, left: tuple[str, str], right: tuple[str, str]) -> None:
        middle = _MARGIN + self.epw / 2
        for x, (label, value) in ((_MARGIN, left), (middle, right)):
            self.put(x, label, "B", advance=False)
            self.put(x + _PAIR_LABEL_WIDTH, value, advance=False)
        self.y += _LINE

    def heading(self, text: str) -> None:
        self.y += 2
        self.put(_MARGIN, text, "B", 11, height=6.5)

    def paragraph(self, text: str) -> None:
        self.set_font(_FONT, "", 10)
        for line in self.wrap(text, self.epw):
            self.put(_MARGIN, line)
        self.y += 1.5


def build(content: DemoReportContent) -> DemoPdf:
    """The PDF bytes and their page count."""
    pdf = _ReportPdf(content)
    pdf.add_page()
    pdf.heading("Patient")
    pdf.pair_row(("Name", content.patient_name), ("Date of birth", _date(content.date_of_birth)))
    pdf.pair_row(("Employee ID", content.employee_id), ("Employer", content.employer_name))
    pdf.pair_row(("Service date", _date(content.service_date)),
                 ("Posted", content.posted_at.strftime("%m/%d/%Y %H:%M UTC")))
    pdf.pair_row(("State", content.state),
                 ("Claim no.", content.claim_number or "Non-injury service"))
    if content.section_title or content.details:
        pdf.heading(content.section_title or content.type_label)
        for label, value in content.details:
            pdf.row(label, value)
    if content.narrative:
        pdf.y += 2
        for text in content.narrative:
            pdf.paragraph(text)
    if content.signed_by:
        pdf.y += 3
        signed = f"Electronically signed by {content.signed_by} on {_date(content.service_date)}"
        pdf.put(_MARGIN, signed, "I")
    data = bytes(pdf.output())
    if pdf.pages_count > MAX_PAGES:
        raise ValueError(f"demo report {content.report_label} needs {pdf.pages_count} pages")
    return DemoPdf(data, pdf.pages_count)


def render(content: DemoReportContent) -> bytes:
    """The PDF bytes of one demo report."""
    return build(content).data
