"""Grouping, facets, pages, sorts and the retrieval knobs end to end on the real stack: the sample catalog and its
change stream published to the Kafka-protocol broker and applied by the real ingest worker into Milvus Lite, then
searched through the real gRPC server with ``SearchClient`` and the ``catalog-search search`` CLI.

Ground truth is brute force over what the service itself says its result set is (every page walked, ungrouped) and
the stored rows (``MilvusStore.fetch``), so the checks hold whatever the ranking is. The reranker is the real vLLM
adapter talking to a small stand-in ``/v1/rerank`` server that scores by content (silver products first), so that
rerank visibly changes the order grouping must follow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest

from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.commands import publish_file, run_kafka_worker
from catalog_search.app.localstack import free_port
from catalog_search.core.product import Product, category_levels
from catalog_search.core.settings import Settings, load_settings
from catalog_search.retrieve.client import InvalidSearch, SearchClient
from catalog_search.retrieve.domain import Hit, SearchResponse
from tests.support.stack import drop_catalog

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "app" / "data"
TIMEOUT_S = 20.0


# ------------------------------------------------------------------------------------------------------- fixtures

class _ContentReranker(BaseHTTPRequestHandler):
    """A stand-in ``/v1/rerank``: silver products score 0.9, every other document a fixed value from its text."""

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if not self.path.endswith("/rerank"):
            self.send_error(404)
            return
        docs = body.get("documents", [])
        results = [{"index": i, "relevance_score": score(doc)} for i, doc in enumerate(docs)]
        payload = json.dumps({"results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


def score(doc: str) -> float:
    if "silver" in doc.lower() or "银色" in doc:
        return 0.9
    return 0.1 + (zlib.crc32(doc.encode()) % 1000) / 10_000


@pytest.fixture(scope="module")
def reranker_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ContentReranker)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def catalog(kafka_broker: Any, milvus_server: Any) -> Iterator[tuple[Settings, dict[str, Product]]]:
    """The sample catalog + change stream through the broker and the ingest worker; (settings, live rows)."""
    suffix = uuid.uuid4().hex[:10]
    settings = load_settings(kafka_bootstrap=kafka_broker.bootstrap, kafka_topic=f"shaped.{suffix}",
                             kafka_group=f"shaped-{suffix}", kafka_session_timeout_ms=6000,
                             kafka_max_poll_interval_ms=10_000, milvus_uri=milvus_server.uri,
                             milvus_collection=f"shaped_{suffix}", milvus_alias=f"shaped_a_{suffix}",
                             milvus_timeout_s=10.0, bm25_analyzer="multilingual", embed_backend="local",
                             rerank_backend="none")
    published = sum(publish_file(settings, DATA / name, settings.kafka.topic)
                    for name in ("sample_catalog.jsonl", "sample_changes.jsonl"))
    counters = run_kafka_worker(settings, until_idle_s=3.0)
    assert counters["events"] == published and counters["dead_lettered"] == 0
    store = MilvusStore.from_settings(settings)
    skus = [json.loads(line)["sku"] for name in ("sample_catalog.jsonl", "sample_changes.jsonl")
            for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = {sku: p for sku, p in store.fetch(skus).items() if not p.deleted}
    assert rows["EN-ELE-0006"].group_id == rows["EN-ELE-0007"].group_id == "EN-ELE-G02"   # came through Kafka
    yield settings, rows
    drop_catalog(store)


def _start(settings: Settings, **overrides: Any) -> Any:
    from catalog_search.app.search_wiring import start_search_server
    address = f"127.0.0.1:{free_port()}"
    return start_search_server(settings.replace(**{"grpc_address": address, **overrides}), address=address)


@pytest.fixture(scope="module")
def server(catalog: tuple[Settings, dict[str, Product]]) -> Iterator[Any]:
    handle = _start(catalog[0])
    yield handle
    handle.stop(1.0)


@pytest.fixture(scope="module")
def reranked(catalog: tuple[Settings, dict[str, Product]], reranker_url: str) -> Iterator[Any]:
    handle = _start(catalog[0], rerank_backend="vllm", rerank_base_url=reranker_url, rerank_model="stand-in")
    yield handle
    handle.stop(1.0)


@pytest.fixture
def client(server: Any) -> Iterator[SearchClient]:
    with SearchClient(server.address, timeout_s=TIMEOUT_S) as c:
        yield c


@pytest.fixture(scope="module")
def live(catalog: tuple[Settings, dict[str, Product]]) -> dict[str, Product]:
    return catalog[1]


def walk(client: SearchClient, query: str, page_size: int = 37, **kw: Any) -> tuple[list[Hit], SearchResponse]:
    """Every hit of every page of the query, in order, and the first page."""
    hits: list[Hit] = []
    first, token = None, ""
    for _ in range(1000):
        page = client.search(query, page_size=page_size, page_token=token, **kw)
        first = first or page
        assert page.result_set is not None and page.result_set.offset == len(hits)
        hits += page.hits
        token = page.next_page_token
        if not token:
            return hits, first
    raise AssertionError("pages never end")


# -------------------------------------------------------------------------------------------------------- grouping

QUERY = "Sony WH-1000XM5 black wireless noise canceling headphones"      # fused: the black one first


def test_grouping_picks_the_best_variant_after_rerank(reranked: Any, live: dict[str, Product]) -> None:
    with SearchClient(reranked.address, timeout_s=TIMEOUT_S) as c:
        flat, first = walk(c, QUERY, page_size=100)
        grouped = c.search(QUERY, top_k=10, group_by="group_id")
        unreranked = c.search(QUERY, top_k=10, group_by="group_id", rerank=False)
        fused_flat, _ = walk(c, QUERY, page_size=100, rerank=False)
    assert not grouped.degraded and grouped.models["reranker"] == "stand-in"
    assert flat[0].scores.rerank == pytest.approx(0.9) and "Silver" in flat[0].title   # rerank reordered the set
    # brute force over the ungrouped, reranked result set: each group shown by its first product, in that order
    order: dict[str, list[str]] = {}
    for h in flat:
        order.setdefault(live[h.sku].group, []).append(h.sku)
    assert [h.sku for h in grouped.hits] == [skus[0] for skus in order.values()][:10]
    for hit in grouped.hits:
        variants = order[hit.group_id]
        assert hit.variant_count == len(variants) and list(hit.variant_skus) == variants[:10]
        assert hit.score == next(h.score for h in flat if h.sku == hit.sku)
    xm5 = next(h for h in grouped.hits if h.group_id == "EN-ELE-G02")
    assert xm5.sku == "EN-ELE-0007" and xm5.variant_count == 2           # silver, reranked above the black one
    assert len({h.group_id for h in grouped.hits}) == len(grouped.hits) == 10
    assert grouped.result_set.size == len(order) and grouped.result_set.products == len(flat) == first.result_set.size
    # without rerank the fused order decides: the same brute force on that order, and another variant wins
    assert all(h.scores.rerank is None for h in unreranked.hits)
    fused_order: dict[str, list[str]] = {}
    for h in fused_flat:
        fused_order.setdefault(live[h.sku].group, []).append(h.sku)
    assert [h.sku for h in unreranked.hits] == [skus[0] for skus in fused_order.values()][:10]
    assert next(h for h in unreranked.hits if h.group_id == "EN-ELE-G02").sku == "EN-ELE-0006"   # black when fused


def test_filters_apply_to_variants(client: SearchClient, live: dict[str, Product]) -> None:
    """The silver XM5 is out of stock after the change stream: in stock only, its group has one variant left."""
    assert not live["EN-ELE-0007"].in_stock and live["EN-ELE-0006"].in_stock
    resp = client.search(QUERY, top_k=20, group_by="group_id", in_stock_only=True)
    xm5 = next(h for h in resp.hits if h.group_id == "EN-ELE-G02")
    assert (xm5.sku, xm5.variant_count, xm5.variant_skus) == ("EN-ELE-0006", 1, ("EN-ELE-0006",))
    assert all(live[s].in_stock for h in resp.hits for s in h.variant_skus)


# ---------------------------------------------------------------------------------------------------------- facets

FACETS = ["brand", "category", "category:2", "price", "in_stock", "locale"]


def _value(name: str, p: Product) -> str | None:
    if name == "brand":
        return p.brand or None
    if name.startswith("category"):
        level = int(name.partition(":")[2] or 1)
        levels = category_levels(p.category)
        return levels[level - 1] if len(levels) >= level else None
    if name == "price":
        edges = [0, 25, 50, 100, 250, 500, 1000]
        lows = [e for e in edges if p.price >= e]
        i = edges.index(lows[-1])
        return f"{edges[i]}+" if i == len(edges) - 1 else f"{edges[i]}-{edges[i + 1]}"
    if name == "in_stock":
        return "true" if p.in_stock else "false"
    return p.locale or None


def _brute(hits: list[Hit], live: dict[str, Product], name: str, grouped: bool) -> dict[str, int]:
    units: dict[str, set[str]] = {}
    for h in hits:
        p = live[h.sku]
        value = _value(name, p)
        units.setdefault(p.group if grouped else p.sku, set()).update([value] if value else [])
    counts = Counter(v for values in units.values() for v in values)
    return dict(counts)


@pytest.mark.parametrize("grouped", [False, True])
def test_facet_counts_equal_a_brute_force_count_over_the_same_result_set(client: SearchClient,
                                                                         live: dict[str, Product],
                                                                         grouped: bool) -> None:
    group_by = "group_id" if grouped else None
    resp = client.search("wireless headphones and earbuds", page_size=5, group_by=group_by,
                         facets=FACETS)
    flat, _ = walk(client, "wireless headphones and earbuds")                 # the result set, ungrouped
    assert resp.result_set.products == len(flat) and len(flat) > 100
    for facet in resp.facets:
        got = {v.value: v.count for v in facet.values}
        want = _brute(flat, live, facet.name, grouped)
        if facet.field in ("brand", "category", "locale"):                  # at most size (10) values come back
            want = dict(sorted(want.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
        assert got == want, facet.name
        assert facet.counted == resp.result_set.size and not facet.own_filter_removed


def test_a_facet_ignores_its_own_filter_and_the_others_keep_it(client: SearchClient, live: dict[str, Product]) -> None:
    brands = ["Sony", "Apple"]
    resp = client.search("wireless headphones", page_size=10, brands=brands, facets=["brand", "price", "locale"])
    filtered, _ = walk(client, "wireless headphones", brands=brands)
    unfiltered, _ = walk(client, "wireless headphones")
    brand, price, locale = resp.facets
    assert brand.own_filter_removed and not price.own_filter_removed
    assert {v.value: v.count for v in brand.values} == dict(
        sorted(_brute(unfiltered, live, "brand", False).items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    assert len(brand.values) > 2                                           # other brands still counted
    assert {v.value: v.count for v in price.values} == _brute(filtered, live, "price", False)
    assert {v.value: v.count for v in locale.values} == _brute(filtered, live, "locale", False)
    assert all(live[h.sku].brand in brands for h in filtered)


# ----------------------------------------------------------------------------------------------------------- pages

@pytest.mark.parametrize("sort", ["relevance", "price_asc", "price_desc", "newest"])
@pytest.mark.parametrize("grouped", [False, True])
def test_walking_every_page_returns_each_product_of_the_result_set_once(client: SearchClient,
                                                                        live: dict[str, Product], sort: str,
                                                                        grouped: bool) -> None:
    group_by = "group_id" if grouped else None
    hits, first = walk(client, "men's shoes and jackets", page_size=23, sort=sort, group_by=group_by)
    rs = first.result_set
    assert rs.sort == sort and rs.group_by == (group_by or "") and rs.depth == 200 and rs.size == len(hits)
    units = [live[h.sku].group if grouped else h.sku for h in hits]
    assert len(set(units)) == len(units) == rs.size                         # none twice, none skipped
    if grouped:
        assert sum(h.variant_count for h in hits) == rs.products            # every product, in one group each
        assert rs.size < rs.products                                         # the sample's variants fold
    else:
        assert rs.size == rs.products == 200
    key = {"price_asc": lambda h: (h.price, h.sku), "price_desc": lambda h: (-h.price, h.sku),
           "newest": lambda h: (-live[h.sku].updated_at_ms, -live[h.sku].version, h.sku)}.get(sort)
    if key is not None:
        assert hits == sorted(hits, key=key) and f"ordered by {sort}" in rs.description
    else:
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_bad_tampered_or_foreign_page_token_is_invalid_argument(client: SearchClient) -> None:
    page = client.search("shoes", page_size=5)
    token = page.next_page_token
    assert token
    body, mac = token.split(".")
    tampered = body[:-1] + ("B" if body[-1] == "A" else "A") + "." + mac
    for kwargs in ({"page_token": tampered}, {"page_token": "not-a-token"}, {"page_token": token + "x"},
                   {"page_token": token, "query": "boots"}, {"page_token": token, "sort": "price_asc"},
                   {"page_token": token, "brands": ["Nike"]}, {"page_token": token, "fusion": "rrf"}):
        kwargs = {"query": "shoes", "page_size": 5, **kwargs}
        with pytest.raises(InvalidSearch) as info:
            client.search(kwargs.pop("query"), **kwargs)
        assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT and info.value.message.startswith("page_token:")
    second = client.search("shoes", page_size=5, page_token=token)
    assert second.result_set.offset == 5 and not {h.sku for h in second.hits} & {h.sku for h in page.hits}


# ----------------------------------------------------------------------------------------------- knobs on the wire

def test_retrieval_knobs_reach_the_searcher(client: SearchClient) -> None:
    bm25 = client.search("running shoes", top_k=10, retrievers="bm25", rerank=False)
    dense = client.search("running shoes", top_k=10, retrievers="dense", rerank=False)
    assert bm25.hits and all(h.scores.dense is None and h.scores.bm25 is not None for h in bm25.hits)
    assert dense.hits and all(h.scores.bm25 is None and h.scores.dense is not None for h in dense.hits)
    rrf = client.search("running shoes", top_k=10, fusion="rrf", rerank=False)
    weighted = client.search("running shoes", top_k=10, fusion="weighted", alpha=1.0, rerank=False)
    assert max(h.scores.fused for h in rrf.hits) <= 2 / 61 + 1e-9          # RRF k=60 scores
    assert [h.sku for h in weighted.hits][:3] == [h.sku for h in dense.hits][:3]   # alpha 1: the dense order
    assert len(client.search("running shoes", top_k=10, candidates=3).hits) == 10


@pytest.mark.parametrize("kwargs, field", [
    ({"fusion": "max"}, "fusion"), ({"alpha": 1.5}, "alpha"), ({"alpha": float("nan")}, "alpha"),
    ({"retrievers": "sparse"}, "retrievers"), ({"candidates": 1001}, "candidates"), ({"sort": "cheapest"}, "sort"),
    ({"group_by": "brand"}, "group_by"), ({"page_size": 101}, "page_size"), ({"facets": ["colour"]}, "facets[0].field"),
    ({"facets": ["price:50,10"]}, "facets[0].ranges"), ({"facets": ["category:9"]}, "facets[0].level"),
])
def test_invalid_knobs_are_invalid_argument_naming_the_field(client: SearchClient, kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidSearch) as info:
        client.search("shoes", **kwargs)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.message.split(":")[0] == field, info.value.message


# ------------------------------------------------------------------------------------------------------------- CLI

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "catalog_search.app.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env={**os.environ})


def test_cli_json_carries_groups_facets_and_the_next_page(server: Any, live: dict[str, Product]) -> None:
    base = ["search", "headphones", "--group", "--facet", "brand", "--facet", "price", "--page-size", "10",
            "--sort", "price_asc", "--json", "--address", server.address, "--timeout", "20"]
    done = _cli(*base)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert "corrected_query" not in data or isinstance(data["corrected_query"], str)
    assert len(data["hits"]) == 10 and data["next_page_token"]
    assert all({"group_id", "variant_count"} <= set(h) for h in data["hits"])
    assert [h["price"] for h in data["hits"]] == sorted(h["price"] for h in data["hits"])
    assert set(data["facets"]) == {"brand", "price"}
    assert all(set(v) >= {"value", "count"} for v in data["facets"]["brand"])
    assert data["result_set"]["sort"] == "price_asc" and data["result_set"]["group_by"] == "group_id"
    page2 = _cli(*base, "--page-token", data["next_page_token"])
    assert page2.returncode == 0, page2.stderr
    second = json.loads(page2.stdout)
    assert second["hits"][0]["rank"] == 11 and second["result_set"]["offset"] == 10
    assert not {h["group_id"] for h in second["hits"]} & {h["group_id"] for h in data["hits"]}
    bad = _cli(*base, "--page-token", data["next_page_token"][:-3] + "xyz")
    assert bad.returncode == 2 and "page_token" in bad.stderr
    table = _cli("search", "headphones", "--group", "--facet", "brand", "--page-size", "3", "--address",
                 server.address, "--timeout", "20")
    assert table.returncode == 0 and "variants" in table.stdout.splitlines()[0]
    assert "facet brand:" in table.stdout and "next page: --page-token " in table.stdout
