"""Posting a folder of PDFs from a CSV manifest: read_manifest turns rows into uploads, and rows
whose file cannot be used into rejections without reading anything outside the folder; the
command posts the batch, prints one line per row and exits 1 when any row was rejected.
The command tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from commands import ingest as ingest_command
from db.blob_store import BlobStore
from db.models import Report
from services.errors import InvalidInput
from services.reports import manifest
from services.reports.ingest import FIELDS, IngestOutcome, ReportUpload
from services.reports.manifest import read_manifest
from tests.services.report_world import npi_number, pdf_for
from tests.services.test_report_ingest import build_desk, valid_fields

INSIDE_ONLY = "The file must be a PDF inside the folder."
NOT_THERE = "The file is not in the folder."
COLUMNS = ("file", *FIELDS)


def row(file: str, **overrides: str) -> dict[str, str]:
    """A manifest row with valid details for the desk built by build_desk (its first provider)."""
    return {"file": file, **_details(), **overrides}


def _details() -> dict[str, str]:
    # build_desk gives its first provider npi_number(11); valid_fields needs a desk only for that.
    return valid_fields(SimpleNamespace(npi={"p1": npi_number(11)}))


def manifest_text(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    lines = [",".join(columns)]
    for values in rows:
        lines.append(",".join(_quoted(values.get(column, "")) for column in columns))
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def write_manifest(folder: Path, rows: list[dict[str, str]], name: str = "manifest.csv",
                   encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(manifest_text(rows), encoding=encoding)
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "a.pdf").write_bytes(pdf_for("manifest-a", 1))
    (batch / "sub").mkdir()
    (batch / "sub" / "b.pdf").write_bytes(pdf_for("manifest-b", 2))
    # Real PDFs just outside the folder: a row naming them must still be refused.
    (tmp_path / "x.pdf").write_bytes(pdf_for("outside", 1))
    return batch


# --- read_manifest ---------------------------------------------------------------------------

def test_rows_become_uploads_with_their_bytes_and_details(folder):
    items = list(read_manifest(manifest_text([
        row("a.pdf"),
        row(" sub/b.pdf ", patient_first_name="John", claim_number="CLM-1",
            claim_payer="Payco Mutual, Inc"),
    ]), folder))

    assert all(isinstance(item, ReportUpload) for item in items)
    first, second = items
    assert (first.label, first.data) == ("row 2 (a.pdf)", (folder / "a.pdf").read_bytes())
    assert first.fields == _details()
    assert set(first.fields) == set(FIELDS)  # the file column is not a detail
    assert (second.label, second.data) == ("row 3 (sub/b.pdf)", (folder / "sub" / "b.pdf").read_bytes())
    assert (second.fields["patient_first_name"], second.fields["claim_number"],
            second.fields["claim_payer"]) == ("John", "CLM-1", "Payco Mutual, Inc")


def test_unusable_files_are_rejected_in_place_and_nothing_outside_the_folder_is_read(folder, tmp_path):
    outside = tmp_path / "x.pdf"
    items = list(read_manifest(manifest_text([
        row("a.pdf"),
        row("missing.pdf"),
        row("../x.pdf"),
        row(str(outside)),               # an absolute path
        row("sub/../../x.pdf"),
        row(""),
        row("sub"),                      # a folder, not a file
        row("sub/b.pdf"),
    ]), folder))

    assert [type(item) for item in items] == [ReportUpload, IngestOutcome, IngestOutcome,
                                              IngestOutcome, IngestOutcome, IngestOutcome,
                                              IngestOutcome, ReportUpload]
    assert items[1:7] == [
        IngestOutcome("row 3 (missing.pdf)", "rejected", reason=NOT_THERE),
        IngestOutcome("row 4 (../x.pdf)", "rejected", reason=INSIDE_ONLY),
        IngestOutcome(f"row 5 ({outside})", "rejected", reason=INSIDE_ONLY),
        IngestOutcome("row 6 (sub/../../x.pdf)", "rejected", reason=INSIDE_ONLY),
        IngestOutcome("row 7 (no file)", "rejected", reason=INSIDE_ONLY),
        IngestOutcome("row 8 (sub)", "rejected", reason=NOT_THERE),
    ]
    assert [item.label for item in (items[0], items[7])] == ["row 2 (a.pdf)", "row 9 (sub/b.pdf)"]


def test_a_symlink_leading_out_of_the_folder_is_refused(folder, tmp_path):
    (folder / "link.pdf").symlink_to(tmp_path / "x.pdf")
    item, = read_manifest(manifest_text([row("link.pdf")]), folder)
    assert item == IngestOutcome("row 2 (link.pdf)", "rejected", reason=INSIDE_ONLY)


@pytest.mark.parametrize("columns, named", [
    (tuple(c for c in COLUMNS if c != "claim_payer"), "claim_payer"),
    (tuple(c for c in COLUMNS if c not in ("file", "employer")), "file, employer"),
    ((), "file, " + ", ".join(FIELDS)),
])
def test_a_manifest_without_every_column_is_refused_naming_the_missing(folder, columns, named):
    text = manifest_text([row("a.pdf")], columns=columns) if columns else ""
    with pytest.raises(InvalidInput) as refused:
        list(read_manifest(text, folder))
    assert str(refused.value) == f"The manifest has no column {named}."


def test_a_manifest_over_the_row_limit_is_refused(folder, monkeypatch):
    monkeypatch.setattr(manifest, "MAX_ROWS", 3)
    assert len(list(read_manifest(manifest_text([row("missing.pdf")] * 3), folder))) == 3
    with pytest.raises(InvalidInput) as refused:
        list(read_manifest(manifest_text([row("missing.pdf")] * 4), folder))
    assert str(refused.value) == "A manifest holds at most 3 rows."


def test_an_oversized_file_is_rejected_without_being_read(folder, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_MAX_REPORT_MB", "1")
    (folder / "big.pdf").write_bytes(b"%PDF-1.7\n" + b"0" * (1024 * 1024))
    item, = read_manifest(manifest_text([row("big.pdf")]), folder)
    assert (item.label, item.result, item.report_id) == ("row 2 (big.pdf)", "rejected", None)
    assert "larger than the 1 MB limit" in item.reason


def test_an_oversized_row_names_the_same_limit_as_the_upload_check(folder, monkeypatch):
    monkeypatch.setenv("RESULTSDESK_MAX_REPORT_MB", "0.05")
    (folder / "big.pdf").write_bytes(b"%PDF-1.7\n" + b"0" * 60_000)
    item, = read_manifest(manifest_text([row("big.pdf")]), folder)
    assert item.result == "rejected"
    assert "larger than the 51 KB limit" in item.reason


# --- read_uploaded_manifest (the Upload reports screen) --------------------------------------

def test_an_uploaded_manifest_takes_its_files_by_name_and_rejects_names_not_uploaded():
    files = {"a.pdf": pdf_for("uploaded-a", 1)}
    text = manifest_text([row("a.pdf", patient_first_name="John"), row("b.pdf"), row("")])
    items = manifest.read_uploaded_manifest(("\ufeff" + text).encode("utf-8"), files)

    first, *rejected = items
    assert (first.label, first.data, first.fields["patient_first_name"]) == (
        "row 2 (a.pdf)", files["a.pdf"], "John")
    assert set(first.fields) == set(FIELDS)
    assert rejected == [
        IngestOutcome("row 3 (b.pdf)", "rejected", reason=manifest.NOT_UPLOADED),
        IngestOutcome("row 4 (no file)", "rejected", reason=manifest.NOT_UPLOADED),
    ]


def test_an_uploaded_manifest_has_the_same_columns_and_row_limit(monkeypatch):
    columns = tuple(c for c in COLUMNS if c != "employer")
    with pytest.raises(InvalidInput) as refused:
        manifest.read_uploaded_manifest(manifest_text([row("a.pdf")], columns=columns).encode(), {})
    assert str(refused.value) == "The manifest has no column employer."
    monkeypatch.setattr(manifest, "MAX_ROWS", 3)
    assert len(manifest.read_uploaded_manifest(manifest_text([row("a.pdf")] * 3).encode(), {})) == 3
    with pytest.raises(InvalidInput) as refused:
        manifest.read_uploaded_manifest(manifest_text([row("a.pdf")] * 4).encode(), {})
    assert str(refused.value) == "A manifest holds at most 3 rows."


# --- the command -----------------------------------------------------------------------------

@pytest.fixture
def command(db, fake_clock, make_user, tmp_path, monkeypatch):
    """Environment for `commands.ingest.main` against the test database; returns a
    runner giving (exit code, stdout lines, stderr)."""
    desk = build_desk(db, make_user, BlobStore(tmp_path / "blobs"))
    monkeypatch.setenv("DATABASE_URL", db.url.render_as_string(hide_password=False))
    monkeypatch.setenv("RESULTSDESK_BLOB_DIR", str(desk.store.root))
    opened = []
    real_open = ingest_command.open_database

    def open_database(url=None):
        opened.append(real_open(url))
        return opened[-1]

    monkeypatch.setattr(ingest_command, "open_database", open_database)

    def run(capsys, *argv: str) -> tuple[int, list[str], str]:
        code = ingest_command.main(list(argv))
        out, err = capsys.readouterr()
        return code, out.splitlines(), err

    run.desk = desk
    yield run
    for database in opened:
        database.dispose()


def reports(db) -> list[Report]:
    with db.transaction(write=False) as session:
        return list(session.scalars(select(Report).order_by(Report.id)))


def test_the_command_posts_a_batch_reports_each_row_and_exits_1_on_a_rejection(
        db, command, folder, capsys):
    write_manifest(folder, [
        row("a.pdf"),
        row("missing.pdf"),
        row("sub/b.pdf", employer="Nobody Inc"),
        row("../x.pdf"),
    ])

    code, lines, err = command(capsys, str(folder), "--as", "ADMIN_P1@x.test")

    assert code == 1, (lines, err)
    posted, = reports(db)
    assert posted.file_sha256 == hashlib.sha256((folder / "a.pdf").read_bytes()).hexdigest()
    assert lines == [
        f"row 2 (a.pdf): posted report {posted.id}",
        f"row 3 (missing.pdf): rejected: {NOT_THERE}",
        "row 4 (sub/b.pdf): rejected: No employer account has this name.",
        f"row 5 (../x.pdf): rejected: {INSIDE_ONLY}",
        "1 of 4 rows posted or already present; 3 rejected.",
    ]
    assert command.desk.store.exists(posted.file_sha256)
    assert len([p for p in command.desk.store.root.rglob("*.pdf") if p.is_file()]) == 1


def test_a_clean_batch_exits_0_and_running_it_again_reports_duplicates(db, command, folder, capsys):
    # A spreadsheet's UTF-8 with a byte-order mark, and a manifest under another name.
    write_manifest(folder, [row("a.pdf"), row("sub/b.pdf", employee_id="E200",
                                                patient_first_name="John")],
                   name="today.csv", encoding="utf-8-sig")

    code, lines, err = command(capsys, str(folder), "--as", "gadmin@x.test", "--manifest", "today.csv")

    assert (code, err) == (0, "")
    first, second = reports(db)
    assert lines == [f"row 2 (a.pdf): posted report {first.id}",
                     f"row 3 (sub/b.pdf): posted report {second.id}",
                     "2 of 2 rows posted or already present; 0 rejected."]

    code, lines, err = command(capsys, str(folder), "--as", "gadmin@x.test", "--manifest", "today.csv")

    assert (code, err) == (0, "")
    assert lines == [f"row 2 (a.pdf): duplicate report {first.id}",
                     f"row 3 (sub/b.pdf): duplicate report {second.id}",
                     "2 of 2 rows posted or already present; 0 rejected."]
    assert [r.id for r in reports(db)] == [first.id, second.id]


def test_the_command_refuses_a_user_who_may_not_upload_with_a_message(db, command, folder, capsys):
    write_manifest(folder, [row("a.pdf")])

    code, lines, err = command(capsys, str(folder), "--as", "client@x.test")

    assert (code, lines) == (2, [])
    assert "client@x.test" in err   # a message naming the user, not a traceback
    assert reports(db) == []


def test_the_command_refuses_an_unknown_user_and_an_unreadable_manifest(db, command, folder, capsys):
    write_manifest(folder, [row("a.pdf")])

    code, lines, err = command(capsys, str(folder), "--as", "nobody@x.test")
    assert (code, lines) == (2, [])
    assert "No active user nobody@x.test." in err

    code, lines, err = command(capsys, str(folder), "--as", "admin_p1@x.test", "--manifest", "none.csv")
    assert (code, lines) == (2, [])
    assert "Cannot read the manifest" in err

    (folder / "short.csv").write_text("file,report_type\na.pdf,ccf\n", encoding="utf-8")
    code, lines, err = command(capsys, str(folder), "--as", "admin_p1@x.test", "--manifest", "short.csv")
    assert (code, lines) == (2, [])
    assert "The manifest has no column provider_npi" in err

    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0
