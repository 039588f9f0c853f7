"""Building the new collection from live rows: copy (vectors carried) or replay through the real BatchProcessor."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from catalog_search.core.product import Product, embed_text, text_hash
from catalog_search.ingest.batcher import Batcher
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.ingest.processor import BatchProcessor
from catalog_search.ingest.reindex.build import Interrupted, copy_rows, replay_rows
from catalog_search.ingest.retry import RetryPolicy
from tests.ingest.fakes import RowsStore, ScriptedEmbedder


class Letters:
    def __init__(self):
        self.letters = []

    def publish(self, letters):
        self.letters.extend(letters)


def live_rows():
    rows = []
    for i in range(5):
        p = Product(sku=f"S{i}", version=i + 1, title=f"Product {i}", price=float(i), brand="B", updated_at_ms=11)
        rows.append(p.with_changes(text_hash=text_hash(embed_text(p)), vector=np.full(8, i, dtype=np.float32)))
    rows.append(Product(sku="GONE", version=4, deleted=True, title="was here"))
    return [rows[:4], rows[4:]]


def retry():
    return RetryPolicy(initial_s=0.001, max_s=0.001)


def test_copy_keeps_rows_vectors_versions_and_tombstones():
    store = RowsStore(transient_failures=1)                       # one transient fault is retried
    result = copy_rows(live_rows(), store, retry(), source="collection v1")
    assert (result.rows, result.copied_vectors, result.embedded_texts) == (6, 5, 0)
    assert store.rows["S3"].vector[0] == 3 and store.rows["S3"].version == 4 and store.rows["S3"].updated_at_ms == 11
    assert store.rows["GONE"].deleted and store.rows["GONE"].version == 4


def test_replay_re_embeds_every_live_text_once_with_the_same_versions():
    store, embedder, letters = RowsStore(), ScriptedEmbedder(), Letters()
    processor = BatchProcessor(Pipeline(embedder, store), letters, retry(), max_event_bytes=100_000)
    result = replay_rows(live_rows(), processor, Batcher(max_events=3, max_bytes=10**6, max_wait_s=1),
                         source="collection v1")
    assert (result.rows, result.embedded_texts, result.rejected, result.copied_vectors) == (6, 5, 0, 0)
    assert sum(len(call) for call in embedder.calls) == 5
    for i in range(5):
        row = store.rows[f"S{i}"]
        assert row.version == i + 1 and row.price == float(i) and row.vector.shape == (8,)
        assert row.text_hash == text_hash(embed_text(row)) and row.vector[0] != i      # the new model's vector
    assert store.rows["GONE"].deleted and store.rows["GONE"].version == 4
    assert not letters.letters


def test_a_stop_request_interrupts_between_pages():
    stop = threading.Event()
    stop.set()
    with pytest.raises(Interrupted):
        copy_rows(live_rows(), RowsStore(), retry(), source="collection v1", stop=stop)
