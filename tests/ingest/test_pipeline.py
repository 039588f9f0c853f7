"""Pipeline decisions and fault isolation (fakes inject faults; the real path is in tests/ingest/test_worker_*)."""

import json
import math

import pytest

from catalog_search.core.cache import TTLCache
from catalog_search.core.errors import EmbeddingError, StoreError
from catalog_search.core.events import Delete, Patch, Upsert
from catalog_search.core.dead_letters import DeadLetter
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.ingest.plan import Outcome
from catalog_search.ingest.processor import BatchProcessor
from catalog_search.core.records import SourceRecord
from catalog_search.ingest.retry import RetryPolicy
from tests.ingest.fakes import RowsStore, ScriptedEmbedder


def up(sku, version=1, title="Cordless drill", **kw):
    fields = dict(title=title, description="", brand="Bosch", category="Tools", price=10.0, currency="USD",
                  in_stock=True, locale="en-US", attributes={}, tenant="default")
    fields.update(kw)
    return Upsert(sku, version, fields)


def test_identical_texts_are_embedded_once_and_patches_never_call_the_model():
    embedder, store = ScriptedEmbedder(), RowsStore()
    pipe = Pipeline(embedder, store)
    first = pipe.process([up("A", title="Same"), up("B", title="Same"), up("C", title="Other")])
    assert first.embedded_texts == 2 and first.written == 3
    assert (store.rows["A"].vector == store.rows["B"].vector).all()
    calls = len(embedder.calls)
    second = pipe.process([Patch("A", 2, {"price": 1.0}), Patch("B", 2, {"in_stock": False}), Delete("C", 2)])
    assert second.embedded_texts == 0 and len(embedder.calls) == calls
    assert [r.outcome for r in second.results] == [Outcome.PATCHED, Outcome.PATCHED, Outcome.DELETED]


def test_text_cache_skips_texts_seen_in_earlier_batches_but_never_caches_refused_ones():
    embedder, store = ScriptedEmbedder(refuse=["POISON"]), RowsStore()
    pipe = Pipeline(embedder, store, text_cache=TTLCache(100, math.inf))
    assert pipe.process([up("A", title="Same"), up("P", title="POISON")]).embedded_texts == 2   # both sent
    calls = len(embedder.calls)
    second = pipe.process([up("B", title="Same"), up("C", title="New"), up("Q", title="POISON")])  # other skus
    # "Same" comes from the cache; the refused text was not cached, so it is sent (and refused) again
    titles = [[text.split("\n")[0] for text in call] for call in embedder.calls[calls:]]
    assert second.embedded_texts == 2 and titles == [["New", "POISON"], ["New"], ["POISON"]]
    assert [r.outcome for r in second.results] == [Outcome.UPSERTED, Outcome.UPSERTED, Outcome.DEAD]
    assert (store.rows["B"].vector == store.rows["A"].vector).all() and "Q" not in store.rows
    uncached = Pipeline(ScriptedEmbedder(), RowsStore())
    uncached.process([up("A", title="Same")])
    assert uncached.process([up("B", title="Same")]).embedded_texts == 1


def test_text_the_model_refuses_dead_letters_only_its_sku():
    pipe = Pipeline(ScriptedEmbedder(refuse=["POISON"]), store := RowsStore())
    result = pipe.process([up("A"), up("B", title="POISON " * 50), Patch("B", 2, {"price": 1.0}), up("C", title="x")])
    assert [r.outcome for r in result.results] == [Outcome.UPSERTED, Outcome.DEAD, Outcome.DEAD, Outcome.UPSERTED]
    assert "rejected the product text" in result.results[1].reason
    assert set(store.rows) == {"A", "C"}


class ListSink:
    def __init__(self):
        self.letters: list[DeadLetter] = []

    def publish(self, letters):
        self.letters.extend(letters)


def record(offset, value):
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return SourceRecord("catalog.products", 0, offset, b"k", raw, timestamp_ms=1)


def processor(embedder, store, sink, sleeps):
    retry = RetryPolicy(initial_s=0.01, max_s=0.05, sleep=sleeps.append)
    return BatchProcessor(Pipeline(embedder, store), sink, retry, max_event_bytes=10_000)


def test_transient_faults_are_retried_by_one_layer_and_nothing_is_lost():
    sleeps, sink = [], ListSink()
    embedder, store = ScriptedEmbedder(transient_failures=2), RowsStore(transient_failures=1)
    events = [record(0, {"op": "upsert", "sku": "A", "version": 1, "title": "Drill", "price": 1.0}),
              record(1, b"not json"),
              record(2, {"op": "patch", "sku": "Z", "version": 1, "price": 2.0})]
    counts = processor(embedder, store, sink, sleeps).process(events)
    assert len(sleeps) == 3                      # 2 embedder faults + 1 store fault, each retried once
    assert counts.as_dict() | {} == {"events": 3, "embedded_texts": 1, "upserted": 1, "patched": 0, "deleted": 0,
                                     "stale": 0, "dead_lettered": 2, "batches": 1}
    assert set(store.rows) == {"A"}
    reasons = {letter.record.offset: letter.reason for letter in sink.letters}
    assert "not valid UTF-8 JSON" in reasons[1] and "unknown sku 'Z'" in reasons[2]
    envelope = json.loads(sink.letters[0].to_bytes())
    assert envelope["topic"] == "catalog.products" and envelope["value"] == {"text": "not json"}


def test_permanent_store_error_is_not_retried():
    class BrokenStore(RowsStore):
        def upsert(self, products):
            raise StoreError("schema mismatch", retriable=False)

    sleeps = []
    with pytest.raises(StoreError):
        processor(ScriptedEmbedder(), BrokenStore(), ListSink(), sleeps).process(
            [record(0, {"op": "upsert", "sku": "A", "version": 1, "title": "Drill", "price": 1.0})])
    assert sleeps == []


def test_retry_policy_gives_up_after_max_attempts_when_bounded():
    sleeps = []
    policy = RetryPolicy(initial_s=0.01, max_s=0.02, max_attempts=3, sleep=sleeps.append)
    with pytest.raises(StoreError):
        policy.call("x", lambda: (_ for _ in ()).throw(StoreError("down", retriable=True)))
    assert len(sleeps) == 2 and all(0 <= s <= 0.02 for s in sleeps)


def test_the_processor_closes_its_embedder_when_used_as_a_context_manager():
    embedder = ScriptedEmbedder()
    with processor(embedder, RowsStore(), ListSink(), []) as proc:
        proc.process([record(0, {"op": "upsert", "sku": "A", "version": 1, "title": "Drill", "price": 1.0})])
        assert not embedder.closed
    assert embedder.closed


def test_the_processor_closes_what_the_wiring_opened_for_it_and_not_a_store_passed_in():
    class Closable:
        closed = False

        def close(self):
            self.closed = True

    mine, shared = Closable(), RowsStore()
    proc = BatchProcessor(Pipeline(ScriptedEmbedder(), shared), ListSink(), RetryPolicy(initial_s=0.01, max_s=0.05),
                          max_event_bytes=10_000, owned=(mine,))
    proc.close()
    assert mine.closed and not getattr(shared, "closed", False)


# ------------------------------------------------------------------------ chunked embedding, overlapped upserts

class GatedStore(RowsStore):
    """Records each upsert's skus; the first embedded-row upsert blocks until the embedder has started the next
    chunk, so a test passes only if the write and the embedding really overlap (no timing involved)."""

    def __init__(self, next_chunk_started) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.next_chunk_started = next_chunk_started

    def upsert(self, products):
        products = list(products)
        if len(self.batches) == 1:                    # the first chunk of embedded rows (patches went first)
            assert self.next_chunk_started.wait(10), "the next chunk was not embedded while this one was written"
        self.batches.append([p.sku for p in products])
        super().upsert(products)


class SignallingEmbedder(ScriptedEmbedder):
    def __init__(self, started, **kw) -> None:
        super().__init__(**kw)
        self.started = started

    def embed_documents(self, texts):
        if self.calls:                                # a second chunk is being embedded
            self.started.set()
        return super().embed_documents(texts)


def test_chunks_are_written_while_the_next_is_embedded_and_the_result_is_the_same():
    import threading
    started = threading.Event()
    store = GatedStore(started)
    pipe = Pipeline(SignallingEmbedder(started, refuse=["POISON"]), store, write_chunk=2)
    plain = Pipeline(ScriptedEmbedder(refuse=["POISON"]), reference := RowsStore())
    events = [up("A", title="one"), up("B", title="two"), up("C", title="two"), up("D", title="three"),
              up("E", title="POISON"), up("F", title="four"), up("G", title="five")]
    # a stored row first, so the batch also has a row that needs no model (a patch)
    for p in (pipe, plain):
        p.process([up("Z", title="zeta")])
    store.batches.clear()
    got = pipe.process(events + [Patch("Z", 2, {"price": 3.0})])
    want = plain.process(events + [Patch("Z", 2, {"price": 3.0})])
    assert [r.outcome for r in got.results] == [r.outcome for r in want.results]
    assert got.results[4].outcome is Outcome.DEAD and got.written == want.written == 7
    assert got.embedded_texts == want.embedded_texts == 6
    assert {s: (p.version, p.price, p.vector.tolist()) for s, p in store.rows.items()} == \
        {s: (p.version, p.price, p.vector.tolist()) for s, p in reference.rows.items()}
    # the patch went first, then one upsert per chunk of at most two distinct texts (B and C share one)
    assert store.batches[0] == ["Z"] and len(store.batches) == 4
    assert sorted(sum(store.batches[1:], [])) == ["A", "B", "C", "D", "F", "G"]
    pipe.close()


def test_a_failed_chunk_write_fails_the_batch_after_the_rest_settles():
    store = RowsStore(transient_failures=1)
    pipe = Pipeline(ScriptedEmbedder(), store, write_chunk=1)
    with pytest.raises(StoreError):
        pipe.process([up("A", title="one"), up("B", title="two"), up("C", title="three")])
    again = pipe.process([up("A", title="one"), up("B", title="two"), up("C", title="three")])   # the retry
    assert set(store.rows) == {"A", "B", "C"} and again.written == 3
    pipe.close()


class RefusingServer(ScriptedEmbedder):
    """An embedding server that refuses every request for its own reasons (wrong model name, key, dimension)."""

    def embed_documents(self, texts):
        self.calls.append(list(texts))
        raise EmbeddingError("embedding server rejected the request, HTTP 404: The model `m` does not exist.",
                             retriable=False)


def test_a_server_that_refuses_every_text_is_its_fault_not_the_products():
    # seen while writing reliability/ingest_faults.py (issue 10): isolation dead-lettered every event of every batch
    # while the server answered 404 for any input, i.e. the whole stream was lost to the DLQ
    pipe = Pipeline(RefusingServer(), store := RowsStore())
    with pytest.raises(EmbeddingError, match="HTTP 404"):
        pipe.process([up("A"), up("B", title="Other")])
    assert store.rows == {}
    # a text that is only too long is still the product's fault, even alone in its batch
    alone = Pipeline(ScriptedEmbedder(refuse=["POISON"]), RowsStore()).process([up("P", title="POISON")])
    assert [r.outcome for r in alone.results] == [Outcome.DEAD]
