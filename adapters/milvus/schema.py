"""The one specification of the catalog collection: fields, BM25 function and indexes.

Everything that creates or searches the collection takes field names, the analyzer and the metric from here, so a
reindex builds exactly what ingest writes and retrieval reads.

Milvus Lite 2.5.1 (the embedded engine) differs from a Milvus server in what it accepts:

* dense indexes: only FLAT, IVF_FLAT and AUTOINDEX ("local mode only support FLAT IVF_FLAT AUTOINDEX"), no HNSW;
* scalar indexes: INVERTED (and Trie) on VARCHAR/BOOL/INT/DOUBLE only; STL_SORT and BITMAP are unknown and an index on
  an ARRAY field is rejected, so ``category_levels`` stays unindexed there (``array_contains`` still works);
* aliases are UNIMPLEMENTED (see ``catalog.store.milvus`` for the registry fallback);
* a partition key is accepted at creation (and shown by ``describe_collection``), but then every filtered query and
  search of the collection fails with "Invalid expr: …: invalid parameter" (milvus-io/milvus#43163), so a
  collection on Lite never gets one: ``tenant`` stays a plain INVERTED-indexed field there.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pymilvus import DataType, Function, FunctionType, MilvusClient

from catalog_search.core import limits
from catalog_search.adapters.milvus.analyzers import DEFAULT_ANALYZER, analyzer_name, analyzer_params

# -- field names (use these constants, not string literals, in filters and output_fields) --------------------------
SKU = "sku"
TENANT = "tenant"
LOCALE = "locale"
TITLE = "title"
DESCRIPTION = "description"
EMBED_TEXT = "embed_text"
BRAND = "brand"
CATEGORY = "category"
CATEGORY_LEVELS = "category_levels"
PRICE = "price"
CURRENCY = "currency"
IN_STOCK = "in_stock"
ATTRIBUTES = "attributes"
VERSION = "version"
DELETED = "deleted"
TEXT_HASH = "text_hash"
UPDATED_AT_MS = "updated_at_ms"
GROUP_ID = "group_id"
DENSE = "dense"
SPARSE = "sparse"
BM25_FUNCTION = "embed_text_bm25"

# Scalar fields returned by ``fetch`` (everything but the two vectors and the derived ``category_levels``), plus the
# dense vector. ``embed_text`` comes back too: a row copied as it is (reindex) keeps the text its vector was made of.
PRODUCT_FIELDS: tuple[str, ...] = (SKU, TENANT, LOCALE, TITLE, DESCRIPTION, EMBED_TEXT, BRAND, CATEGORY, PRICE,
                                   CURRENCY, IN_STOCK, ATTRIBUTES, VERSION, DELETED, TEXT_HASH, UPDATED_AT_MS,
                                   GROUP_ID)
# Fields added after the first collections were built: a collection created before them lacks them and is still
# read and written (without them) until a reindex builds a current one (``catalog-search reindex``).
LATER_FIELDS: tuple[str, ...] = (GROUP_ID,)

# Dense similarity. COSINE keeps scores in [-1, 1] whatever the embedding server's normalisation; for the unit
# vectors that Qwen3 / e5 return it ranks exactly like IP.
DENSE_METRIC = "COSINE"
SPARSE_METRIC = "BM25"
HNSW_PARAMS: dict[str, Any] = {"M": 16, "efConstruction": 200}
IVF_FLAT_PARAMS: dict[str, Any] = {"nlist": 128}
# Tuned on the Home Depot dev split (docs/relevance.md): short product titles want less length normalisation (b) and
# earlier term-frequency saturation (k1) than the 1.2 / 0.75 text-search defaults.
BM25_PARAMS: dict[str, Any] = {"bm25_k1": 0.9, "bm25_b": 0.4}


def text_index_signature(analyzer: str = DEFAULT_ANALYZER) -> str:
    """A short hash of everything that decides BM25 terms and scores (analyzer, k1, b): collections built with
    another signature rank differently, so an evaluation collection is never reused across one."""
    blob = json.dumps([analyzer_params(analyzer), BM25_PARAMS], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:8]


DenseIndex = Literal["HNSW", "FLAT", "IVF_FLAT"]

# Scalar fields that filters use; INVERTED is accepted by both Lite and a server for these types.
SCALAR_INDEX_FIELDS: tuple[str, ...] = (TENANT, LOCALE, BRAND, CATEGORY, CURRENCY, IN_STOCK, DELETED, PRICE,
                                        UPDATED_AT_MS)
# Indexed only on a server (Lite rejects scalar indexes on ARRAY fields).
SERVER_ONLY_SCALAR_INDEX_FIELDS: tuple[str, ...] = (CATEGORY_LEVELS,)


def resolve_dense_index(setting: str, *, lite: bool) -> DenseIndex:
    """``settings.milvus.index`` -> the dense index to build: auto = HNSW on a server, FLAT on Milvus Lite.

    An explicit HNSW on Lite is downgraded to FLAT (Lite has no HNSW) rather than failing at collection creation.
    """
    kind = setting.upper()
    if kind == "AUTO":
        return "FLAT" if lite else "HNSW"
    if kind not in ("HNSW", "FLAT", "IVF_FLAT"):
        raise ValueError(f"unknown dense index {setting!r}; expected auto, HNSW, FLAT or IVF_FLAT")
    if kind == "HNSW" and lite:
        return "FLAT"
    return kind  # type: ignore[return-value]


def build_schema(client: MilvusClient | type[MilvusClient] = MilvusClient, dim: int = 384,
                 analyzer: str = DEFAULT_ANALYZER, *, tenant_partition_key: bool = False):
    """The collection schema (``CollectionSchema``) for ``dim``-sized dense vectors, with the BM25 function whose
    terms come from the named ``analyzer`` (``catalog.store.analyzers``). ``tenant_partition_key``: ``tenant`` is
    the partition key (Milvus hashes tenants into the collection's partitions; a ``tenant ==`` filter then reads
    only the tenant's partition — the filter itself still decides what matches).

    ``client`` may be a ``MilvusClient`` instance or the class itself (``create_schema`` needs no connection).
    """
    if dim < 2:
        raise ValueError(f"dense dim must be >= 2, got {dim}")
    text_analyzer = analyzer_params(analyzer)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False,
                                  description="catalog products: latest state or tombstone per sku")
    schema.add_field(SKU, DataType.VARCHAR, max_length=limits.SKU_MAX_BYTES, is_primary=True)
    schema.add_field(TENANT, DataType.VARCHAR, max_length=limits.TENANT_MAX_BYTES,
                     is_partition_key=tenant_partition_key)
    schema.add_field(LOCALE, DataType.VARCHAR, max_length=limits.LOCALE_MAX_BYTES)
    schema.add_field(TITLE, DataType.VARCHAR, max_length=limits.TITLE_MAX_BYTES)
    schema.add_field(DESCRIPTION, DataType.VARCHAR, max_length=limits.DESCRIPTION_MAX_BYTES)
    schema.add_field(EMBED_TEXT, DataType.VARCHAR, max_length=limits.EMBED_TEXT_MAX_BYTES, enable_analyzer=True,
                     analyzer_params=text_analyzer)
    schema.add_field(BRAND, DataType.VARCHAR, max_length=limits.BRAND_MAX_BYTES)
    schema.add_field(CATEGORY, DataType.VARCHAR, max_length=limits.CATEGORY_MAX_BYTES)
    schema.add_field(CATEGORY_LEVELS, DataType.ARRAY, element_type=DataType.VARCHAR,
                     max_capacity=limits.CATEGORY_MAX_LEVELS, max_length=limits.CATEGORY_MAX_BYTES)
    schema.add_field(PRICE, DataType.DOUBLE)
    schema.add_field(CURRENCY, DataType.VARCHAR, max_length=limits.CURRENCY_MAX_BYTES)
    schema.add_field(IN_STOCK, DataType.BOOL)
    schema.add_field(ATTRIBUTES, DataType.JSON)
    schema.add_field(VERSION, DataType.INT64)
    schema.add_field(DELETED, DataType.BOOL)
    schema.add_field(TEXT_HASH, DataType.VARCHAR, max_length=limits.TEXT_HASH_BYTES)
    schema.add_field(UPDATED_AT_MS, DataType.INT64)
    schema.add_field(GROUP_ID, DataType.VARCHAR, max_length=limits.GROUP_ID_MAX_BYTES)   # variant group (= sku)
    schema.add_field(DENSE, DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field(SPARSE, DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name=BM25_FUNCTION, function_type=FunctionType.BM25,
                                 input_field_names=[EMBED_TEXT], output_field_names=[SPARSE]))
    return schema


def dense_index_spec(kind: DenseIndex) -> dict[str, Any]:
    """``add_index`` keyword arguments of the dense index."""
    params = {"HNSW": HNSW_PARAMS, "IVF_FLAT": IVF_FLAT_PARAMS, "FLAT": {}}[kind]
    return {"field_name": DENSE, "index_name": DENSE, "index_type": kind, "metric_type": DENSE_METRIC,
            "params": dict(params)}


def sparse_index_spec() -> dict[str, Any]:
    return {"field_name": SPARSE, "index_name": SPARSE, "index_type": "SPARSE_INVERTED_INDEX",
            "metric_type": SPARSE_METRIC, "params": {"inverted_index_algo": "DAAT_MAXSCORE", **BM25_PARAMS}}


def scalar_index_fields(*, lite: bool) -> tuple[str, ...]:
    return SCALAR_INDEX_FIELDS if lite else SCALAR_INDEX_FIELDS + SERVER_ONLY_SCALAR_INDEX_FIELDS


def index_specs(kind: DenseIndex, *, lite: bool) -> list[dict[str, Any]]:
    """Every index of the collection as ``add_index`` keyword arguments (dense, sparse, then scalar INVERTED)."""
    specs = [dense_index_spec(kind), sparse_index_spec()]
    specs += [{"field_name": f, "index_name": f, "index_type": "INVERTED"} for f in scalar_index_fields(lite=lite)]
    return specs


def index_params(kind: DenseIndex, *, lite: bool, client: MilvusClient | type[MilvusClient] = MilvusClient,
                 only: set[str] | None = None):
    """``IndexParams`` for ``create_collection`` / ``create_index``; ``only`` restricts to these index names."""
    params = client.prepare_index_params()
    for spec in index_specs(kind, lite=lite):
        if only is None or spec["index_name"] in only:
            params.add_index(**spec)
    return params


def search_params(kind: DenseIndex, *, ef: int = 64, nprobe: int = 16) -> dict[str, Any]:
    """Dense ``search_params`` matching the index (for retrieval)."""
    params: dict[str, Any] = {"HNSW": {"ef": ef}, "IVF_FLAT": {"nprobe": nprobe}, "FLAT": {}}[kind]
    return {"metric_type": DENSE_METRIC, "params": params}


def sparse_search_params() -> dict[str, Any]:
    return {"metric_type": SPARSE_METRIC, "params": {}}


def dense_dim(description: dict[str, Any]) -> int | None:
    """The dense dim from a ``describe_collection`` result (None if there is no ``dense`` field)."""
    for f in description.get("fields", []):
        if f.get("name") == DENSE:
            return int(f.get("params", {}).get("dim"))
    return None


def text_analyzer(description: dict[str, Any]) -> str | None:
    """The analyzer name of ``embed_text`` in a ``describe_collection`` result (None if not one of ours)."""
    for f in description.get("fields", []):
        if f.get("name") == EMBED_TEXT:
            params = f.get("params", {}).get("analyzer_params")
            try:
                return analyzer_name(json.loads(params) if isinstance(params, str) else params)
            except ValueError:
                return None
    return None


def partition_key(description: dict[str, Any]) -> str | None:
    """The partition-key field of a ``describe_collection`` result (None: the collection has none)."""
    for f in description.get("fields", []):
        if f.get("is_partition_key"):
            return str(f.get("name"))
    return None


def field_names(description: dict[str, Any]) -> set[str]:
    return {f.get("name") for f in description.get("fields", [])}
