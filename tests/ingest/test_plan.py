"""Version, tombstone and text-diff rules of a batch plan (pure)."""

import numpy as np
import pytest

from catalog_search.core.events import Delete, Patch, Upsert
from catalog_search.core.product import Product, embed_text, text_hash
from catalog_search.ingest.plan import Outcome, plan_batch

NOW = 1_700_000_000_000


def upsert(sku="A1", version=1, **fields):
    base = dict(title="Cotton T-Shirt", description="Soft tee", brand="Uniqlo", category="Apparel > Men > T-Shirts",
                price=99.0, currency="CNY", in_stock=True, locale="zh-CN", attributes={"color": "black"},
                tenant="default")
    base.update(fields)
    return Upsert(sku, version, base)


def stored_from(event, vector=None):
    """The row that applying ``event`` would have stored, with a vector for its text."""
    product = Product(sku=event.sku, version=event.version, **event.fields)
    digest = text_hash(embed_text(product))
    return product.with_changes(text_hash=digest, vector=np.ones(4, np.float32) if vector is None else vector)


def outcomes(plan):
    return [r.outcome for r in plan.results]


def test_new_upsert_needs_embedding_of_its_text():
    event = upsert()
    plan = plan_batch([event], {}, now_ms=NOW)
    assert outcomes(plan) == [Outcome.UPSERTED]
    assert plan.to_embed == {"A1": embed_text(plan.writes["A1"])}
    assert plan.writes["A1"].vector is None and plan.writes["A1"].updated_at_ms == NOW


def test_price_and_stock_patch_reuses_stored_vector():
    stored = stored_from(upsert(version=1))
    plan = plan_batch([Patch("A1", 2, {"price": 79.0, "in_stock": False})], {"A1": stored}, now_ms=NOW)
    assert outcomes(plan) == [Outcome.PATCHED]
    assert plan.to_embed == {}
    row = plan.writes["A1"]
    assert (row.price, row.in_stock, row.version) == (79.0, False, 2)
    assert row.vector is stored.vector and row.text_hash == stored.text_hash


def test_non_embedded_attribute_patch_needs_no_model_but_embedded_one_does():
    stored = stored_from(upsert(version=1))
    quiet = plan_batch([Patch("A1", 2, {"attributes": {"color": "black", "warehouse": "SH-3"}})], {"A1": stored},
                       now_ms=NOW)
    assert quiet.to_embed == {}
    loud = plan_batch([Patch("A1", 2, {"attributes": {"color": "white"}})], {"A1": stored}, now_ms=NOW)
    assert "color: white" in loud.to_embed["A1"]


def test_title_patch_re_embeds():
    stored = stored_from(upsert(version=1))
    plan = plan_batch([Patch("A1", 2, {"title": "Linen Shirt"})], {"A1": stored}, now_ms=NOW)
    assert plan.to_embed["A1"].startswith("Linen Shirt")
    assert plan.writes["A1"].vector is None


def test_identical_reupsert_with_new_version_reuses_vector():
    stored = stored_from(upsert(version=1))
    plan = plan_batch([upsert(version=2, price=1.0)], {"A1": stored}, now_ms=NOW)
    assert outcomes(plan) == [Outcome.UPSERTED] and plan.to_embed == {}
    assert plan.writes["A1"].version == 2 and plan.writes["A1"].vector is stored.vector


@pytest.mark.parametrize("version", [1, 3])
def test_stale_or_duplicate_version_is_skipped_without_write(version):
    stored = stored_from(upsert(version=3))
    plan = plan_batch([upsert(version=version, title="Old")], {"A1": stored}, now_ms=NOW)
    assert outcomes(plan) == [Outcome.STALE]
    assert plan.writes == {} and plan.to_embed == {}
    assert "stored 3" in plan.results[0].reason


def test_delete_keeps_tombstone_that_blocks_older_upsert():
    stored = stored_from(upsert(version=1))
    deleted = plan_batch([Delete("A1", 5)], {"A1": stored}, now_ms=NOW)
    tomb = deleted.writes["A1"]
    assert tomb.deleted and tomb.version == 5 and deleted.to_embed == {}
    older = plan_batch([upsert(version=4)], {"A1": tomb}, now_ms=NOW)
    assert outcomes(older) == [Outcome.STALE] and older.writes == {}


def test_newer_upsert_revives_tombstone_reusing_vector_when_text_unchanged():
    tomb = stored_from(upsert(version=1)).with_changes(version=5, deleted=True)
    plan = plan_batch([upsert(version=6)], {"A1": tomb}, now_ms=NOW)
    row = plan.writes["A1"]
    assert outcomes(plan) == [Outcome.UPSERTED] and not row.deleted and row.vector is tomb.vector


def test_delete_of_unknown_sku_still_leaves_tombstone():
    plan = plan_batch([Delete("B9", 3)], {}, now_ms=NOW)
    assert plan.writes["B9"].deleted and plan.writes["B9"].vector is None
    assert outcomes(plan_batch([upsert("B9", 2)], {"B9": plan.writes["B9"]}, now_ms=NOW)) == [Outcome.STALE]


@pytest.mark.parametrize("stored", [{}, {"A1": Product(sku="A1", version=3, deleted=True)}])
def test_patch_without_live_row_is_dead_lettered_with_reason(stored):
    plan = plan_batch([Patch("A1", 4, {"price": 1.0})], stored, now_ms=NOW)
    assert outcomes(plan) == [Outcome.DEAD]
    assert "A1" in plan.results[0].reason and plan.writes == {}


def test_in_batch_events_fold_in_arrival_order_and_embed_once():
    events = [upsert(version=2, title="Wool Sweater"), upsert(version=1, title="X"), Patch("A1", 3, {"price": 5.0}),
              Patch("A1", 3, {"price": 6.0})]
    plan = plan_batch(events, {}, now_ms=NOW)
    # v2 applies, the v1 arriving after it is stale, the first v3 patch applies, the duplicate v3 is stale
    assert outcomes(plan) == [Outcome.UPSERTED, Outcome.STALE, Outcome.PATCHED, Outcome.STALE]
    row = plan.writes["A1"]
    assert (row.version, row.title, row.price) == (3, "Wool Sweater", 5.0)
    assert list(plan.to_embed) == ["A1"] and plan.to_embed["A1"].startswith("Wool Sweater")


OUT_OF_ORDER = [upsert(version=1), Patch("A1", 3, {"price": 5.0}), Delete("A1", 2),
                Patch("A1", 5, {"title": "Renamed"}), Patch("A1", 4, {"price": 7.0})]


def _fold(batches, stored=None):
    stored = dict(stored or {})
    for batch in batches:
        for sku, row in plan_batch(batch, stored, now_ms=NOW).writes.items():
            stored[sku] = row.with_changes(vector=np.ones(4, np.float32) if not row.deleted else None)
    return stored


@pytest.mark.parametrize("split", range(1, len(OUT_OF_ORDER)))
def test_out_of_order_versions_leave_the_same_row_wherever_batches_split(split):
    """Regression (issue 10, crash safety): the fold was in version order within a batch, so a delete v2 arriving
    after a patch v3 deleted the product when both shared a batch and was stale when a crash split them."""
    whole = _fold([OUT_OF_ORDER])["A1"]
    assert (whole.version, whole.deleted, whole.title, whole.price) == (5, False, "Renamed", 5.0)
    parts = _fold([OUT_OF_ORDER[:split], OUT_OF_ORDER[split:]])["A1"]
    assert (parts.version, parts.deleted, parts.title, parts.price) == (5, False, "Renamed", 5.0)
    replayed = _fold([OUT_OF_ORDER[:split], OUT_OF_ORDER])["A1"]          # redelivery after a crash
    assert (replayed.version, replayed.deleted, replayed.title, replayed.price) == (5, False, "Renamed", 5.0)


def test_upsert_then_delete_in_one_batch_embeds_nothing():
    plan = plan_batch([upsert(version=1), Delete("A1", 2)], {}, now_ms=NOW)
    assert outcomes(plan) == [Outcome.UPSERTED, Outcome.DELETED]
    assert plan.to_embed == {} and plan.writes["A1"].deleted


def test_results_align_with_input_across_skus():
    events = [upsert("A"), Delete("B", 1), upsert("A", 1), Patch("C", 1, {"price": 1.0})]
    plan = plan_batch(events, {}, now_ms=NOW)
    assert outcomes(plan) == [Outcome.UPSERTED, Outcome.DELETED, Outcome.STALE, Outcome.DEAD]


def test_every_written_row_carries_its_embedded_text_computed_once_with_the_plan_attributes():
    stored = stored_from(upsert("B1", version=1))
    events = [upsert(version=1, attributes={"color": "black", "warehouse": "W9"}), Patch("B1", 2, {"price": 1.0}),
              Delete("C1", 1)]
    plan = plan_batch(events, {"B1": stored}, now_ms=NOW, embed_attributes=("color",))
    a1, b1 = plan.writes["A1"], plan.writes["B1"]
    assert a1.embedded_text == embed_text(a1, embed_attributes=("color",)) == plan.to_embed["A1"]
    assert "color: black" in a1.embedded_text and "W9" not in a1.embedded_text
    assert b1.embedded_text == embed_text(b1, embed_attributes=("color",)) and "B1" not in plan.to_embed
    assert plan.writes["C1"].deleted and plan.writes["C1"].embedded_text == ""
