"""The plot in docs/performance.md: each case's median latency against the number of reports."""

from __future__ import annotations

from pathlib import Path

PLOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "latency-by-reports.png"

# What the plot shows, by the start of the case's name in the harness's rows.
CASES = {
    "filtered first page": "filtered first page of 50",
    "deep keyset page": "deep keyset page",
    "patient-name search": "patient-name search, first page",
    "capped count": "capped count",
    "open a report": "open a report",
    "ZIP of 100 (service)": "ZIP of 100, whole service call",
    "merged PDF of 20": "merged PDF of 20",
    "Dashboard queries": "Dashboard queries together: default view",
    "Reports screen run": "Reports screen script run (AppTest, employer; count reused)",
    "Dashboard screen run": "Dashboard screen script run",
    "naive: pandas load": "naive",
    "raw GROUP BY": "raw GROUP BY",
}

NAIVE = {"naive: pandas load": "black", "raw GROUP BY": "dimgray"}


def _points(rows: list[dict], backend: str, prefix: str) -> tuple[list[int], list[float]]:
    found: dict[int, float] = {}
    for row in rows:
        if row["backend"] != backend or row["median"] is None:
            continue
        if prefix == "naive":
            # The naive way costs about the same whatever is asked (the load): drawn once.
            if row["case"].startswith(CASES["filtered first page"]) and row.get("naive"):
                found[row["size"]] = row["naive"]
        elif row["case"].startswith(prefix):
            found[row["size"]] = row["median"]
    sizes = sorted(found)
    return sizes, [found[size] for size in sizes]


def plot(rows: list[dict], path: Path) -> None:
    """Draw one panel per backend, log-log, and save it as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    backends = [b for b in ("SQLite", "PostgreSQL") if any(r["backend"] == b for r in rows)]
    figure, axes = pyplot.subplots(1, len(backends), figsize=(6.5 * len(backends), 5.5),
                                   sharey=True, squeeze=False)
    for axis, backend in zip(axes[0], backends, strict=True):
        palette = matplotlib.colormaps["tab10"]
        for index, (label, prefix) in enumerate(CASES.items()):
            sizes, values = _points(rows, backend, prefix)
            if not sizes:
                continue
            if label in NAIVE:
                axis.plot(sizes, values, marker="s", linestyle="--", color=NAIVE[label],
                          label=label)
            else:
                axis.plot(sizes, values, marker="o", color=palette(index % 10), label=label)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_title(f"{backend}: median latency")
        axis.set_xlabel("reports in the database")
        axis.set_ylabel("milliseconds (log scale)")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
