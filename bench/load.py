"""Many people on one real portal server at once: interaction latency, errors and memory.

    python -m bench.load [--rounds 10,30,100] [--seconds 75] [--reports 1000000] [--postgres]
                         [--fresh] [--compare runner.postScriptGC=false]
    python -m bench.load --sessions 2 --seconds 5      # smoke check: exits 1 on any error

Fills (or reuses) a database of synthetic reports (bench.load_data), then for each round starts
one `streamlit run app.py` on a free port, warms it with one session, reads its memory, and lets
N client users (employer, payor and TPA users, one per session) work the Reports screen at once
for the given seconds: search, page, tick results, download them, with 1-3 s pauses between
clicks (bench.load_person), while each tab also runs the app's once-a-minute idle check. The
sessions speak Streamlit's websocket protocol (bench.load_browser) instead of driving N
Chromium pages, which would eat the CPU the server needs. A round reports p50 / p95 / max
interaction latency, errors, and the server's resident memory before the sessions connect and
with all N connected, at the end of the round. --compare runs every round again with one
Streamlit setting changed, beside the shipped ones.

The standard rounds write their table into docs/performance.md (section "load");
a run with --sessions prints only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import date

from bench import load_data
from bench.load_browser import BrowserTab, text_value
from bench.load_person import IDLE_CHECK, Person, Tally
from bench.load_server import PortalServer
from bench.performance_doc import write_section
from bench.timing import p95
from pages.common.session_cookie import COOKIE_NAME

ROUNDS = (10, 30, 100)
TIMEOUT = 30.0
THINK = (1.0, 3.0)
TARGET_P95_MS, TARGET_SESSIONS = 1000, 30


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


def _compared(results: list[dict]) -> bool:
    return len({r["settings"] for r in results}) > 1


def table(results: list[dict]) -> str:
    first = "| Streamlit settings " if _compared(results) else ""
    lines = [first + "| sessions | interactions | per s | errors | p50 ms | p95 ms | max ms "
             "| server CPU | RSS before MB | RSS MB | MB per session |",
             "|---" * (11 + bool(first)) + "|"]
    for r in results:
        lines.append((f"| {r['settings']} " if first else "") +
                     f"| {r['sessions']} | {r['interactions']:,} | {r['per_second']:.1f} | "
                     f"{r['errors']} | {r['p50']:,.0f} | {r['p95']:,.0f} | {r['max']:,.0f} | "
                     f"{r['server_cpu']:.0%} | {r['rss_before']:.0f} | {r['rss']:.0f} | "
                     f"{r['per_session']:.2f} |")
    return "\n".join(lines)


def action_table(results: list[dict]) -> str:
    actions = sorted({action for r in results for action in r["actions"]})
    named = _compared(results)
    lines = ["| interaction | " + " | ".join(
        f"{r['sessions']} sessions{', ' + r['settings'] if named else ''}: n, p50 / p95 ms"
        for r in results) + " |",
             "|---|" + "---|" * len(results)]
    for action in actions:
        cells = []
        for r in results:
            n, p50, p95 = r["actions"].get(action, (0, 0.0, 0.0))
            cells.append(f"{n:,}, {p50:,.0f} / {p95:,.0f}" if n else "")
        lines.append(f"| {action} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SHIPPED = "as shipped"
# What a compared setting changes, for the reader of the table.
EXPLAINED = {
    "runner.postScriptGC=false": "which turns off Streamlit's full garbage collection after "
    "every script run; it holds the interpreter lock while it walks every object in the "
    "process, every other session's too",
}


def verdict(results: list[dict]) -> list[str]:
    at = next((r for r in results if r["sessions"] == TARGET_SESSIONS
               and r["settings"] == SHIPPED), None)
    if at is None:
        return []
    clean = "met" if at["errors"] == 0 else f"**not met** ({at['errors']} errors)"
    fast = "met" if at["p95"] < TARGET_P95_MS else "**not met**"
    return [f"- No errors at {TARGET_SESSIONS} sessions on one process: {clean}.",
            (f"- p95 under {TARGET_P95_MS / 1000:.0f} s at {TARGET_SESSIONS} active sessions: "
             f"{fast} (p95 {at['p95']:,.0f} ms, p50 {at['p50']:,.0f} ms).")]


def comparison(results: list[dict]) -> list[str]:
    lines = []
    for settings in dict.fromkeys(r["settings"] for r in results if r["settings"] != SHIPPED):
        mine = [r for r in results if r["settings"] == settings]
        busiest = max(mine, key=lambda r: r["per_second"])
        at = next((r for r in mine if r["sessions"] == TARGET_SESSIONS), busiest)
        why = EXPLAINED.get(settings)
        targets = ("both targets met" if at["errors"] == 0 and at["p95"] < TARGET_P95_MS
                   else "targets not both met")
        lines.append(
            f"- With `{settings}`" + (f", {why}" if why else "") + f": at {at['sessions']} "
            f"sessions p95 {at['p95']:,.0f} ms, p50 {at['p50']:,.0f} ms, {at['errors']} errors "
            f"({targets}); the busiest round answered {busiest['per_second']:.1f} interactions "
            f"per second with the server at {busiest['server_cpu']:.0%} of one core.")
    return lines


def section(results: list[dict], info: dict, seconds: float, backend: str, command: str) -> str:
    shipped = [r for r in results if r["settings"] == SHIPPED]
    busiest = max(shipped, key=lambda r: r["per_second"])
    setup = (
        f"One `streamlit run app.py` on {backend} with {info['reports']:,} synthetic reports "
        "(`bench/report_rows.py`), with the settings of `.streamlit/config.toml` (\"as shipped\")"
        + (" and with the compared setting" if _compared(results) else "") + ". "
        "Each session is one employer, payor or TPA user, signed in through a server-side "
        "session and the session cookie, working the Reports screen for "
        f"{seconds:.0f} s: a patient-name search (common names, rare ones, none), up to "
        f"{load_data.DEEPEST_PAGE} pages forward and sometimes one back, ticking 1-3 results, "
        "preparing them as a ZIP (or, one time in five, a merged PDF) and downloading it, with "
        f"{THINK[0]:.0f}-{THINK[1]:.0f} s between clicks. The sessions speak Streamlit's "
        "websocket protocol (`bench/load_browser.py`); an interaction is timed from the click to "
        "the end of the run it causes, the download to its last byte. Every open tab also runs "
        "the app's idle check once a minute by itself, as a browser does; those runs are listed "
        "apart and are not in the headline figures. An error is an exception "
        f"or error box, a lost Reports screen, a disconnect, or no answer within {TIMEOUT:.0f} s. "
        "Memory is the server's resident set (VmRSS) after one warm-up session, and again with "
        "all sessions connected at the end of the round; the difference divided by the sessions "
        "is the memory per session. Each round gets a fresh server.")
    capacity = (
        f"- The busiest round as shipped answered {busiest['per_second']:.1f} interactions per "
        f"second with the server process at {busiest['server_cpu']:.0%} of one core. Script runs "
        "share one Python interpreter (the GIL), so one process does not use the second core "
        "for them however many people click; past that point people wait in line and the "
        "latency grows with the number of sessions, not with the data.")
    return "\n".join([
        "## Many people at once (load on one server process)",
        "",
        (f"Measured {date.today().isoformat()} on the project machine ({os.cpu_count()} cores, "
         "the load client on the same machine) with"),
        "",
        "```sh",
        f"make bench-load     # {command}",
        "```",
        "",
        setup,
        "",
        table(results),
        "",
        action_table(results),
        "",
        "Reading it:",
        "",
        *verdict(results),
        capacity,
        *comparison(results),
        ("- Memory per session stays small because the screens page in SQL and keep no tables "
         "in the session; a prepared download is held in the session until the next search."),
        ("- More replicas scale it: N identical processes (on more cores or more machines) "
         "behind a load balancer with sticky sessions, sharing PostgreSQL and the blob store, "
         "serve about N times the people, since nothing one replica keeps is needed by another "
         "([operations.md](operations.md))."),
        ("- Not simulated: the browser's fetching of the page's static files (JavaScript, "
         "fonts; cached after the first visit) and Streamlit's heartbeat messages."),
    ])


def main(argv: list[str] | None = None) -> None:
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

    started = time.process_time()
    info = load_data.prepare(postgres=args.postgres, reports=args.reports, fresh=args.fresh)
    users = load_data.load_users(info, max(rounds))
    print(f"Placed the PDF for {load_data.place_pdfs(info, users):,} more reports", flush=True)
    results = [run_round(info, users[:sessions], args.seconds, chosen)
               for chosen in settings for sessions in rounds]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print()
    print(f"{backend}, {info['reports']:,} reports, {args.seconds:.0f} s per round "
          f"(load client CPU: {time.process_time() - started:.0f} s)")
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
