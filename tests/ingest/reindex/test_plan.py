"""Pure decisions of a reindex: names, carry vs re-embed, catch-up offsets and lag, rows as events, next steps."""

from __future__ import annotations

import json

import numpy as np
import pytest

from catalog_search.core.errors import ConfigError
from catalog_search.core.events import Delete, Upsert, parse_event
from catalog_search.core.product import Product
from catalog_search.ingest.plan import Outcome, plan_batch
from catalog_search.ingest.reindex import plan as P

E5 = P.Side("v1", "e5", 384, ("color",))


@pytest.mark.parametrize("target, message", [
    ("catalog_products", "search alias itself"),
    ("catalog_products_v1", "points at now"),
    ("ingest_writes_here", "CATALOG_MILVUS_COLLECTION"),
])
def test_target_must_be_a_new_collection(target, message):
    with pytest.raises(ConfigError, match=message):
        P.check_target(alias="catalog_products", live="catalog_products_v1", target=target,
                       ingest_collection="ingest_writes_here")
    P.check_target(alias="catalog_products", live="catalog_products_v1", target="catalog_products_v2",
                   ingest_collection="catalog_products_v1")


@pytest.mark.parametrize("new, force, reusable, why", [
    (P.Side("v2", "e5", 384, ("color",)), False, True, "copying stored vectors"),
    (P.Side("v2", "e5", 384, ("color",)), True, False, "--re-embed"),
    (P.Side("v2", "qwen3", 384, ("color",)), False, False, "model changes (e5 -> qwen3)"),
    (P.Side("v2", "e5", 256, ("color",)), False, False, "dim changes (384 -> 256)"),
    (P.Side("v2", "e5", 384, ("color", "size")), False, False, "embedded text changes"),
])
def test_vectors_are_carried_only_when_model_dim_and_text_are_unchanged(new, force, reusable, why):
    ok, reason = P.vectors_reusable(E5, new, force_re_embed=force)
    assert ok is reusable and why in reason


def test_catch_up_starts_at_the_committed_offsets_else_the_partition_start():
    committed = {0: 7, 1: None, 2: 3}
    beginning = {0: 0, 1: 2, 2: 5}                     # partition 2 was truncated past the committed offset
    assert P.start_offsets(committed, beginning) == {0: 7, 1: 2, 2: 5}
    assert P.start_offsets(committed, beginning, replay_from="earliest") == {0: 0, 1: 2, 2: 5}
    assert P.start_offsets({}, {0: 0}) == {0: 0}       # no commits at all: the whole topic
    with pytest.raises(ValueError):
        P.start_offsets({}, {0: 0}, replay_from="latest")


def test_the_catch_up_group_is_derived_from_the_target():
    assert P.catchup_group("catalog-ingest", "catalog_products_v2") == "catalog-ingest-catalog_products_v2"


def test_a_row_becomes_the_event_that_recreates_it_with_the_same_version():
    row = Product(sku="A1", version=7, title="Drill", description="18V", brand="Bosch", category="Tools > Drills",
                  price=99.0, currency="EUR", in_stock=True, locale="de-DE", attributes={"color": "blue"},
                  tenant="t1", text_hash="h", updated_at_ms=5, vector=np.ones(4, dtype=np.float32))
    event = parse_event(P.row_event(row), max_bytes=100_000)
    assert isinstance(event, Upsert) and event.version == 7
    replayed = plan_batch([event], {}, now_ms=1).writes["A1"]
    for name in ("title", "description", "brand", "category", "price", "currency", "in_stock", "locale", "tenant"):
        assert getattr(replayed, name) == getattr(row, name)
    assert dict(replayed.attributes) == {"color": "blue"}

    tomb = parse_event(P.row_event(Product(sku="A1", version=9, deleted=True, title="Drill")), max_bytes=100_000)
    assert isinstance(tomb, Delete) and tomb.version == 9
    assert json.loads(P.row_event(Product(sku="B", version=1, title="x", price=3))) ["price"] == 3.0


def test_replaying_the_snapshot_rows_after_catch_up_events_is_stale():
    """The property the catch-up relies on: older versions never overwrite a newer row."""
    row = Product(sku="A1", version=3, title="new title", price=1.0)
    older = parse_event(P.row_event(Product(sku="A1", version=2, title="old", price=1.0)), max_bytes=10_000)
    plan = plan_batch([older], {"A1": row}, now_ms=1)
    assert plan.results[0].outcome is Outcome.STALE and not plan.writes


def test_next_steps_say_how_to_repoint_workers_and_roll_back():
    swapped = P.next_steps(alias="a", old="v1", new="v2", group="g-v2", model_env=["CATALOG_EMBED_DIM=256"],
                           swapped=True, following=False)
    text = "\n".join(swapped)
    assert "CATALOG_MILVUS_COLLECTION=v2 CATALOG_KAFKA_GROUP=g-v2 CATALOG_EMBED_DIM=256" in text
    assert "receives no updates" in text and "alias --set v1" in text
    assert "until SIGTERM" in "\n".join(P.next_steps(alias="a", old="v1", new="v2", group="g", model_env=[],
                                                     swapped=True, following=True))
    dropped = "\n".join(P.next_steps(alias="a", old="v1", new="v2", group="g", model_env=[], swapped=True,
                                     following=False, dropped=True))
    assert "dropped" in dropped and "rollback" not in dropped
    assert "still points at 'v1'" in P.next_steps(alias="a", old="v1", new="v2", group="g", model_env=[],
                                                  swapped=False, following=False)[0]


def test_next_steps_carry_every_setting_a_reindex_may_change():
    from catalog_search.core.settings import load_settings
    from catalog_search.ingest.reindex.run import ReindexResult, _steps

    live = load_settings(milvus_collection="v1")
    new = live.replace(**{"milvus_collection": "v2", "bm25_analyzer": "multilingual", "milvus_index": "FLAT"})
    swapped = ReindexResult(alias="a", old="v1", new="v2", group="g", swapped=True)
    steps = "\n".join(_steps(swapped, live, new, following=False))
    assert "CATALOG_BM25_ANALYZER=multilingual" in steps and "CATALOG_MILVUS_INDEX=FLAT" in steps


# -- the gate's verdict ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("before, after, max_drop, ok", [
    (0.50, 0.50, 0.0, True),
    (0.50, 0.60, 0.0, True),
    (0.50, 0.49, 0.0, False),
    (0.50, 0.49, 0.02, True),
    (0.50, 0.47, 0.02, False),
    (0.3, 0.1 + 0.2, 0.0, True),          # float noise is not a regression
])
def test_new_must_be_at_least_old_minus_max_drop(before, after, max_drop, ok):
    assert P.passes(before, after, max_drop) is ok


def test_negative_max_drop_is_refused():
    with pytest.raises(ValueError):
        P.passes(0.5, 0.5, -0.1)


def test_gate_result_reports_both_sides():
    result = P.GateResult({"ndcg@10": 0.8, "queries": 5}, {"ndcg@10": 0.61234, "queries": 5}, 0.1)
    assert not result.passed
    assert result.as_dict()["ndcg@10_delta"] == pytest.approx(-0.1877)
    assert "FAILED" in result.summary() and "0.8000 -> 0.6123" in result.summary()
