"""The collection spec, without a server."""

from __future__ import annotations

import json

import pytest
from pymilvus import DataType, FunctionType, MilvusClient

from catalog_search.core import limits
from catalog_search.adapters.milvus import schema as S


def _fields(dim: int = 16) -> dict[str, object]:
    return {f.name: f for f in S.build_schema(MilvusClient, dim).fields}


def test_fields_types_and_lengths() -> None:
    fields = _fields(16)
    assert list(fields) == [S.SKU, S.TENANT, S.LOCALE, S.TITLE, S.DESCRIPTION, S.EMBED_TEXT, S.BRAND, S.CATEGORY,
                            S.CATEGORY_LEVELS, S.PRICE, S.CURRENCY, S.IN_STOCK, S.ATTRIBUTES, S.VERSION, S.DELETED,
                            S.TEXT_HASH, S.UPDATED_AT_MS, S.GROUP_ID, S.DENSE, S.SPARSE]
    sku = fields[S.SKU]
    assert sku.is_primary and sku.dtype == DataType.VARCHAR and sku.params["max_length"] == limits.SKU_MAX_BYTES
    assert fields[S.TITLE].params["max_length"] == limits.TITLE_MAX_BYTES
    assert fields[S.DESCRIPTION].params["max_length"] == limits.DESCRIPTION_MAX_BYTES
    assert fields[S.TEXT_HASH].params["max_length"] == limits.TEXT_HASH_BYTES
    levels = fields[S.CATEGORY_LEVELS]
    assert levels.dtype == DataType.ARRAY and levels.element_type == DataType.VARCHAR
    assert levels.params["max_capacity"] == limits.CATEGORY_MAX_LEVELS
    assert fields[S.PRICE].dtype == DataType.DOUBLE
    assert fields[S.IN_STOCK].dtype == DataType.BOOL and fields[S.DELETED].dtype == DataType.BOOL
    assert fields[S.ATTRIBUTES].dtype == DataType.JSON
    assert fields[S.VERSION].dtype == DataType.INT64 and fields[S.UPDATED_AT_MS].dtype == DataType.INT64
    assert fields[S.GROUP_ID].dtype == DataType.VARCHAR
    assert fields[S.GROUP_ID].params["max_length"] == limits.GROUP_ID_MAX_BYTES
    assert fields[S.DENSE].dtype == DataType.FLOAT_VECTOR and fields[S.DENSE].params["dim"] == 16
    assert fields[S.SPARSE].dtype == DataType.SPARSE_FLOAT_VECTOR


@pytest.mark.parametrize(("name", "tokenizer"), [("english", "standard"), ("multilingual", "jieba")])
def test_embed_text_is_analyzed_and_feeds_bm25(name: str, tokenizer: str) -> None:
    schema = S.build_schema(MilvusClient, 8, name)
    embed = next(f for f in schema.fields if f.name == S.EMBED_TEXT)
    assert embed.params["enable_analyzer"] is True
    analyzer = embed.params["analyzer_params"]
    params = json.loads(analyzer) if isinstance(analyzer, str) else analyzer
    assert params["tokenizer"] == tokenizer
    assert S.text_analyzer({"fields": [{"name": S.EMBED_TEXT, "params": {"analyzer_params": json.dumps(params)}}]}) \
        == name
    assert not schema.auto_id and not schema.enable_dynamic_field
    (fn,) = schema.functions
    assert fn.type == FunctionType.BM25
    assert fn.input_field_names == [S.EMBED_TEXT] and fn.output_field_names == [S.SPARSE]


def test_build_schema_accepts_client_instance_or_class() -> None:
    class FakeClient:
        create_schema = staticmethod(MilvusClient.create_schema)
    assert [f.name for f in S.build_schema(FakeClient(), 4).fields] == list(_fields(4))
    with pytest.raises(ValueError):
        S.build_schema(MilvusClient, 1)


@pytest.mark.parametrize(("setting", "lite", "expected"), [
    ("auto", True, "FLAT"), ("auto", False, "HNSW"), ("HNSW", True, "FLAT"), ("HNSW", False, "HNSW"),
    ("FLAT", False, "FLAT"), ("IVF_FLAT", True, "IVF_FLAT"), ("ivf_flat", False, "IVF_FLAT")])
def test_resolve_dense_index(setting: str, lite: bool, expected: str) -> None:
    assert S.resolve_dense_index(setting, lite=lite) == expected


def test_resolve_dense_index_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="DISKANN"):
        S.resolve_dense_index("DISKANN", lite=False)


def _by_name(params) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {p.index_name: p.to_dict() for p in params}


def test_server_index_params_hnsw_and_scalar_indexes() -> None:
    idx = _by_name(S.index_params("HNSW", lite=False))
    dense = idx[S.DENSE]
    assert dense["index_type"] == "HNSW" and dense["metric_type"] == S.DENSE_METRIC
    assert dense["M"] == 16 and dense["efConstruction"] == 200
    sparse = idx[S.SPARSE]
    assert sparse["index_type"] == "SPARSE_INVERTED_INDEX" and sparse["metric_type"] == "BM25"
    for field in (S.TENANT, S.CATEGORY, S.IN_STOCK, S.DELETED, S.PRICE, S.CATEGORY_LEVELS):
        assert idx[field]["index_type"] == "INVERTED"


def test_lite_index_params_flat_and_no_array_index() -> None:
    idx = _by_name(S.index_params("FLAT", lite=True))
    assert idx[S.DENSE]["index_type"] == "FLAT" and "M" not in idx[S.DENSE]
    assert S.CATEGORY_LEVELS not in idx          # Lite 2.5.1 rejects scalar indexes on ARRAY fields
    assert S.TENANT in idx and S.DELETED in idx


def test_index_params_only() -> None:
    assert list(_by_name(S.index_params("FLAT", lite=True, only={S.DENSE, S.SPARSE}))) == [S.DENSE, S.SPARSE]


def test_search_params_match_index() -> None:
    assert S.search_params("HNSW", ef=100) == {"metric_type": S.DENSE_METRIC, "params": {"ef": 100}}
    assert S.search_params("FLAT") == {"metric_type": S.DENSE_METRIC, "params": {}}
    assert S.sparse_search_params()["metric_type"] == "BM25"


def test_dense_dim_from_description() -> None:
    desc = {"fields": [{"name": S.SKU, "params": {}}, {"name": S.DENSE, "params": {"dim": "384"}}]}
    assert S.dense_dim(desc) == 384
    assert S.dense_dim({"fields": []}) is None
    assert S.field_names(desc) == {S.SKU, S.DENSE}


def test_default_analyzer_is_english_and_unknown_names_are_refused() -> None:
    embed = next(f for f in S.build_schema(MilvusClient, 8).fields if f.name == S.EMBED_TEXT)
    params = embed.params["analyzer_params"]
    assert (json.loads(params) if isinstance(params, str) else params)["tokenizer"] == "standard"
    with pytest.raises(ValueError, match="unknown BM25 analyzer 'klingon'; expected one of english, multilingual"):
        S.build_schema(MilvusClient, 8, "klingon")


def test_text_index_signature_changes_with_the_analyzer() -> None:
    assert S.text_index_signature("english") != S.text_index_signature("multilingual")
    assert S.text_index_signature() == S.text_index_signature("english")
    assert S.text_analyzer({"fields": []}) is None
