"""What a load run found: the tables and the words written to docs/performance.md.

The words are built from the run's own numbers (targets met or not, what one process served,
where errors came from), so a new run never leaves an old conclusion standing.
"""

from __future__ import annotations

import os
from datetime import date

from bench import load_data
from bench.load_person import THINK, TIMEOUT

SHIPPED = "as shipped"
TARGET_P95_MS, TARGET_SESSIONS = 1000, 30


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


# What a compared setting changes, for the reader of the table.
EXPLAINED = {
    "runner.postScriptGC=false": "which turns off Streamlit's full garbage collection after "
    "every script run (it holds the interpreter lock while it walks every object in the "
    "process, every other session's too, so each run costs more as sessions are added; "
    "Python's own generational collection still runs; one line under `[runner]` in "
    "`.streamlit/config.toml`)",
    "runner.postScriptGC=true": "Streamlit's default, which `.streamlit/config.toml` turns off: "
    "a full garbage collection after every script run (it holds the interpreter lock while it "
    "walks every object in the process, every other session's too, so each run costs more as "
    "sessions are added)",
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
    shipped = [r for r in results if r["settings"] == SHIPPED]
    if shipped and lines:
        peak, last = max(shipped, key=lambda r: r["per_second"]), shipped[-1]
        if last["per_second"] < 0.8 * peak["per_second"]:
            lines.append(
                f"- As shipped, throughput falls from {peak['per_second']:.1f} to "
                f"{last['per_second']:.1f} interactions per second between {peak['sessions']} "
                f"and {last['sessions']} sessions instead of levelling off: more sessions, "
                "more objects for every run's collection to walk.")
    return lines


ERROR_WORDS = {"timeout": "timeouts", "disconnect": "disconnects", "exception": "exceptions",
               "error box": "error boxes", "lost screen": "lost screens",
               "missing": "missing widgets", "download": "failed downloads",
               "connect": "failed connections"}


def _named(settings: str) -> str:
    return settings if settings == SHIPPED else f"with `{settings}`"


def _served(results: list[dict], settings: str) -> int | None:
    """The most sessions one process served within both targets with these settings."""
    within = [r["sessions"] for r in results if r["settings"] == settings and r["errors"] == 0
              and r["p95"] < TARGET_P95_MS]
    return max(within, default=None)


def reading(results: list[dict]) -> list[str]:
    """What the tables say, in words, from the numbers of this run."""
    settings = list(dict.fromkeys(r["settings"] for r in results))
    lines = [*verdict(results)]
    served = {name: _served(results, name) for name in settings}
    lines.append("- Within both targets (no errors, p95 under 1 s), one process served "
                 + "; ".join(f"{_named(name)}: "
                             + ("none of the measured rounds" if n is None else f"{n} sessions")
                             for name, n in served.items()) + ".")
    lines += comparison(results)
    peaks = "; ".join(
        f"{max(r['per_second'] for r in results if r['settings'] == name):.1f} {_named(name)}"
        for name in settings)
    lines.append(
        f"- Interactions per second stop growing with the sessions (the busiest rounds: {peaks}):"
        " script runs take turns on one Python interpreter (the GIL). Database "
        "queries, sockets and Arrow encoding release it, which is how the process can show "
        "more than 100 % of one core, but past that rate people wait in line, and latency "
        "grows with the number of people, not with the data.")
    failed = [r for r in results if r["errors"]]
    if failed:
        lines.append("- Errors: " + "; ".join(
            f"{r['sessions']} sessions {_named(r['settings'])}: " + ", ".join(
                f"{count} {ERROR_WORDS.get(kind, kind)}"
                for kind, count in sorted(r["error_kinds"].items()))
            for r in failed) + "." + (
            f" A run that waits past {TIMEOUT:.0f} s makes the person open the screen again, "
            "as someone refreshing would, which adds work to a server already behind."
            if any("timeout" in r["error_kinds"] for r in failed) else ""))
    most = max(r["sessions"] for r in results)
    fewest = min(r["sessions"] for r in results)
    at_most = [r for r in results if r["sessions"] == most]
    lines.append(
        f"- Memory per session at {most} sessions: " + "; ".join(
            f"{r['per_session']:.1f} MB {_named(r['settings'])} ({r['rss']:.0f} MB for the "
            "whole process" + ("; that round mostly queued, so it held few prepared downloads"
                               if r["errors"] else "") + ")" for r in at_most) + (
            f". It reads higher at {fewest} sessions ("
            + ", ".join(f"{r['per_session']:.1f} MB" for r in results if r["sessions"] == fewest)
            + ") because part of the growth does not depend on the number of sessions (code "
            "paths and caches used the first time)" if fewest != most else "") + ". "
        "The screens page in SQL and keep no tables in the session; a prepared download (the "
        "ZIP or PDF bytes) stays in the session until the next search.")
    best_name, best = max(((name, n) for name, n in served.items() if n),
                          key=lambda item: item[1], default=(None, None))
    lines.append(
        "- More replicas scale it: N identical processes (on more cores or more machines) "
        "behind a load balancer with sticky sessions, sharing PostgreSQL and the blob store, "
        "serve about N times the people, since nothing one replica keeps is needed by another "
        "([operations.md](operations.md))" + (
            f"; at {best} sessions per process ({_named(best_name)}), 100 people clicking at once "
            f"need about {-(-100 // best)} processes." if best else "."))
    lines.append("- Not simulated: the browser's fetching of the page's static files "
                 "(JavaScript, fonts; cached after the first visit) and Streamlit's heartbeat "
                 "messages.")
    return lines


def section(results: list[dict], info: dict, seconds: float, backend: str, command: str) -> str:
    setup = (
        f"One `streamlit run portal.py` on {backend} with {info['reports']:,} synthetic reports "
        "(`bench/report_rows.py`), with the settings of `.streamlit/config.toml` (\"as shipped\")"
        + (" and with the compared setting" if _compared(results) else "") + ". "
        "Each session is one employer, payor or TPA user, signed in through a server-side "
        "session and the session cookie, working the Reports screen for "
        f"{seconds:.0f} s: a patient-name search (common names, rare ones, none), up to "
        f"{load_data.DEEPEST_PAGE} pages forward and sometimes one back, ticking 1-3 results, "
        "preparing them as a ZIP (or, one time in five, a merged PDF) of scan-sized PDFs "
        "(about 130 KB each) and downloading it, with "
        f"{THINK[0]:.0f}-{THINK[1]:.0f} s between clicks. The sessions speak Streamlit's "
        "websocket protocol (`bench/load_browser.py`); an interaction is timed from the click to "
        "the end of the run it causes, the download to its last byte. Every open tab also runs "
        "the app's idle check once a minute by itself, as a browser does; those runs are listed "
        "apart and are not in the headline figures. An error is an exception "
        f"or error box, a lost Reports screen, a disconnect, or no answer within {TIMEOUT:.0f} s. "
        "Memory is the server's resident set (VmRSS) after one warm-up session, and again with "
        "all sessions connected at the end of the round; the difference divided by the sessions "
        "is the memory per session. Each round gets a fresh server.")
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
        *reading(results),
    ])
