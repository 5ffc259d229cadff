"""Report search, open and bundles at scale, each beside the naive way in the same run.

    python -m bench.reports [--reports 1000000] [--rounds 40] [--no-postgres] [--write-docs]

Fills a fresh SQLite file and (when reachable) a scratch PostgreSQL database with N synthetic
reports (bench.report_rows), then measures at the service layer what a user's clicks cost:
a filtered first page, a deep keyset page, a patient-name search, the capped count, opening a
report, a ZIP of 100 and a merged PDF of 20 demo PDFs, and the Reports screen's script run in
AppTest. "Naive" is the same answer computed by loading the tables into pandas and filtering
there, as a page without SQL paging would; the ratio is naive / ours.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
from sqlalchemy import select, text

from bench.scratch_database import filled, postgres_filled
from bench.timing import p95, table, timings_ms
from db.blob_store import BlobStore
from db.engine import Database
from db.migrate import upgrade
from db.models import Report, User
from services import principals
from services.demo import seed
from services.identity import sessions
from services.reports import access, bundle_links, bundles, list_purpose, search
from services.reports.search import Cursor, ReportFilter

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
TARGETS = {"first page": 20, "deep page": 20, "name search": 100, "apptest": 150}
NAMES = ("smith", "garcia", "nguyen", "patel", "johnson", "lee", "brown", "martinez")
TYPES = ("ccf", "atf", "injury_status", "referral", "transcription", "no_show")


class _Cycle:
    """Each call gets the next parameter, so rounds do not repeat one cached query."""

    def __init__(self, values) -> None:
        self.values, self.index = list(values), 0

    def __call__(self):
        value = self.values[self.index % len(self.values)]
        self.index += 1
        return value


class _DemoBlobs(BlobStore):
    """Serves one of 100 real demo PDFs for every synthetic report (rows carry fake digests)."""

    def __init__(self, pdfs: list[bytes]) -> None:
        super().__init__(Path(tempfile.mkdtemp()))
        self.pdfs = pdfs

    def get(self, sha256: str) -> bytes:
        return self.pdfs[int(sha256[:8], 16) % len(self.pdfs)]

    def open(self, sha256: str):
        return io.BytesIO(self.get(sha256))

    def exists(self, sha256: str) -> bool:
        return True


def _zip_streamed(entries, store: BlobStore) -> int:
    """The bundle route's packing, read to the end: bytes produced."""
    archive, produced = bundles.ZipStream(datetime.now()), 0
    for _, sha256, name, _ in entries:
        produced += sum(len(chunk) for chunk in archive.add(name, bundles.pieces_of(store, sha256)))
    return produced + sum(len(chunk) for chunk in archive.close())


def _bundle_downloaded(db: Database, principal, report_ids: list[int], bundle_format: str,
                       store: BlobStore, session_token: str) -> int:
    """A link made and followed, as the Reports screen and the route do: bytes sent."""
    token = bundle_links.create(db, principal, report_ids, bundle_format=bundle_format)
    bundle = bundle_links.open_stream(db, token, session_token, store)
    return sum(len(chunk) for chunk in bundle.chunks)


def demo_pdfs() -> list[bytes]:
    folder = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{folder / 'demo.db'}")
    upgrade(db)
    store = BlobStore(folder / "blobs")
    seed.seed(db, blob_store=store, reports=100, patients=50)
    with db.transaction(write=False) as session:
        digests = session.scalars(select(Report.file_sha256).order_by(Report.id)).all()
    db.dispose()
    return [store.get(digest) for digest in digests]


def _principal(db: Database, user_id: int):
    with db.transaction(write=False) as session:
        return principals.load(session, session.get(User, user_id))


def _naive_frame(db: Database) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    started = time.perf_counter()
    with db.engine.connect() as connection:
        reports = pd.read_sql(text(
            "SELECT r.id, r.report_type, r.posted_at, r.service_date, r.status, r.state, r.injury,"
            " r.provider_id, p.first_name, p.last_name, p.employee_id"
            " FROM reports r JOIN patients p ON p.id = r.patient_id"), connection)
        recipients = pd.read_sql(text("SELECT report_id, account_id FROM report_recipients"),
                                 connection)
    reports["posted_at"] = pd.to_datetime(reports["posted_at"], utc=True, format="mixed")
    return reports, recipients, time.perf_counter() - started


def measure(db: Database, info: dict, *, rounds: int, pdfs: list[bytes], label: str) -> list[dict]:
    now = datetime.fromisoformat(info["now"])
    employer = _principal(db, info["users"]["employer"]["id"])
    support = _principal(db, info["users"]["support_rep"]["id"])
    employer_account = info["employer_account_ids"][0]
    rows: list[dict] = []

    print(f"{label}: loading the tables into pandas for the naive comparisons...", flush=True)
    frame, recipients, load_seconds = _naive_frame(db)
    mine = frame[frame["id"].isin(recipients.loc[recipients["account_id"] == employer_account,
                                                 "report_id"])
                 & (frame["status"] == "available")]

    def naive(work: Callable[[], object]) -> float:
        started = time.perf_counter()
        work()
        return load_seconds * 1000 + (time.perf_counter() - started) * 1000

    def add(case: str, timings: list[float], naive_ms: float | None, target: str = "") -> None:
        median = statistics.median(timings)
        rows.append({"backend": label, "case": case, "median": median, "p95": p95(timings),
                     "target": target, "naive": naive_ms,
                     "ratio": None if naive_ms is None else naive_ms / median})
        print(f"  {case}: median {median:.2f} ms, p95 {p95(timings):.2f} ms", flush=True)

    since = (now - timedelta(days=30)).date()
    report_type = _Cycle(TYPES)
    add("filtered first page of 50 (employer, one type, 30 days posted)", timings_ms(
        lambda: search.search(db, employer, ReportFilter(
            report_types=(report_type(),), posted_from=since, posted_to=now.date()),
            with_count=False), rounds),
        naive(lambda: mine[(mine["report_type"] == "ccf")
                           & (mine["posted_at"] >= pd.Timestamp(since, tz="UTC"))]
              .sort_values(["posted_at", "id"], ascending=False).head(50)),
        "p95 ≤ 20 ms")

    depths = [int(len(frame) * share) for share in (0.2, 0.4, 0.6, 0.8)]
    with db.transaction(write=False) as session:
        cursor = _Cycle([Cursor(*session.execute(
            select(Report.posted_at, Report.id).order_by(Report.posted_at.desc(), Report.id.desc())
            .offset(depth).limit(1)).one()) for depth in depths])
    # Support lists patients only with a purpose; its check of the last record is timed too.
    listing = list_purpose.for_visit(access.purpose(access.STAFF_PURPOSES[0]))
    add(f"deep keyset page (staff, rows {depths[0]:,}-{depths[-1]:,} deep)", timings_ms(
        lambda: search.search(db, support, ReportFilter(), after=cursor(),
                              with_count=False, purpose=listing), rounds),
        naive(lambda: frame.sort_values(["posted_at", "id"], ascending=False)
              .iloc[depths[1]:depths[1] + 50]),
        "p95 ≤ 20 ms")

    name = _Cycle(NAMES)
    add("patient-name search, first page of 50 (employer, 8 names common to rare)", timings_ms(
        lambda: search.search(db, employer, ReportFilter(patient_name=name()),
                                     with_count=False), rounds),
        naive(lambda: mine[mine["last_name"].str.lower().str.startswith("smith")
                           | mine["first_name"].str.lower().str.startswith("smith")]
              .sort_values(["posted_at", "id"], ascending=False).head(50)),
        "p95 ≤ 100 ms")
    add("patient-name search, page and capped count together (employer)", timings_ms(
        lambda: search.search(db, employer, ReportFilter(patient_name=name())), rounds),
        naive(lambda: mine[mine["last_name"].str.lower().str.startswith("smith")
                           | mine["first_name"].str.lower().str.startswith("smith")]
              .sort_values(["posted_at", "id"], ascending=False).head(50)))

    add("capped count, no filter (employer: 10,000+)", timings_ms(
        lambda: search.count(db, employer, ReportFilter()), rounds),
        naive(lambda: len(mine)))

    report_ids = _Cycle(mine.sort_values("posted_at", ascending=False)["id"].head(500).tolist())
    add("open a report (details, mark read, audit)", timings_ms(
        lambda: access.open_report(db, employer, int(report_ids())), rounds),
        naive(lambda: mine[mine["id"] == int(mine["id"].iloc[0])]))

    blobs = _DemoBlobs(pdfs)
    hundred = [int(i) for i in mine.sort_values("posted_at", ascending=False)["id"].head(100)]
    for what, files in (("demo PDFs", pdfs), ("scan-sized PDFs", _scan_sized_pdfs())):
        # Packed from a real blob store on disk: each file is opened and read, as in service.
        store = BlobStore(Path(tempfile.mkdtemp()))
        entries = [(i, store.put(data), f"r{i}.pdf", "") for i, data in enumerate(files)]
        size = sum(len(data) for data in files)
        packing = timings_ms(lambda: _zip_streamed(entries, store), rounds)
        deflated = timings_ms(lambda: _deflate(files), max(5, rounds // 4))
        add(f"ZIP of 100 {what} from disk, packing ({size / 1e6:.2f} MB)", packing,
            statistics.median(deflated), "≥ 200 MB/s")
        rows[-1]["throughput"] = size / 1e6 / (statistics.median(packing) / 1000)
    def beside_the_load() -> None:
        # A screen without SQL paging does the same work after loading the tables, every run.
        rows[-1]["naive"] = rows[-1]["median"] + load_seconds * 1000
        rows[-1]["ratio"] = rows[-1]["naive"] / rows[-1]["median"]

    with db.transaction() as session:
        signed_in = sessions.start(session, user=session.get(User, employer.user_id),
                                   now=datetime.now(timezone.utc))
    add("ZIP of 100, link made and followed (scope checks, 100 audit rows, mark read)", timings_ms(
        lambda: _bundle_downloaded(db, employer, hundred, "zip", blobs, signed_in),
        max(5, rounds // 4)), None)
    beside_the_load()
    add("merged PDF of 20 (pypdf), link made and followed", timings_ms(
        lambda: _bundle_downloaded(db, employer, hundred[:20], "pdf", blobs, signed_in),
        max(5, rounds // 4)), None)
    beside_the_load()

    warm, with_count = _apptest(db, info, rounds)
    for case, timings in (("Reports screen script run (AppTest, employer; count reused)", warm),
                          ("Reports screen script run (AppTest, employer; count taken)", with_count)):
        add(case, timings, None, "≤ 150 ms")
        beside_the_load()
    rows.append({"backend": label, "case": "(naive: loading reports + patients + routing into "
                 f"pandas, once: {load_seconds:.2f} s)", "median": None})
    return rows


def _scan_sized_pdfs() -> list[bytes]:
    """100 one-page PDFs the size of a scanned form (a 150-dpi greyscale JPEG of noise each)."""
    from fpdf import FPDF
    from PIL import Image

    rng = random.Random(3)
    made = []
    for index in range(100):
        image = Image.frombytes("L", (600, 400), rng.randbytes(600 * 400))
        jpeg = io.BytesIO()
        image.save(jpeg, format="JPEG", quality=70)
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        pdf.cell(0, 10, f"Scanned form {index}")
        pdf.image(io.BytesIO(jpeg.getvalue()), x=10, y=25, w=190)
        made.append(bytes(pdf.output()))
    return made


def _deflate(pdfs: list[bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, data in enumerate(pdfs):
            archive.writestr(f"r{index}.pdf", data)
    return out.getvalue()


def open_screen(db: Database, user_id: int, url_path: str, title: str):
    """An AppTest of the real app, signed in as this user (a server-side session), on a screen."""
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    from pages.common import runtime
    from services import clock

    os.environ["DATABASE_URL"] = db.url.render_as_string(hide_password=False)
    runtime._database.clear()
    with db.transaction() as session:
        token = sessions.start(session, user=session.get(User, user_id), now=clock.now())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["session_token"] = token
    at._page_hash = calc_hash(url_path)
    at.run()
    if at.exception or not any(t.value == title for t in at.title):
        raise SystemExit(f"the {title} screen did not render: {at.exception} "
                         f"{[t.value for t in at.title]}")
    return at


def _apptest(db: Database, info: dict, rounds: int) -> list[float]:
    from pages.common import runtime

    at = open_screen(db, info["users"]["employer"]["id"], "reports", "Reports")
    warm = timings_ms(at.run, rounds)

    def counting_run() -> None:
        # As the first run of a new search: the count is taken again.
        at.session_state["reports_count"] = None
        at.run()

    with_count = timings_ms(counting_run, rounds)
    runtime._database.clear()
    return warm, with_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    random.seed(1)
    pdfs = demo_pdfs()
    rows: list[dict] = []
    folder = Path(tempfile.mkdtemp())
    targets = [("SQLite", lambda: filled(f"sqlite:///{folder / 'bench.db'}", args.reports))]
    if not args.no_postgres:
        targets.append(("PostgreSQL",
                        lambda: postgres_filled(args.reports, False, "resultsdesk_bench")))
    for label, fill in targets:
        if (made := fill()) is None:
            continue
        db, info = made
        rows += measure(db, info, rounds=args.rounds, pdfs=pdfs, label=label)
        db.dispose()
    print()
    print(f"{args.reports:,} reports, {args.rounds} rounds per case")
    print(table(rows))


if __name__ == "__main__":
    main()
