"""Many people on one real portal server at once: interaction latency, errors and memory.

    python -m bench.load [--rounds 10,30,100] [--seconds 75] [--reports 1000000] [--postgres]
                         [--fresh] [--compare runner.postScriptGC=true]
    python -m bench.load --sessions 2 --seconds 5      # smoke check: exits 1 on any error

Fills (or reuses) a database of synthetic reports (bench.load_data), then for each round starts
one `streamlit run portal.py` on a free port, warms it with one session, reads its memory, and lets
N client users (employer, payor and TPA users, one per session) work the Reports screen at once
for the given seconds: search, page, tick results, download them, with 1-3 s pauses between
clicks (bench.load_person), while each tab also runs the app's once-a-minute idle check. The
sessions speak Streamlit's websocket protocol (bench.load_browser) instead of driving N
Chromium pages, which would eat the CPU the server needs. A round reports p50 / p95 / max
interaction latency, errors, and the server's resident memory before the sessions connect and
with all N connected, at the end of the round. --compare runs every round again with one
Streamlit setting changed, beside the shipped ones.

The tables and their reading (bench.load_report) go into docs/performance.md (section "load");
a run with --sessions prints only.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time

from bench import load_data
from bench.load_browser import BrowserTab, text_value
from bench.load_person import IDLE_CHECK, THINK, TIMEOUT, Person, Tally
from bench.load_report import SHIPPED, action_table, section, table
from bench.load_server import PortalServer
from bench.performance_doc import write_section
from bench.timing import p95
from pages.common.session_cookie import COOKIE_NAME

ROUNDS = (10, 30, 100)


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _p95(values: list[float]) -> float:
    return p95(values) if values else 0.0


async def _warm(url: str, token: str) -> None:
    # The first run of a process imports the screens and opens the engine: not what a person
    # clicking in a warm replica waits for.
    tab = BrowserTab(url, cookies={COOKIE_NAME: token}, timeout=120)
    await tab.open("reports")
    name = tab.needed("f_name")
    await tab.rerun(values={name.message.id: text_value(name, "smith")},
                    triggers=(tab.needed("FormSubmitter:report_filters"),))
    await tab.close()


async def _people(server: PortalServer, tokens: list[str], seconds: float) -> dict:
    await _warm(server.url, tokens[0])
    await asyncio.sleep(1)
    before, cpu_before = server.rss_mb(), server.cpu_seconds()
    tally = Tally()
    people = [Person(server.url, token, seed=index, tally=tally, timeout=TIMEOUT, think=THINK)
              for index, token in enumerate(tokens[1:])]
    started = time.monotonic()
    deadline = started + seconds
    # Arrivals spread over the first seconds: people do not all open the screen at one instant.
    arrive_within = min(10.0, seconds / 4)
    await asyncio.gather(*(person.spend(arrive_within=arrive_within, deadline=deadline)
                           for person in people))
    elapsed = time.monotonic() - started
    connected = sum(person.tab is not None for person in people)
    after, cpu = server.rss_mb(), server.cpu_seconds() - cpu_before
    await asyncio.gather(*(person.leave() for person in people))
    # Headline figures are clicks; the tabs' own timed checks are listed apart.
    timings = [ms for action, values in tally.timings.items() if action != IDLE_CHECK
               for ms in values]
    return {"sessions": len(people), "connected": connected, "interactions": len(timings),
            "per_second": len(timings) / elapsed, "errors": sum(tally.errors.values()),
            "error_kinds": dict(tally.errors), "samples": tally.samples,
            "p50": _p50(timings), "p95": _p95(timings), "max": max(timings, default=0.0),
            "server_cpu": cpu / elapsed, "rss_before": before, "rss": after,
            "per_session": (after - before) / len(people),
            "actions": {action: (len(values), _p50(values), _p95(values))
                        for action, values in sorted(tally.timings.items())},
            "downloaded_mb": tally.downloaded_bytes / 1e6}


def run_round(info: dict, users: list[dict], seconds: float, settings: tuple[str, dict]) -> dict:
    sessions = len(users)
    # One extra session of the first person warms the server and is then closed.
    tokens = load_data.sign_in(info, users[:1] + users)
    server = PortalServer(database_url=info["url"], blob_dir=load_data.BLOB_DIR,
                          log=load_data.FOLDER / f"load-server-{sessions}-{'compared' if settings[1] else 'shipped'}.log",
                          options=settings[1])
    try:
        print(f"{sessions} sessions for {seconds:.0f} s, {settings[0]}, on {server.url} ...",
              flush=True)
        result = asyncio.run(_people(server, tokens, seconds))
    finally:
        server.stop()
    result["settings"] = settings[0]
    print(f"  {result['interactions']} interactions, {result['errors']} errors "
          f"{result['error_kinds'] or ''}, p95 {result['p95']:.0f} ms, "
          f"{result['downloaded_mb']:.1f} MB downloaded, {result['connected']} of {sessions} "
          "still connected at the end", flush=True)
    for sample in result["samples"]:
        print(f"    {sample}", flush=True)
    return result


def _stop(signum, frame) -> None:
    # A terminated run still stops its portal server (run_round's finally) on the way out.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", default=",".join(map(str, ROUNDS)),
                        help="session counts, comma-separated (default 10,30,100)")
    parser.add_argument("--sessions", type=int, default=None,
                        help="one round of this many sessions; prints only, exits 1 on errors")
    # Long enough for every tab's once-a-minute idle check to run about once.
    parser.add_argument("--seconds", type=float, default=75)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true",
                        help=f"a scratch PostgreSQL database ({load_data.PG_DATABASE}) instead of SQLite")
    parser.add_argument("--fresh", action="store_true", help="fill the database again")
    parser.add_argument("--compare", metavar="NAME=VALUE", default=None,
                        help="run every round again with this Streamlit setting, "
                             "e.g. runner.postScriptGC=false")
    args = parser.parse_args(argv)
    rounds = [args.sessions] if args.sessions else [int(n) for n in args.rounds.split(",")]
    settings = [(SHIPPED, {})]
    if args.compare:
        name, _, value = args.compare.partition("=")
        settings.append((args.compare, {name: value}))

    info = load_data.prepare(postgres=args.postgres, reports=args.reports, fresh=args.fresh)
    users = load_data.load_users(info, max(rounds))
    print(f"Placed the PDF for {load_data.place_pdfs(info, users):,} more reports", flush=True)
    started = time.process_time()
    results = [run_round(info, users[:sessions], args.seconds, chosen)
               for chosen in settings for sessions in rounds]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print()
    print(f"{backend}, {info['reports']:,} reports, {args.seconds:.0f} s per round "
          f"(the load client used {time.process_time() - started:.0f} s of CPU)")
    print(table(results))
    print()
    print(action_table(results))
    if args.sessions:
        sys.exit(1 if any(r["errors"] for r in results) else 0)
    command = "python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:])
    write_section("load", section(results, info, args.seconds, backend, command.strip()))
    print("\nWritten to docs/performance.md (section load).")


if __name__ == "__main__":
    main()
