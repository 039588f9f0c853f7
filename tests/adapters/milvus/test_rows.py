"""Milvus rows <-> Product and filter-expression literals."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pymilvus import MilvusClient

from catalog_search.core import limits
from catalog_search.core.errors import StoreError
from catalog_search.core.product import Product
from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.rows import escape_string, in_filter, product_to_row, row_to_product
from tests.adapters.milvus.products import DIM, product


def to_row(p: Product) -> dict[str, Any]:
    return product_to_row(p, dim=DIM, collection="c_v1")


def test_row_mapping() -> None:
    p = product("s1", title="男士跑步鞋", category="Shoes > Running > Trail", attributes={"color": "红", "wh": "A1"},
                price=9.5, in_stock=True, text_hash="h" * 32, updated_at_ms=123, group_id="shoe-1",
                embedded_text="the planned text")
    row = to_row(p)
    assert row[S.EMBED_TEXT] == "the planned text"          # the store writes the text it is given, derives none
    assert row[S.CATEGORY_LEVELS] == ["Shoes", "Shoes > Running", "Shoes > Running > Trail"]
    assert row[S.ATTRIBUTES] == {"color": "红", "wh": "A1"}
    assert len(row[S.DENSE]) == DIM and row[S.DELETED] is False
    assert set(row) == {f.name for f in S.build_schema(MilvusClient, DIM).fields} - {S.SPARSE}
    back = row_to_product(row | {S.DENSE: row[S.DENSE]})
    assert back.with_changes(vector=None) == p.with_changes(vector=None)
    assert back.vector.dtype == np.float32 and np.array_equal(back.vector, p.vector)


def test_a_product_without_a_group_is_stored_as_its_own_group() -> None:
    row = to_row(product("s2"))
    assert row[S.GROUP_ID] == "s2" and row_to_product(row).group == "s2"
    old = {k: v for k, v in row.items() if k != S.GROUP_ID}          # a row of a collection older than group_id
    assert row_to_product(old).group_id == "" and row_to_product(old).group == "s2"


def test_tombstone_without_vector_gets_zeros_live_without_vector_fails() -> None:
    row = to_row(Product(sku="gone", version=3, deleted=True))
    assert row[S.DENSE] == [0.0] * DIM and row[S.DELETED] is True
    with pytest.raises(StoreError) as err:
        to_row(Product(sku="live", version=1))
    assert not err.value.retriable


def test_wrong_vector_dim_is_not_retriable() -> None:
    with pytest.raises(StoreError, match="3 dims") as err:
        to_row(product("x", vector=np.ones(3, dtype=np.float32)))
    assert not err.value.retriable


def test_embed_text_truncated_to_field_limit() -> None:
    long_attr = "色" * 5000                   # 15000 UTF-8 bytes
    row = to_row(product("x", embedded_text=long_attr))
    assert len(row[S.EMBED_TEXT].encode("utf-8")) <= limits.EMBED_TEXT_MAX_BYTES
    row[S.EMBED_TEXT].encode("utf-8")          # still valid UTF-8


@pytest.mark.parametrize("value", ['plain', 'q"uote', "single'quote", "back\\slash", 'x"] or sku != "', "换行\n\t",
                                   "\\\"", ""])
def test_escape_string_round_trips_as_json(value: str) -> None:
    literal = escape_string(value)
    assert literal.startswith('"') and literal.endswith('"')
    assert json.loads(literal) == value


def test_in_filter_quotes_every_value() -> None:
    assert in_filter(S.SKU, ['a', 'q"uote']) == 'sku in ["a", "q\\"uote"]'
