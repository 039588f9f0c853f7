"""Web page benchmark: page load time, and one search's round trip through the HTTP API vs the gRPC client.

    .venv/bin/python bench/ui.py [--tries 50] [--loads 15] [--json out.json]

One run, three processes besides this one, as deployed: a Milvus Lite 2.5.1 server holding the sample catalog
(ingested through the real pipeline, offline embedder), ``catalog-search serve`` (no reranker) and
``catalog-search ui`` in front of it. Then, for the same query (its embedding cached after the warm-up, so the model
costs nothing on either path), interleaved:

  1. ``grpc``: ``SearchClient.search`` from this process (what a Python service does);
  2. ``http``: ``POST /v1/search`` with a keep-alive httpx client (what curl / a Node BFF does): HTTP + JSON +
     FastAPI + the same gRPC call inside the ui process;
  3. ``page``: the same request as the page sends it, ``fetch`` + JSON parse timed inside headless Chromium.

Page load: a fresh browser context each time (nothing cached): navigation start -> ``load`` event, and -> the page
showing the service as serving (its first API call answered). p50/p95 of each; ratios of p50s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from bench.common import add_json_arg, emit, machine_info, percentile, ratio, rnd, utc_now, versions  # noqa: E402
from catalog_search.adapters.embedding.local import LocalEmbedder  # noqa: E402
from catalog_search.adapters.milvus.store import MilvusStore  # noqa: E402
from catalog_search.app.localstack import MilvusLiteServer, free_port  # noqa: E402
from catalog_search.core.events import event_from_dict  # noqa: E402
from catalog_search.core.settings import load_settings  # noqa: E402
from catalog_search.ingest.pipeline import Pipeline  # noqa: E402
from catalog_search.retrieve.client import SearchClient  # noqa: E402
from tests.support.browser import launch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUERY = "wireless earbuds with noise cancellation"
FILTERS = {"categories": [{"path": "Electronics", "prefix": True}], "brands": [], "price_min": None,
           "price_max": 300, "in_stock_only": True, "locale": ""}
BODY = {"query": QUERY, "top_k": 10, "filters": FILTERS, "rerank": False}


def _ingest(uri: str) -> dict[str, str]:
    settings = load_settings(milvus_uri=uri, embed_backend="local", rerank_backend="none",
                             bm25_analyzer="multilingual")
    store = MilvusStore.from_settings(settings)
    store.ensure_collection()
    pipeline = Pipeline(LocalEmbedder(), store)
    for name in ("sample_catalog.jsonl", "sample_changes.jsonl"):
        lines = (ROOT / "app" / "data" / name).read_text(encoding="utf-8").splitlines()
        events = [event_from_dict(json.loads(line)) for line in lines if line.strip()]
        for start in range(0, len(events), 64):
            pipeline.process(events[start:start + 64])
    store.close()
    return {"CATALOG_MILVUS_URI": uri, "CATALOG_EMBED_BACKEND": "local", "CATALOG_RERANK_BACKEND": "none"}


def _spawn(args: list[str], env: dict[str, str], pattern: str, timeout_s: float = 120.0) -> tuple[Any, str]:
    """Start ``catalog-search ARGS`` and wait for ``pattern`` on its stderr; returns (process, first group)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    proc = subprocess.Popen([sys.executable, "-m", "catalog_search.app.cli", *args], cwd=ROOT, env={**clean, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout_s
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = re.search(pattern, line)
        if found:
            return proc, found.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"catalog-search {' '.join(args)} did not start: {proc.stderr.read()[-2000:]}")


def _stats(values: list[float]) -> dict[str, float | None]:
    return {"p50_ms": rnd(percentile(values, 50), 2), "p95_ms": rnd(percentile(values, 95), 2), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=50, help="timed searches per path (default 50)")
    parser.add_argument("--loads", type=int, default=15, help="timed page loads (default 15)")
    add_json_arg(parser)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, MilvusLiteServer(Path(tmp) / "milvus", free_port()) as milvus:
        started = time.monotonic()
        env = _ingest(milvus.uri)
        ingest_s = time.monotonic() - started
        grpc_address = f"127.0.0.1:{free_port()}"
        procs = []
        try:
            serve, _ = _spawn(["serve"], {**env, "CATALOG_GRPC_ADDRESS": grpc_address}, r"listening on (\S+);")
            procs.append(serve)
            ui, url = _spawn(["ui", "--port", "0", "--address", grpc_address], env,
                             r"web page and HTTP API on (http://\S+/)")
            procs.append(ui)
            report = _measure(url, grpc_address, args.tries, args.loads, sync_playwright)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    report = {"benchmark": "ui", "when": utc_now(), "query": QUERY, "filters": "Electronics, price <= 300, in stock",
              "ingest_s": rnd(ingest_s, 1), **report, "machine": machine_info(),
              "versions": versions(["fastapi", "uvicorn", "starlette", "grpcio", "playwright"])}
    emit(report, args.json)


def _measure(url: str, grpc_address: str, tries: int, loads: int, sync_playwright: Any) -> dict[str, Any]:
    grpc_ms: list[float] = []
    http_ms: list[float] = []
    page_ms: list[float] = []
    load_ms: list[float] = []
    ready_ms: list[float] = []
    with SearchClient(grpc_address, timeout_s=10.0) as client, httpx.Client(timeout=10.0) as http, \
            sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(url)
        fetch_js = ("async (body) => { const t = performance.now(); const r = await fetch('/v1/search', {method: "
                    "'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)}); "
                    "const data = await r.json(); return [performance.now() - t, data.hits.length]; }")

        def by_grpc() -> int:
            return len(client.search(QUERY, top_k=10, categories=["Electronics"], price_max=300.0,
                                     in_stock_only=True, rerank=False).hits)

        def by_http() -> int:
            resp = http.post(url + "v1/search", json=BODY)
            resp.raise_for_status()
            return len(resp.json()["hits"])

        counts = {by_grpc(), by_http(), page.evaluate(fetch_js, BODY)[1]}     # warm-up: same answer everywhere
        assert len(counts) == 1 and counts.pop() > 0, "the three paths disagree"
        for _ in range(5):
            by_grpc(), by_http(), page.evaluate(fetch_js, BODY)
        for _ in range(tries):
            t = time.perf_counter()
            by_grpc()
            grpc_ms.append((time.perf_counter() - t) * 1000.0)
            t = time.perf_counter()
            by_http()
            http_ms.append((time.perf_counter() - t) * 1000.0)
            page_ms.append(float(page.evaluate(fetch_js, BODY)[0]))
        page.close()
        for _ in range(loads + 1):                    # the first load is discarded (the browser's own start-up)
            context = browser.new_context()
            fresh = context.new_page()
            fresh.goto(url, wait_until="load")
            fresh.locator("#status", has_text="serving").wait_for()
            timing = fresh.evaluate("() => { const n = performance.getEntriesByType('navigation')[0]; "
                                    "return [n.loadEventEnd - n.startTime, performance.now()]; }")
            load_ms.append(float(timing[0]))
            ready_ms.append(float(timing[1]))
            context.close()
        browser.close()
    load_ms, ready_ms = load_ms[1:], ready_ms[1:]
    return {
        "search_grpc": _stats(grpc_ms), "search_http": _stats(http_ms), "search_page_fetch": _stats(page_ms),
        "http_over_grpc_p50": ratio(percentile(http_ms, 50), percentile(grpc_ms, 50), 2),
        "page_over_grpc_p50": ratio(percentile(page_ms, 50), percentile(grpc_ms, 50), 2),
        "http_minus_grpc_p50_ms": rnd(percentile(http_ms, 50) - percentile(grpc_ms, 50), 2),
        "page_load_event": _stats(load_ms), "page_ready_with_status": _stats(ready_ms),
        "page_bytes": sum(len(httpx.get(url + path, timeout=10).content)
                          for path in ("", "static/app.js", "static/style.css", "static/examples.json")),
    }


if __name__ == "__main__":
    main()
