"""The figures of docs/benchmarks.md, drawn from the same results as the page (matplotlib, no display)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.report_perf import PLOT_INGEST_BATCH, PLOT_SEARCH_CLIENTS, PLOT_SEARCH_SIZE


def write_plots(results: Mapping[str, Any], folder: Path) -> list[Path]:
    """Write every figure the results allow; returns the files written (a benchmark without numbers: none)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = results.get("benchmarks") or {}
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        path = folder / name
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    search = benches.get("search") or {}
    if search.get("sizes"):
        xs = [s["products"] for s in search["sizes"]]
        fig, ax = plt.subplots(figsize=(7, 3.6))
        for key, label, style in (("service", "service (gRPC)", "-o"), ("raw", "raw hybrid_search", "--s")):
            for pct, alpha in (("p50_ms", 1.0), ("p99_ms", 0.45)):
                ax.plot(xs, [s["plain"][key][pct] for s in search["sizes"]], style, alpha=alpha,
                        label=f"{label} {pct[:3]}")
        ax.set_xscale("log")
        ax.set_xlabel("products in the catalog")
        ax.set_ylabel("ms")
        ax.set_title("Search latency against catalog size (unfiltered, top 10, rerank off)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        save(fig, PLOT_SEARCH_SIZE)
    if search.get("concurrency"):
        rows = search["concurrency"]
        xs = [c["clients"] for c in rows]
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.plot(xs, [c["p50_ms"] for c in rows], "-o", label="p50")
        ax.plot(xs, [c["p99_ms"] for c in rows], "-o", alpha=0.5, label="p99")
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("ms")
        ax2 = ax.twinx()
        ax2.plot(xs, [c["qps"] for c in rows], "--s", color="gray", label="QPS")
        ax2.set_ylabel("queries/s")
        ax.set_title(f"Search under concurrency ({search.get('clients_at', 0):,} products)")
        ax.legend(loc="upper left", fontsize=8)
        ax2.legend(loc="lower right", fontsize=8)
        ax.grid(alpha=0.3)
        save(fig, PLOT_SEARCH_CLIENTS)
    curve = (benches.get("ingest") or {}).get("batch_curve") or []
    if curve:
        xs = [c["batch_max_events"] for c in curve]
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.plot(xs, [c["new_events_per_s"] for c in curve], "-o", label="new products")
        ax.plot(xs, [c["patch_events_per_s"] for c in curve], "-s", label="patches")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("CATALOG_BATCH_MAX_EVENTS")
        ax.set_ylabel("events/s")
        ax.set_title("Ingest ceiling (zero-cost embedder control) against batch size")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        save(fig, PLOT_INGEST_BATCH)
    return written
