"""The whole performance harness: every measured case at several database sizes, in one run.

    python -m bench [--sqlite 100000,1000000] [--postgres 100000,1000000,10000000]
                    [--rounds 30] [--reuse] [--no-docs]

For each backend and size it fills a scratch database with synthetic reports
(bench.scratch_database; PostgreSQL through COPY), then measures at the service layer the
filtered first page, a deep keyset page, the patient-name search, the capped count, opening a
report, a ZIP of 100 and a merged PDF of 20, the Dashboard's queries, and the script runs of the
Reports and Dashboard screens (AppTest), each beside the naive way in the same run (the tables
loaded into pandas, or the raw GROUP BY the Dashboard's rollup replaces). It prints one table,
and writes it with a plot of latency against the number of reports into docs/performance.md.
--reuse keeps PostgreSQL databases that already hold the asked number of reports.
Then, once, a whole search of 1,000 scan-sized reports downloaded from the real server as one
streamed ZIP (bench.bundle_download; --no-bundle skips it). With --disclosures, last, one
patient's accounting of disclosures at 10,000,000 reports and 50,000,000 audit events on
PostgreSQL (bench.disclosures, in its own kept database: about 25 GB of disk and 35 minutes for
the first fill; `make bench-disclosures` runs it alone).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import bundle_download, dashboard, disclosures, reports
from bench.latency_plot import PLOT, plot
from bench.performance_doc import PAGE, write_section
from bench.scratch_database import filled, postgres_filled
from bench.timing import table


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _databases(args, folder: Path):
    """(backend, size, a callable that fills the database and returns it with its info)."""
    for size in _sizes(args.sqlite):
        yield "SQLite", size, lambda size=size: filled(f"sqlite:///{folder / f'{size}.db'}", size)
    for size in _sizes(args.postgres):
        yield "PostgreSQL", size, lambda size=size: postgres_filled(
            size, args.reuse, f"resultsdesk_bench_{size}")


def _missed(rows: list[dict]) -> list[str]:
    """Cases whose p95 is above a 'p95 ≤ N ms' or '≤ N ms' target."""
    missed = []
    for row in rows:
        target = row.get("target") or ""
        if row["median"] is None or "ms" not in target:
            continue
        limit = float(target.split("≤")[1].split("ms")[0].replace(",", ""))
        if row["p95"] > limit:
            missed.append(f"{row['backend']} {row['size']:,}: {row['case']} "
                          f"(p95 {row['p95']:.1f} ms, target {limit:.0f} ms)")
    return missed


def _section(rows: list[dict], fills: list[str], args, seconds: float) -> str:
    missed = _missed(rows)
    verdict = ("Every case with a time target met it (p95)." if not missed else
               "Cases above their target (p95):\n\n" + "\n".join(f"- {m}" for m in missed))
    return "\n".join([
        "## All cases at 100,000 to 10,000,000 reports",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} on the project machine (2 cores), "
        f"{args.rounds} rounds per case after a warm-up, with",
        "",
        "```sh",
        "make bench   # python -m bench "
        f"--sqlite {args.sqlite} --postgres {args.postgres} --rounds {args.rounds}",
        "```",
        "",
        f"The run took {seconds / 60:.0f} minutes. Filling the scratch databases:",
        "",
        *[f"- {line}" for line in fills],
        "",
        f"![Latency against the number of reports]({PLOT.relative_to(PAGE.parent)})",
        "",
        "Times in milliseconds. \"Naive\" is the same answer from the tables loaded into pandas "
        "(the load timed once per database, plus the case's own work) or, for the Dashboard, the "
        "raw GROUP BY over the reports that its rollup replaces; the last column is naive / ours.",
        "",
        verdict,
        "",
        table(rows),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", default="100000,1000000", help="sizes, comma-separated")
    parser.add_argument("--postgres", default="100000,1000000,10000000",
                        help="sizes, comma-separated; empty for none")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--no-bundle", action="store_true",
                        help="skip the streamed download of 1,000 reports over HTTP")
    parser.add_argument("--disclosures", action="store_true",
                        help="also the accounting of disclosures at 10M reports and 50M events")
    args = parser.parse_args()
    started = time.perf_counter()
    random.seed(1)
    pdfs = reports.demo_pdfs()
    rows: list[dict] = []
    fills: list[str] = []
    folder = Path(tempfile.mkdtemp())
    for backend, size, fill in _databases(args, folder):
        began = time.perf_counter()
        if (made := fill()) is None:
            continue
        db, info = made
        fills.append(f"{backend}, {size:,} reports: kept from an earlier run" if info.get("reused")
                     else f"{backend}, {size:,} reports: {time.perf_counter() - began:.0f} s "
                          f"(of which the Dashboard's rollup {info['seconds']['rollup']:.0f} s)")
        measured = [*reports.measure(db, info, rounds=args.rounds, pdfs=pdfs, label=backend),
                    *dashboard.measure(db, info, rounds=args.rounds, label=backend)]
        rows += [{**row, "size": size} for row in measured]
        db.dispose()
        if (folder / f"{size}.db").exists():
            for file in folder.glob(f"{size}.db*"):
                file.unlink()  # 1M reports is about 1 GB on disk
    print()
    print(table(rows))
    if not args.no_docs:
        plot(rows, PLOT)
        write_section("all-cases", _section(rows, fills, args, time.perf_counter() - started))
        print(f"\nwrote docs/performance.md and {PLOT.relative_to(PLOT.parents[1])}")
    if not args.no_bundle:
        bundle_download.run(reports=1000, megabytes=1.0, rounds=3, docs=not args.no_docs)
    if args.disclosures:
        disclosures.main(["--reuse"])


if __name__ == "__main__":
    main()
