"""Every table the CLI prints, rendered by ``rich`` into plain text.

Tables are rendered to a string on a fixed-width, colourless console (``force_terminal=False``, no colour, no
markup, no highlighting): the output is the same whether stdout is a terminal, a pipe or a test's capture, a title
holding ``[...]`` is not taken for markup, and rich measures East Asian wide characters, so CJK titles line up.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from catalog_search.retrieve.domain import SearchResponse

WIDTH = 200              # wide enough that no table wraps: titles are cut at TITLE_WIDTH columns
TITLE_WIDTH = 48
STAGE_ORDER = ("spell", "count", "embed", "dense", "exact_scan", "bm25", "fuse", "hydrate", "rerank")   # display order


def new_table(*columns: str, right: Iterable[str] = ()) -> Table:
    """A borderless table with a ruled header; ``right`` names the right-aligned (numeric) columns."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in columns:
        table.add_column(name, justify="right" if name in set(right) else "left", no_wrap=True)
    return table


def render(table: Table, notes: Iterable[str] = ()) -> str:
    """The table as plain text (trailing spaces stripped), then one line per note."""
    console = Console(file=io.StringIO(), width=WIDTH, force_terminal=False, no_color=True, color_system=None,
                      markup=False, highlight=False, emoji=False)
    console.print(table)
    lines = [line.rstrip() for line in console.file.getvalue().splitlines()]   # type: ignore[attr-defined]
    return "\n".join([*lines, *notes])


def search_table(resp: SearchResponse, *, rerank_requested: bool = True) -> str:
    """Rank, sku, title, price, brand, final and stage scores (and the variant count of grouped hits); then facets,
    the result set, the next page's token, reranker, degradation, timings and models."""
    grouped = bool(resp.result_set and resp.result_set.group_by)
    columns = ["#", "sku", "title", "price", "brand", *(["variants"] if grouped else []), "score", "dense", "bm25",
               "fused", "rerank"]
    table = new_table(*columns, right=("#", "price", "variants", "score", "dense", "bm25", "fused", "rerank"))
    table.columns[2].max_width, table.columns[2].overflow = TITLE_WIDTH, "ellipsis"
    table.columns[4].max_width, table.columns[4].overflow = 16, "ellipsis"
    offset = resp.result_set.offset if resp.result_set else 0
    for i, h in enumerate(resp.hits, offset + 1):
        table.add_row(str(i), h.sku, " ".join(h.title.split()),
                      f"{h.price:,.2f} {h.currency}" + ("" if h.in_stock else " *"), " ".join(h.brand.split()),
                      *([str(h.variant_count)] if grouped else []),
                      _num(h.score, ".4f"), _num(h.scores.dense), _num(h.scores.bm25, ".2f"),
                      _num(h.scores.fused, ".4f"), _num(h.scores.rerank))
    return render(table, _shape_notes(resp) + _search_notes(resp, rerank_requested))


def _shape_notes(resp: SearchResponse) -> list[str]:
    notes = []
    for facet in resp.facets:
        values = ", ".join(f"{v.value} {v.count}" for v in facet.values) or "(none)"
        notes.append(f"facet {facet.name}: {values}" + (" (without its own filter)" if facet.own_filter_removed
                                                         else ""))
    if resp.result_set is not None:
        notes.append(f"result set: {resp.result_set.description}")
    if resp.next_page_token:
        notes.append(f"next page: --page-token {resp.next_page_token}")
    return notes


def landed_table(rows: dict[str, dict[str, Any] | None]) -> str:
    """The demo's stored products by sku (``describe`` records; None: not stored)."""
    table = new_table("sku", "version", "state", "title", "vector", right=("version",))
    table.columns[3].max_width, table.columns[3].overflow = TITLE_WIDTH, "ellipsis"
    for sku, row in rows.items():
        if row is None:
            table.add_row(sku, "-", "not stored", "", "")
            continue
        state = "DELETED" if row["deleted"] else f"{row['price']:.2f} {row['currency']}" + \
            ("" if row["in_stock"] else " (out of stock)")
        table.add_row(sku, f"v{row['version']}", state, " ".join(row["title"].split()), f"{row['vector_dim']}-d")
    return render(table)


def _num(value: float | None, fmt: str = ".3f") -> str:
    return "-" if value is None else format(value, fmt)


def _search_notes(resp: SearchResponse, rerank_requested: bool) -> list[str]:
    notes = [] if resp.hits else ["(no results)"]
    if resp.corrected_query:
        notes.insert(0, f"showing results for: {resp.corrected_query}")
    if any(not h.in_stock for h in resp.hits):
        notes.append("* out of stock")
    reranker = resp.models.get("reranker", "")
    if not rerank_requested:
        notes.append("rerank: off (not requested)")
    elif any(h.scores.rerank is not None for h in resp.hits):
        notes.append(f"rerank: {reranker or 'yes'}")
    elif reranker in ("", "none"):
        notes.append("rerank: none (no reranker configured)")
    else:
        notes.append(f"rerank: skipped ({reranker} did not run)" if resp.hits else f"rerank: {reranker} (no hits)")
    if resp.degraded:
        notes.append(f"DEGRADED: {resp.degraded_reason or 'no reason given'}")
    if resp.timings_ms:
        order = {stage: i for i, stage in enumerate(STAGE_ORDER)}
        stages = sorted(resp.timings_ms, key=lambda k: (k == "total", order.get(k, len(order)), k))
        notes.append("timings: " + ", ".join(f"{k} {resp.timings_ms[k]:.1f}ms" for k in stages))
    if resp.models:
        notes.append("models: " + ", ".join(f"{k}={v}" for k, v in resp.models.items()))
    if resp.request_id:
        notes.append(f"request id: {resp.request_id}")
    return notes
