"""Evaluation outputs: a markdown table, a JSON document and a PNG bar chart; and the baseline gate."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from catalog_search.evaluate.runner import ConfigResult

METRICS = ("ndcg@10", "recall@100", "mrr@10")
UNJUDGED_NOTE = ("Unjudged results count as non-relevant (gain 0), so these numbers are a lower bound where the "
                 "judgments are incomplete.")
GAINS_NOTE = {"linear": "nDCG@10 uses linear gains (gain = grade 0-3); exponential gains (2^grade - 1) are an option.",
              "exponential": "nDCG@10 uses exponential gains (2^grade - 1); linear gains (= grade) are the default."}
LATENCY_STAGES = ("spell", "embed", "dense", "bm25", "rerank", "total")


def to_json(results: Sequence[ConfigResult], meta: Mapping[str, Any], *, per_query: bool = False,
            sweep: Sequence[ConfigResult] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"meta": {**meta, "unjudged": "non-relevant", "note": UNJUDGED_NOTE},
                           "configs": {r.config.name: r.as_dict(per_query=per_query) for r in results}}
    if sweep:
        out["candidate_sweep"] = [_sweep_row(r) for r in sweep]
    return out


def _sweep_row(r: ConfigResult) -> dict[str, Any]:
    """One depth of the candidate sweep; Recall@100 only where 100 results were asked for."""
    depth = int(r.config.depth or 0)
    return {"candidates": depth, "ndcg@10": round(r.metrics["ndcg@10"], 4), "mrr@10": round(r.metrics["mrr@10"], 4),
            "recall@100": round(r.metrics["recall@100"], 4) if depth >= 100 else None,
            "total_p50_ms": r.latency_ms.get("total", {}).get("p50")}


def sweep_markdown(sweep: Sequence[ConfigResult]) -> list[str]:
    if not sweep:
        return []
    lines = ["", f"## nDCG@10 against candidate count (`{sweep[0].config.name.split('@')[0]}`)", "",
             "| candidates per retriever | nDCG@10 | MRR@10 | Recall@100 | total p50 ms |", "|---|---|---|---|---|"]
    for row in map(_sweep_row, sweep):
        recall = "-" if row["recall@100"] is None else f"{row['recall@100']:.4f}"
        lines.append(f"| {row['candidates']} | {row['ndcg@10']:.4f} | {row['mrr@10']:.4f} | {recall} | "
                     f"{row['total_p50_ms']} |")
    return lines


def markdown(results: Sequence[ConfigResult], meta: Mapping[str, Any], sweep: Sequence[ConfigResult] = ()) -> str:
    stages = [s for s in LATENCY_STAGES if any(s in r.latency_ms for r in results)]
    head = ["config", "what", "nDCG@10", "Recall@100", "MRR@10"] + [f"{s} p50/p95 ms" for s in stages]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in results:
        lat = [f"{r.latency_ms[s]['p50']:.1f} / {r.latency_ms[s]['p95']:.1f}" if s in r.latency_ms else "-"
               for s in stages]
        cells = [f"`{r.config.name}`", r.config.describe()] + [f"{r.metrics[m]:.4f}" for m in METRICS] + lat
        lines.append("| " + " | ".join(cells) + " |")
    facts = ", ".join(f"{k}: {v}" for k, v in meta.items() if k != "gains")
    notes = [f"- {UNJUDGED_NOTE}", f"- {GAINS_NOTE.get(str(meta.get('gains', 'linear')), '')}",
             "- Relevant (Recall@100, MRR@10) = grade >= 1; queries without a relevant judgment are left out.",
             f"- {facts}"]
    corrected = [f"{r.config.name}: {r.corrected}/{r.queries} ({r.corrected / r.queries:.1%})" for r in results
                 if r.corrected and r.queries]
    if corrected:
        notes.append(f"- Queries whose BM25 query spelling changed: {', '.join(corrected)}")
    degraded = [f"{r.config.name}: {r.degraded}" for r in results if r.degraded]
    if degraded:
        notes.append(f"- Degraded responses (e.g. reranker unavailable): {', '.join(degraded)}")
    return "\n".join(["# Relevance evaluation", "", *lines, "", *notes, *sweep_markdown(sweep), ""])


def plot(results: Sequence[ConfigResult], path: Path, sweep: Sequence[ConfigResult] = ()) -> None:
    """Bars per configuration; with a sweep, a second panel of nDCG@10 against candidate count."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.config.name for r in results]
    width = 0.8 / len(METRICS)
    bars_w = max(6.0, 1.3 * len(names) + 2)
    if sweep:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(bars_w + 5, 4.5), gridspec_kw={"width_ratios": [bars_w, 5]})
        depths = [int(r.config.depth or 0) for r in sweep]
        ax2.plot(depths, [r.metrics["ndcg@10"] for r in sweep], marker="o")
        ax2.set_xscale("log")
        ax2.set_xticks(depths, [str(d) for d in depths])
        ax2.set_xlabel("candidates per retriever (dense, BM25)")
        ax2.set_ylabel("nDCG@10")
        ax2.set_title(f"nDCG@10 vs candidates ({sweep[0].config.name.split('@')[0]})")
        ax2.grid(alpha=0.3)
    else:
        fig, ax = plt.subplots(figsize=(bars_w, 4.5))
    for i, metric in enumerate(METRICS):
        xs = [j + (i - (len(METRICS) - 1) / 2) * width for j in range(len(names))]
        bars = ax.bar(xs, [r.metrics[metric] for r in results], width, label=metric)
        ax.bar_label(bars, fmt="%.3f", fontsize=7, rotation=90, padding=2)
    ax.set_xticks(range(len(names)), names, rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (unjudged = non-relevant)")
    ax.set_title("Relevance per configuration")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(results: Sequence[ConfigResult], meta: Mapping[str, Any], out: Path,
          sweep: Sequence[ConfigResult] = ()) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "report.md", "json": out / "results.json", "png": out / "metrics.png"}
    paths["markdown"].write_text(markdown(results, meta, sweep), encoding="utf-8")
    data = to_json(results, meta, per_query=True, sweep=sweep)
    paths["json"].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot(results, paths["png"], sweep)
    return paths


def load_baseline(path: Path) -> dict[str, float]:
    """config -> nDCG@10 from a results JSON of an earlier run (``{"configs": {name: {"ndcg@10": x}}}``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: float(c["ndcg@10"]) for name, c in data["configs"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not an eval results JSON with configs.<name>.ndcg@10 ({exc!r})") from None


def gate(results: Sequence[ConfigResult], baseline: Mapping[str, float], max_drop: float) -> list[str]:
    """Messages for each config present in the baseline whose nDCG@10 fell more than ``max_drop`` below it."""
    failures = []
    for r in results:
        if r.config.name in baseline:
            before, now = baseline[r.config.name], r.metrics["ndcg@10"]
            if before - now > max_drop:
                failures.append(f"{r.config.name}: nDCG@10 {now:.4f} is {before - now:.4f} below the baseline "
                                f"{before:.4f} (allowed drop {max_drop:g})")
    return failures
