"""Timing a case over rounds, and the results table every harness prints."""

from __future__ import annotations

import time
from collections.abc import Callable


def timings_ms(action: Callable[[], object], rounds: int, *, warm: bool = True) -> list[float]:
    """Milliseconds per call over `rounds` calls (after one untimed call when `warm`)."""
    if warm:
        action()
    results = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        results.append((time.perf_counter() - started) * 1000)
    return results


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def table(rows: list[dict]) -> str:
    """Markdown: one row per case; a 'reports' column when rows carry the database size."""
    sized = any("size" in row for row in rows)
    head = ["backend", *(["reports"] if sized else []), "case", "median ms", "p95 ms", "target",
            "naive ms", "naive / ours"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        first = [row["backend"], *([f"{row['size']:,}"] if sized else []), row["case"]]
        if row["median"] is None:
            lines.append("| " + " | ".join(first) + " |" + " |" * 5)
            continue
        target = row.get("target") or ""
        if "throughput" in row:
            target += f" (measured {row['throughput']:,.0f} MB/s)"
        naive = "" if row.get("naive") is None else f"{row['naive']:,.0f}"
        ratio = row.get("ratio")
        ratio = "" if ratio is None else f"{ratio:,.1f}×" if ratio < 10 else f"{ratio:,.0f}×"
        lines.append("| " + " | ".join([*first, f"{row['median']:.2f}", f"{row['p95']:.2f}",
                                        target, naive, ratio]) + " |")
    return "\n".join(lines)
