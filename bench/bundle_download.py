"""A whole search downloaded at once: 1,000 scan-sized reports as one ZIP over HTTP.

    python -m bench.bundle_download [--reports 1000] [--mb 1.0] [--no-docs]

Stores N one-page PDFs of about a megabyte each (a page holding an uncompressed greyscale image
of random bytes, as a scan is: nothing in it compresses) in a scratch blob folder and SQLite
database, starts the real portal server (`streamlit run portal.py`, as an operator does), makes
the employer's download link and downloads the ZIP from /bundles/<token> with their session
cookie, reading it as a browser saves it. It reports MB/s and how much the server process's
resident memory rose (sampled from /proc every 20 ms), beside the way it was done before: the
whole ZIP built in memory (io.BytesIO), in a fresh process of its own, whose rise is measured
the same way. The ZIP received is checked: every entry is the stored file.

Report files are sealed at rest (AES-256-GCM, the harness's key: bench/__init__.py). Beside the
download it measures, in this process, what the sealing costs: packing the same ZIP from the
sealed store and from clear copies of the files read as the store read them before (a plain file
opened in pieces), and opening one report's file either way.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from bench.load_server import PortalServer
from bench.performance_doc import write_section
from db.blob_store import BlobStore
from db.engine import Database
from db.migrate import upgrade
from db.models import AccountMembership, Patient, Provider, Report, ReportRecipient, User
from pages.common.session_cookie import COOKIE_NAME
from services import principals
from services.demo import seed
from services.identity import sessions
from services.reports import access, bundle_links, bundles
from services.reports.access import pdf_file_name

TARGET_MB_S = 300
TARGET_RSS_MB = 50
EMPLOYER = "employer@demo.test"


def scan_pdf(serial: int, megabytes: float) -> bytes:
    """A valid one-page PDF whose page is an uncompressed greyscale image of random bytes."""
    side = int((megabytes * 1024 * 1024) ** 0.5)
    pixels = os.urandom(side * side)
    drawing = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % (side, side, len(pixels))
        + pixels + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(drawing) + drawing + b"\nendstream",
    ]
    out = bytearray(b"%%PDF-1.4\n%% scan %d\n" % serial)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _fill(folder: Path, count: int, megabytes: float) -> tuple[str, BlobStore, list[int]]:
    url = f"sqlite:///{folder / 'bundle.db'}"
    db = Database(url)
    upgrade(db)
    store = BlobStore(folder / "blobs")
    seed.seed(db, blob_store=store, reports=5, patients=5)
    now = datetime.now(timezone.utc)
    with db.transaction() as session:
        employer = session.scalars(select(User).where(User.email == EMPLOYER)).one()
        account_id = session.scalars(select(AccountMembership.account_id).where(
            AccountMembership.user_id == employer.id)).first()
        patient_id = session.scalars(select(Patient.id)).first()
        provider_id = session.scalars(select(Provider.id)).first()
    ids = []
    for start in range(0, count, 100):
        with db.transaction() as session:
            for serial in range(start, min(start + 100, count)):
                data = scan_pdf(serial, megabytes)
                report = Report(report_type="ccf", patient_id=patient_id, provider_id=provider_id,
                                service_date=now.date(), posted_at=now, delivered_at=now,
                                status="available", injury=False, state="TX", claim_number=None,
                                file_sha256=store.put(data), file_size=len(data), page_count=1)
                session.add(report)
                session.flush()
                session.add(ReportRecipient(report_id=report.id, account_id=account_id, routed_at=now))
                ids.append(report.id)
    db.dispose()
    return url, store, ids


class _MemoryWatch:
    """The highest VmRSS of a process while watched, sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self._stop = pid, 0, threading.Event()
        self.start_kb = _status_kb(pid, "VmRSS")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _status_kb(self.pid, "VmRSS"))
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    @property
    def rise_mb(self) -> float:
        return max(0, self.peak_kb - self.start_kb) / 1024


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def _download(server: PortalServer, token: str, cookie: str, target: Path) -> tuple[float, int, str]:
    """GET the link as a browser saves it: with curl, the way a person's machine would fetch it
    (Python's http.client reads a chunked body at about 60 MB/s here and would measure itself)."""
    started = time.perf_counter()
    done = subprocess.run(
        ["curl", "--silent", "--show-error", "--output", str(target), "--write-out",
         "%{http_code} %{size_download} %{content_type}", "--header",
         f"Cookie: {COOKIE_NAME}={cookie}", f"{server.url}/bundles/{token}"],
        capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    status, received, content_type = done.stdout.split(" ", 2)
    if status != "200":
        raise SystemExit(f"the download was refused: {status} {target.read_bytes()[:200]!r}")
    return seconds, int(received), content_type


_IN_MEMORY = """
import io, json, sys, time, zipfile
from pathlib import Path
def kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
entries = json.loads(sys.stdin.read())
before = kb("VmRSS")
started = time.perf_counter()
out = io.BytesIO()
with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
    for name, path in entries:
        archive.writestr(name, Path(path).read_bytes())
data = out.getvalue()
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "bytes": len(data), "rise_mb": (kb("VmHWM") - before) / 1024}))
"""


def _in_memory(clear: dict[str, Path], entries: list[tuple[str, str]]) -> dict:
    """The earlier way, in a fresh process so its memory rise is its own."""
    listed = [(name, str(clear[sha256])) for name, sha256 in entries]
    done = subprocess.run([sys.executable, "-c", _IN_MEMORY], input=json.dumps(listed),
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _clear_copies(store: BlobStore, digests: list[str], folder: Path) -> dict[str, Path]:
    """Each stored PDF written again in clear, as the store kept it before sealing."""
    copies = {}
    for sha256 in digests:
        path = folder / sha256[:2] / f"{sha256}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(store.get(sha256))
        copies[sha256] = path
    return copies


def _clear_pieces(path: Path):
    with path.open("rb") as handle:  # what BlobStore.open was before sealing
        while piece := handle.read(bundles.CHUNK_BYTES):
            yield piece


def _pack(entries: list[tuple[str, str]], pieces_of) -> float:
    started = time.perf_counter()
    archive = bundles.ZipStream(datetime.now())
    for name, sha256 in entries:
        for _ in archive.add(name, pieces_of(sha256)):
            pass
    for _ in archive.close():
        pass
    return time.perf_counter() - started


class _ClearStore(BlobStore):
    """The clear copies read as the store read them before sealing (no check, no decryption)."""

    def __init__(self, sealed: BlobStore, clear: dict[str, Path]) -> None:
        super().__init__(sealed.root, sealed.keyring)
        self.clear = clear

    def get(self, sha256: str) -> bytes:
        return self.clear[sha256].read_bytes()


def _opening(db: Database, principal, store: BlobStore, clear: dict[str, Path],
             stored: dict[int, Report]) -> tuple[float, float]:
    """A report downloaded through the service (scope, file, read mark, audit), both ways, ms."""
    before = _ClearStore(store, clear)
    sealed, plain = [], []
    for report_id in list(stored)[:100] * 2:
        for ways, blobs in ((sealed, store), (plain, before)):
            started = time.perf_counter()
            access.pdf_bytes(db, principal, report_id, blob_store=blobs)
            ways.append(time.perf_counter() - started)
    return statistics.median(sealed) * 1000, statistics.median(plain) * 1000


def _sealing_cost(store: BlobStore, clear: dict[str, Path], entries: list[tuple[str, str]],
                  rounds: int) -> dict:
    """Packing the ZIP and opening one report, sealed and clear, interleaved round by round."""
    sealed_pack, clear_pack = [], []
    for _ in range(rounds):
        sealed_pack.append(_pack(entries, lambda sha256: bundles.pieces_of(store, sha256)))
        clear_pack.append(_pack(entries, lambda sha256: _clear_pieces(clear[sha256])))
    sample = [sha256 for _, sha256 in entries[:200]]
    sealed_open, clear_open = [], []
    for sha256 in sample * 3:
        started = time.perf_counter()
        store.get(sha256)
        sealed_open.append(time.perf_counter() - started)
        started = time.perf_counter()
        clear[sha256].read_bytes()
        clear_open.append(time.perf_counter() - started)
    return {"pack_sealed_s": statistics.median(sealed_pack),
            "pack_clear_s": statistics.median(clear_pack),
            "open_sealed_ms": statistics.median(sealed_open) * 1000,
            "open_clear_ms": statistics.median(clear_open) * 1000}


def measure(count: int, megabytes: float, rounds: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bundle-bench-"))
    began = time.perf_counter()
    url, store, ids = _fill(folder, count, megabytes)
    fill_seconds = time.perf_counter() - began
    db = Database(url)
    with db.transaction() as session:
        employer = session.scalars(select(User).where(User.email == EMPLOYER)).one()
        principal = principals.load(session, employer)
        cookie = sessions.start(session, user=employer, now=datetime.now(timezone.utc))
        stored = {r.id: r for r in session.scalars(select(Report).where(Report.id.in_(ids)))}
    server = PortalServer(database_url=url, blob_dir=folder / "blobs", log=folder / "portal.log")
    try:
        # A first small download warms the route (imports, the engine) before memory is watched.
        warm = bundle_links.create(db, principal, ids[:2], bundle_format="zip")
        _download(server, warm, cookie, folder / "warm.zip")
        runs, cpu = [], []
        for _ in range(rounds):
            token = bundle_links.create(db, principal, ids, bundle_format="zip")
            cpu_before = server.cpu_seconds()
            with _MemoryWatch(server.process.pid) as watch:
                seconds, received, content_type = _download(server, token, cookie,
                                                            folder / "bundle.zip")
            runs.append((seconds, watch.rise_mb))
            cpu.append(server.cpu_seconds() - cpu_before)
        second_try = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        second_try.request("GET", f"/bundles/{token}", headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
        refused_again = second_try.getresponse().status
    finally:
        server.stop()
    db.dispose()
    archive = zipfile.ZipFile(folder / "bundle.zip")
    names = archive.namelist()
    expected = [pdf_file_name(stored[i].report_type, stored[i].service_date, i) for i in ids]
    assert names == expected, "the ZIP does not list the reports asked for"
    for report_id, name in zip(ids[::97], names[::97], strict=True):
        with archive.open(name) as entry:
            assert hashlib.sha256(entry.read()).hexdigest() == stored[report_id].file_sha256
    assert refused_again == 410, refused_again
    entries = [(name, stored[i].file_sha256) for i, name in zip(ids, names, strict=True)]
    clear = _clear_copies(store, [sha256 for _, sha256 in entries], folder / "clear")
    assert b"%PDF" not in store._path(entries[0][1]).read_bytes()[:200]  # sealed on disk
    old = _in_memory(clear, entries)
    cost = _sealing_cost(store, clear, entries, rounds)
    db = Database(url)
    cost["report_sealed_ms"], cost["report_clear_ms"] = _opening(db, principal, store, clear, stored)
    db.dispose()
    total_mb = sum(stored[i].file_size for i in ids) / 1e6
    return {"reports": count, "files_mb": total_mb, "zip_mb": received / 1e6,
            "seconds": statistics.median(s for s, _ in runs),
            "mb_s": received / 1e6 / statistics.median(s for s, _ in runs),
            "mb_s_each": [round(received / 1e6 / s) for s, _ in runs],
            "rss_rise_mb": max(rise for _, rise in runs),
            "rss_rise_each": [round(rise, 1) for _, rise in runs],
            # CPU the server spent per download: what the throughput would be on a core of its own.
            "server_cpu_s": statistics.median(cpu),
            "mb_per_cpu_s": received / 1e6 / statistics.median(cpu),
            "old_seconds": old["seconds"], "old_mb_s": old["bytes"] / 1e6 / old["seconds"],
            "old_rss_rise_mb": old["rise_mb"], "fill_seconds": fill_seconds,
            "content_type": content_type, "refused_again": refused_again,
            "load_average": os.getloadavg()[0], **cost,
            "folder": str(folder)}


def section(result: dict, command: str) -> str:
    missed = [f"throughput {result['mb_s']:,.0f} MB/s (target ≥ {TARGET_MB_S})"
              for _ in [1] if result["mb_s"] < TARGET_MB_S]
    missed += [f"memory rise {result['rss_rise_mb']:,.1f} MB (target < {TARGET_RSS_MB})"
               for _ in [1] if result["rss_rise_mb"] >= TARGET_RSS_MB]
    verdict = "Both targets met." if not missed else "Missed: " + "; ".join(missed) + "."
    return "\n".join([
        "## A whole search downloaded at once (streamed ZIP over HTTP)",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} on the project machine (2 cores) with",
        "",
        "```sh",
        command,
        "```",
        "",
        f"{result['reports']:,} scan-sized PDFs ({result['files_mb']:,.0f} MB; each a page "
        "holding an uncompressed image of random bytes, so nothing compresses) in a scratch "
        "SQLite database and blob folder; the real portal server (`streamlit run portal.py`); "
        "the employer's link made, then `GET /bundles/<token>` with their session cookie, fetched "
        "by curl into a file as a browser saves it. Memory is the server "
        "process's VmRSS, sampled every 20 ms during the download, against its value just "
        "before (after one small warm-up download). The earlier way is the ZIP built in memory "
        "(`io.BytesIO`, as the Prepare button did), in a fresh process, its VmHWM rise; "
        "before this change the bytes then also went into Streamlit's media store and one "
        "websocket message, so its real cost was higher still.",
        "",
        "| | Time | Throughput | Memory rise |",
        "|---|---:|---:|---:|",
        f"| Streamed from `/bundles/<token>` (over HTTP, audited, read marks) | "
        f"{result['seconds']:.2f} s | {result['mb_s']:,.0f} MB/s | "
        f"{result['rss_rise_mb']:,.1f} MB (server) |",
        f"| Built in memory (packing only, no HTTP) | {result['old_seconds']:.2f} s | "
        f"{result['old_mb_s']:,.0f} MB/s | {result['old_rss_rise_mb']:,.0f} MB |",
        "",
        f"Each download (MB/s): {', '.join(f'{n:,}' for n in result['mb_s_each'])}; memory rise "
        f"(MB): {', '.join(f'{n:,}' for n in result['rss_rise_each'])}. The table keeps the "
        f"median time and the largest rise. The machine's load average was "
        f"{result['load_average']:.1f} on 2 cores when the run ended (above 2, the server had "
        f"less than a core of its own). It used {result['server_cpu_s']:.1f} CPU seconds per download "
        f"(median), that is {result['mb_per_cpu_s']:,.0f} MB per CPU second: the rate one "
        "core of its own would give.",
        "",
        f"Targets: ≥ {TARGET_MB_S} MB/s and < {TARGET_RSS_MB} MB rise. {verdict} The ZIP received "
        f"({result['zip_mb']:,.0f} MB) listed every report in order and the sampled entries were "
        f"the stored files byte for byte; the same link asked again answered "
        f"{result['refused_again']}. Filling the scratch data took {result['fill_seconds']:.0f} s.",
        "",
        "### Sealed at rest against clear files",
        "",
        "The same run, in the benchmark's own process: the ZIP packed by the portal's code "
        "(`bundles.ZipStream`) from the sealed store (each file read and decrypted whole, then "
        "handed out in 1 MB pieces) and from clear copies of the same files read in 1 MB pieces "
        "as the store did before sealing; and one report's file opened either way (the file step "
        "of opening or downloading a report; the rest of that call, the scope check and the audit "
        "event, is the same either way). Medians; the two ways interleaved.",
        "",
        "| | Sealed (AES-256-GCM) | Clear (before) | Sealed / clear |",
        "|---|---:|---:|---:|",
        f"| ZIP of {result['reports']:,} scan-sized reports, packed | {result['pack_sealed_s']:.2f} s | "
        f"{result['pack_clear_s']:.2f} s | {result['pack_sealed_s'] / result['pack_clear_s']:.2f} |",
        f"| One scan-sized report downloaded through the service (`access.pdf_bytes`: scope, "
        f"file, read mark, audit event; SQLite) | {result['report_sealed_ms']:.2f} ms | "
        f"{result['report_clear_ms']:.2f} ms | "
        f"{result['report_sealed_ms'] / result['report_clear_ms']:.2f} |",
        f"| Its file alone read | {result['open_sealed_ms']:.2f} ms | "
        f"{result['open_clear_ms']:.2f} ms | {result['open_sealed_ms'] / result['open_clear_ms']:.2f} |",
        "",
        f"Decrypting costs the download {result['pack_sealed_s'] - result['pack_clear_s']:.2f} s "
        f"more packing, {_share(result):.0%} of the streamed download's "
        f"{result['seconds']:.2f} s (a share worked out from the two measurements, not a "
        "download of clear files over HTTP: the portal serves sealed files only).",
        *_before_rows(result),
        "",
        "What limits it is CPU, in one Python process. Per gigabyte the server reads every file, "
        "computes the ZIP's CRC-32 of every byte (about half a second of a core here: stored "
        "entries still need it), hands each 1 MB piece from a worker thread to the event loop "
        "and through uvicorn's chunked encoding, and for every 50 reports resumes the session, "
        "reads their scope again and writes 50 audit events, the read marks and the account "
        "activity (profiled in-process: about 1 s for a first download of 1,000 new reports, "
        "most of it the activity rollup's first openings; later downloads of the same reports "
        "skip that). Here curl shares the two cores with the server and with whatever else the "
        "machine runs, so the wall-clock rate moves with the machine's load and sits below the "
        "per-CPU-second one. The memory rise is the 1 MB pieces in flight and "
        "the worker thread, whatever the bundle's size; the earlier way's rise was the whole "
        "ZIP.",
    ])


def _share(result: dict) -> float:
    return (result["pack_sealed_s"] - result["pack_clear_s"]) / result["seconds"]


def _before_rows(result: dict) -> list[str]:
    """The download over HTTP beside the portal of before sealing, when that run is given."""
    before = result.get("before")
    if not before:
        return []
    return [
        "",
        "Over HTTP, the same download from the portal as it was before sealing (the commit "
        f"before it, `{before['ref']}`, its own `make bench-bundle` run just before this one on "
        "the same machine; see the commands below):",
        "",
        "| | Sealed (this run) | Clear (before) |",
        "|---|---:|---:|",
        f"| Throughput, median of {len(result['mb_s_each'])} | {result['mb_s']:,.0f} MB/s | "
        f"{before['mb_s']:,.0f} MB/s |",
        f"| Each download (MB/s) | {', '.join(f'{n:,}' for n in result['mb_s_each'])} | "
        f"{', '.join(f'{n:,}' for n in before['mb_s_each'])} |",
        f"| Server CPU per download | {result['server_cpu_s']:.2f} s | {before['server_cpu_s']:.2f} s |",
        f"| Server memory rise | {result['rss_rise_mb']:,.1f} MB | {before['rss_rise_mb']:,.1f} MB |",
        f"| Load average at the end (2 cores) | {result['load_average']:.1f} | "
        f"{before['load_average']:.1f} |",
        "",
        "```sh",
        f"git archive {before['ref']} | tar -x -C /tmp/before && cd /tmp/before && "
        "/path/to/.venv/bin/python -m bench.bundle_download --no-docs > /tmp/before.json",
        "python -m bench.bundle_download --before /tmp/before.json  # back in the checkout",
        "```",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--mb", type=float, default=1.0, help="size of each PDF")
    parser.add_argument("--rounds", type=int, default=3, help="downloads; the median is kept")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--before", type=Path,
                        help="what this benchmark printed on the portal before sealing (JSON)")
    parser.add_argument("--before-ref", default="the commit before sealing",
                        help="the commit that run was made on (the last before sealing)")
    args = parser.parse_args()
    before = None
    if args.before:
        before = {**json.loads(args.before.read_text()), "ref": args.before_ref}
    run(reports=args.reports, megabytes=args.mb, rounds=args.rounds, docs=not args.no_docs,
        before=before)


def run(*, reports: int, megabytes: float, rounds: int, docs: bool,
        before: dict | None = None) -> dict:
    result = measure(reports, megabytes, rounds)
    if before:
        result["before"] = before
    print(json.dumps(result, indent=2))
    shutil.rmtree(result["folder"], ignore_errors=True)  # about twice the files' size on disk
    if docs:
        command = ("make bench-bundle   # python -m bench.bundle_download "
                   f"--reports {reports} --mb {megabytes} --rounds {rounds}"
                   + (" --before /tmp/before.json" if before else ""))
        write_section("bundle-download", section(result, command))
        print("wrote docs/performance.md")
    return result


if __name__ == "__main__":
    main()
