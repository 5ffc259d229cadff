"""A patient's accounting of disclosures as files: a PDF to hand to the patient and a CSV.

Each download produces the accounting afresh through disclosures.account (so it is checked and
recorded with its format) and builds the file from exactly those lines. File names carry the
patient's id and the period, never a name.
"""

from __future__ import annotations

from datetime import date, timezone
from datetime import datetime as _datetime
from pathlib import Path

from fpdf import FPDF

from db.engine import Database
from services.csv_export import to_csv
from services.principals import Principal
from services.privacy import disclosures
from services.privacy.disclosures import Accounting

PORTAL = "ResultsDesk"
TITLE = "Accounting of disclosures"
FORMATS = {"pdf": "application/pdf", "csv": "text/csv"}
# Like every export of the portal, the CSV's times are UTC, ISO 8601 (docs/privacy.md).
CSV_HEADER = ("When (UTC)", "Report number", "Report", "What", "Account", "Person", "Email",
              "Note")
# DejaVu Sans (fonts/, its licence beside it), embedded in each PDF: patients' and people's
# names in any Latin, Greek or Cyrillic letters print as written. PDF's built-in fonts are
# Latin-1 only and turned "Łukasz" or "Nguyễn" into "?", in a record given to the patient.
# Letters the font lacks (Chinese, Japanese, Korean) print as "?"; the CSV has every name.
_FONT_FOLDER = Path(__file__).with_name("fonts")
FONT = "DejaVuSans"
# Columns of the PDF's table (mm on a landscape Letter page, 259 mm between the margins).
_PDF_COLUMNS = (("When", 34), ("Report", 62), ("What", 34), ("Account", 45), ("Person", 50),
                ("Note", 34))


def when(accounting: Accounting, at: _datetime) -> str:
    return f"{accounting.local(at):%Y-%m-%d %H:%M}"


def report_words(line: disclosures.Line) -> str:
    return f"Report {line.report_id}: {line.report}"


def person_words(line: disclosures.Line) -> str:
    if line.person and line.email:
        return f"{line.person} ({line.email})"
    return line.person or line.email


def file_name(patient_id: int, start: date, end: date, file_format: str) -> str:
    """The patient's id and the period, never a name."""
    return (f"accounting-of-disclosures_patient-{patient_id}_"
            f"{start:%Y-%m-%d}_to_{end:%Y-%m-%d}.{file_format}")


def download(db: Database, principal: Principal, *, patient_id: int, start: date | None,
             end: date | None, file_format: str) -> tuple[str, bytes]:
    """The accounting as a file (pdf or csv), produced now and recorded with its format."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}")
    accounting = disclosures.account(db, principal, patient_id=patient_id, start=start, end=end,
                                     output=file_format)
    data = pdf_bytes(accounting) if file_format == "pdf" else csv_bytes(accounting)
    return file_name(patient_id, accounting.start, accounting.end, file_format), data


def csv_bytes(accounting: Accounting) -> bytes:
    """One row per line, every cell neutralised against spreadsheet formulas."""
    return to_csv(CSV_HEADER, [
        (line.at.astimezone(timezone.utc).isoformat(), line.report_id, line.report, line.what,
         line.account, line.person, line.email, line.note) for line in accounting.lines])


class _AccountingPdf(FPDF):
    def __init__(self, accounting: Accounting) -> None:
        super().__init__(orientation="landscape", unit="mm", format="letter")
        self.accounting = accounting
        self.add_font(FONT, "", _FONT_FOLDER / "DejaVuSans.ttf")
        self.add_font(FONT, "B", _FONT_FOLDER / "DejaVuSans-Bold.ttf")
        self.set_margins(10, 12, 10)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(f"{PORTAL}: {TITLE}")
        self.set_creator(PORTAL)
        self.set_creation_date(accounting.produced_at)

    def printable(self, text: object) -> str:
        """The text as the font can print it: a letter it lacks shows as "?", not as nothing."""
        letters = self.fonts[FONT.lower()].cmap  # the embedded font's own character map
        return "".join(c if ord(c) in letters or c in "\n\t" else "?" for c in str(text or ""))

    def header(self) -> None:
        self.set_font(FONT, "B", 9)
        self.cell(0, 5, f"{PORTAL}  |  {TITLE}  |  patient {self.accounting.patient_id}",
                  new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, "", 8)
        produced = f"{self.accounting.local(self.accounting.produced_at):%Y-%m-%d %H:%M} " \
                   f"({self.accounting.zone})"
        self.cell(0, 5, f"Produced {produced}", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def pdf_bytes(accounting: Accounting) -> bytes:
    """The accounting as a PDF: portal, patient, period, production time, then every line."""
    pdf = _AccountingPdf(accounting)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, f"{PORTAL}: {TITLE}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    zone = str(accounting.zone)
    for label, value in (
            ("Patient", f"{accounting.patient_name} (patient {accounting.patient_id})"),
            ("Date of birth", f"{accounting.date_of_birth:%Y-%m-%d}"),
            ("Employee ID", accounting.employee_id),
            ("Period", f"{accounting.start:%Y-%m-%d} to {accounting.end:%Y-%m-%d} (times in {zone})"),
            ("Produced", f"{when(accounting, accounting.produced_at)} ({zone}) by "
                         f"{accounting.produced_by}"),
            ("Reports", f"{accounting.reports}; {len(accounting.lines)} "
                        f"line{'' if len(accounting.lines) == 1 else 's'} in the period")):
        pdf.set_font(FONT, "B", 10)
        pdf.cell(32, 6, label + ":")
        pdf.set_font(FONT, "", 10)
        pdf.cell(0, 6, pdf.printable(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if not accounting.lines:
        pdf.cell(0, 6, "Nothing was delivered, opened or downloaded in this period.",
                 new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
    pdf.set_font(FONT, "", 8)
    with pdf.table(col_widths=tuple(width for _, width in _PDF_COLUMNS), text_align="LEFT",
                   line_height=4, first_row_as_headings=True, repeat_headings=1) as table:
        heading = table.row()
        for title, _ in _PDF_COLUMNS:
            heading.cell(title)
        for line in accounting.lines:
            row = table.row()
            for value in (when(accounting, line.at), report_words(line), line.what, line.account,
                          person_words(line), line.note):
                row.cell(pdf.printable(value))
    return bytes(pdf.output())
