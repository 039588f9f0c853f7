"""``MilvusStore``: the ``VectorStore``, ``SearchStore`` and ``CatalogStore`` on a Milvus server or Milvus Lite
(in-process ``*.db`` or its TCP server).

The search methods turn the domain ``SearchFilters`` into an expression (``filters.build_filter``) and call
``search``; the whole-collection reads of a reindex are in ``scan``. Callers never see the pymilvus client.

Ingest writes the physical collection (``collection``); searchers read through ``alias``. On a Milvus server the alias
is a native Milvus alias; on Milvus Lite, which has no aliases, it is a row of the registry collection
(``catalog.store.aliases``). ``resolve_alias`` / ``set_alias`` hide the difference, so searchers call
``resolve_alias`` once per (re)load and a reindex calls ``set_alias`` to switch.

Every pymilvus / gRPC exception is mapped exactly once into ``StoreError`` (``retriable`` decided by
``adapters.milvus.errors``); the adapter never retries (pymilvus' own channel reconnects are bounded by
``timeout_s``). Rows are converted by ``adapters.milvus.rows``.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from catalog_search.core.errors import ConfigError, StoreError
from catalog_search.core.product import Product
from catalog_search.adapters.milvus import scan
from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus import search as X
from catalog_search.adapters.milvus.filters import build_filter
from catalog_search.adapters.milvus.aliases import ALIAS_REGISTRY, LiteAliasRegistry, NativeAliases
from catalog_search.core.filters import SearchFilters
from catalog_search.core.store import Ranked, Retrieved, StoreCounts, StoredHit
from catalog_search.adapters.milvus.analyzers import ANALYZERS, DEFAULT_ANALYZER, has_cjk
from catalog_search.adapters.milvus.collection import check_catalog_collection, create_if_missing, ensure_indexes
from catalog_search.adapters.milvus.errors import (NO_CLIENT_RETRY, is_lite_empty_result, is_unimplemented, map_error,
                                                   mapped, quiet_pymilvus_logging)
from catalog_search.adapters.milvus.rows import escape_string, in_filter, product_to_row, row_to_product

__all__ = ["ALIAS_REGISTRY", "FETCH_CHUNK", "MilvusStore", "escape_string", "in_filter", "is_lite_uri"]

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
FETCH_CHUNK = 512


def is_lite_uri(uri: str) -> bool:
    """True for an in-process Milvus Lite path (``./x.db``); a TCP Lite server is detected by probing."""
    return uri.endswith(".db") and "://" not in uri


class MilvusStore:
    """``VectorStore`` over one physical Milvus collection plus the alias searchers read (``SearchStore``), and the
    collection-level reads and alias moves of a reindex (``CatalogStore``)."""

    max_limit = X.QUERY_LIMIT_MAX

    def __init__(self, *, uri: str, collection: str, alias: str, dim: int, token: str = "",
                 index: str = "auto", timeout_s: float = 30.0, analyzer: str = DEFAULT_ANALYZER,
                 hnsw_ef: int = 128, tenant_partitions: int = 0) -> None:
        for label, name in (("collection", collection), ("alias", alias)):
            if not _NAME_RE.match(name):
                raise ConfigError(f"invalid Milvus {label} name {name!r}: letters, digits and _ only, not starting "
                                  "with a digit, at most 255 chars")
        if collection == alias:
            raise ConfigError(f"Milvus collection and alias must differ (both {collection!r})")
        if dim < 2:
            raise ConfigError(f"dense dim must be >= 2, got {dim}")
        if index.upper() not in ("AUTO", "HNSW", "FLAT", "IVF_FLAT"):
            raise ConfigError(f"unknown Milvus index {index!r}")
        if analyzer not in ANALYZERS:
            raise ConfigError(f"unknown BM25 analyzer {analyzer!r}; expected one of {', '.join(ANALYZERS)}")
        self.analyzer = analyzer
        self.tenant_partitions = tenant_partitions      # > 0: tenant is the partition key of new collections
        self._warned_cjk = False
        self.uri = uri
        self.token = token
        self.collection = collection
        self.alias = alias
        self.dim = dim
        self.index_setting = index
        self.hnsw_ef = hnsw_ef
        self._index_types: dict[str, str] = {}
        self._missing: dict[str, frozenset[str]] = {}
        self._warned_missing: set[str] = set()
        self.timeout_s = timeout_s
        self._client: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._lite: bool | None = True if is_lite_uri(uri) else None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> "MilvusStore":
        return cls(uri=settings.milvus.uri, token=settings.milvus.token.get_secret_value(),
                   collection=settings.milvus.collection,
                   alias=settings.milvus.alias, dim=settings.embed.vector_dim, index=settings.milvus.index,
                   timeout_s=settings.milvus.timeout_s,
                   analyzer=settings.milvus.bm25_analyzer, hnsw_ef=settings.milvus.hnsw_ef,
                   tenant_partitions=settings.milvus.tenant_partitions)

    # -- plumbing -----------------------------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """The connected ``MilvusClient`` (created on first use; connection errors raise ``StoreError``)."""
        with self._lock:
            if self._client is None:
                with mapped("connect"):
                    from pymilvus import MilvusClient
                    quiet_pymilvus_logging()
                    # A private connection alias: pymilvus shares one connection per uri+token by default and
                    # any other MilvusClient.close() on the same uri would tear ours down.
                    self._client = MilvusClient(uri=self.uri, token=self.token, timeout=self.timeout_s,
                                                alias=f"catalog-store-{uuid.uuid4().hex}")
            return self._client

    @property
    def is_lite(self) -> bool:
        """Milvus Lite (in-process or its TCP server): no HNSW, no aliases. Probed once via GetVersion."""
        if self._lite is None:
            client = self.client
            try:
                client.get_server_version(timeout=self.timeout_s)
                self._lite = False
            except Exception as exc:
                if is_unimplemented(exc):
                    self._lite = True
                else:
                    raise map_error(exc, "get_server_version") from exc
        return self._lite

    @property
    def dense_index(self) -> S.DenseIndex:
        return S.resolve_dense_index(self.index_setting, lite=self.is_lite)

    # -- collection lifecycle -----------------------------------------------------------------------------------
    def ensure_collection(self) -> None:
        """Create the collection + indexes if missing, check its dim, load it, point the alias at it if missing.

        Idempotent and safe to race with another process doing the same. An existing alias is never re-pointed.
        """
        lite = self.is_lite
        c = self.client
        dense, t = self.dense_index, self.timeout_s
        self._missing.pop(self.collection, None)
        partitions = 0 if lite else self.tenant_partitions      # Lite cannot filter a partition-key collection
        with mapped(f"ensure_collection {self.collection}"):
            create_if_missing(c, self.collection, dim=self.dim, dense_index=dense, analyzer=self.analyzer,
                              timeout_s=t, tenant_partitions=partitions)
            check_catalog_collection(c, self.collection, dim=self.dim, analyzer=self.analyzer, timeout_s=t,
                                     tenant_partitions=partitions)
            ensure_indexes(c, self.collection, dense_index=dense, lite=lite, timeout_s=t)
            c.load_collection(self.collection, timeout=t, **NO_CLIENT_RETRY)
        self._warn_missing(self.collection)
        if self.alias_target(self.alias) is None:
            self._create_alias_if_missing(self.alias, self.collection)

    def drop_collection(self, name: str | None = None) -> None:
        """Drop a physical collection (default: ours). Used by tests and by reindex clean-up."""
        c = self.client
        self._missing.pop(name or self.collection, None)
        with mapped("drop_collection"):
            c.drop_collection(name or self.collection, timeout=self.timeout_s, **NO_CLIENT_RETRY)

    def missing_fields(self, name: str) -> frozenset[str]:
        """Fields of the current schema that collection ``name`` predates (``schema.LATER_FIELDS``, e.g.
        ``group_id``): reads leave them out and writes drop them until a reindex builds a current collection.
        Described once per collection (``ensure_collection`` and ``drop_collection`` forget it)."""
        cached = self._missing.get(name)
        if cached is None:
            with mapped(f"describe {name}"):
                present = S.field_names(self.client.describe_collection(name, timeout=self.timeout_s,
                                                                       **NO_CLIENT_RETRY))
            cached = self._missing[name] = frozenset(f for f in S.LATER_FIELDS if f not in present)
        return cached

    def _warn_missing(self, name: str) -> None:
        missing = self.missing_fields(name)
        if missing and name not in self._warned_missing:
            self._warned_missing.add(name)
            log.warning("collection %s predates the field(s) %s: it is read and written without them (variant "
                        "groups are then single products); build a current one with `catalog-search reindex "
                        "--to NEW --from-file EVENTS.jsonl` (events carrying group_id), or reindex and re-send "
                        "the grouped products' upserts at a higher version", name,
                        ", ".join(sorted(missing)))

    # -- alias --------------------------------------------------------------------------------------------------
    def _aliases(self, client: Any) -> NativeAliases | LiteAliasRegistry:
        return LiteAliasRegistry(client, self.timeout_s) if self.is_lite else NativeAliases(client, self.timeout_s)

    def alias_target(self, alias: str | None = None, *, timeout: float | None = None) -> str | None:
        """The collection ``alias`` points at, or None if the alias does not exist; ``timeout`` (default the
        store's) bounds the lookup (a search passes the time left of its deadline)."""
        alias = alias or self.alias
        t = self.timeout_s if timeout is None else timeout
        c = self.client
        if not self.is_lite:
            return NativeAliases(c, t).target(alias)     # maps its own errors
        with mapped(f"resolve alias {alias}"):
            return LiteAliasRegistry(c, t).target(alias)

    def resolve_alias(self, alias: str | None = None, *, timeout: float | None = None) -> str:
        """The collection searchers must read for ``alias`` (default: ours); a missing alias is a StoreError."""
        alias = alias or self.alias
        target = self.alias_target(alias, timeout=timeout)
        if target is None:
            raise StoreError(f"alias {alias!r} does not exist yet (run the ingest worker or "
                             "`ensure_collection` first)", retriable=False)
        return target

    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` (create or switch; one atomic operation in both modes)."""
        if not _NAME_RE.match(alias):
            raise ConfigError(f"invalid alias name {alias!r}")
        c = self.client
        with mapped(f"set_alias {alias} -> {collection}"):
            if not c.has_collection(collection, timeout=self.timeout_s, **NO_CLIENT_RETRY):
                raise StoreError(f"cannot point alias {alias!r} at missing collection {collection!r}",
                                 retriable=False)
            self._aliases(c).set(alias, collection)
        log.info("alias %s -> %s", alias, collection)

    def drop_alias(self, alias: str | None = None) -> None:
        alias = alias or self.alias
        c = self.client
        with mapped(f"drop_alias {alias}"):
            self._aliases(c).delete(alias)

    def _create_alias_if_missing(self, alias: str, collection: str) -> None:
        c = self.client
        with mapped(f"create alias {alias}"):
            self._aliases(c).set_if_missing(alias, collection)

    # -- rows ---------------------------------------------------------------------------------------------------
    def fetch(self, skus: Sequence[str]) -> dict[str, Product]:
        unique = list(dict.fromkeys(skus))
        out: dict[str, Product] = {}
        c = self.client
        missing = self.missing_fields(self.collection)
        fields = [*(f for f in S.PRODUCT_FIELDS if f not in missing), S.DENSE]
        for start in range(0, len(unique), FETCH_CHUNK):
            chunk = unique[start:start + FETCH_CHUNK]
            with mapped(f"fetch from {self.collection}"):
                try:
                    rows = c.query(self.collection, filter=in_filter(S.SKU, chunk), output_fields=fields,
                                   limit=len(chunk), consistency_level="Strong", timeout=self.timeout_s,
                                   **NO_CLIENT_RETRY)
                except Exception as exc:
                    if not (self.is_lite and is_lite_empty_result(exc)):
                        raise
                    rows = []
            for row in rows:
                product = row_to_product(row)
                out[product.sku] = product
        return out

    def upsert(self, products: Sequence[Product]) -> None:
        if not products:
            return
        latest: dict[str, Product] = {}
        for p in products:                       # one row per sku per request: the last one wins
            latest[p.sku] = p
        rows = [product_to_row(p, dim=self.dim, collection=self.collection) for p in latest.values()]
        missing = self.missing_fields(self.collection)
        if missing:                              # an older collection: written without the fields it lacks
            self._warn_missing(self.collection)
            rows = [{k: v for k, v in row.items() if k not in missing} for row in rows]
        self._warn_unsegmented(rows)
        c = self.client
        if self.is_lite:
            quoted = [sku for sku in latest if "'" in sku]
            if quoted:
                # Milvus Lite 2.5.1 fails upsert/delete of primary keys containing ' with "internal error" (code 5)
                # every time (insert works but would duplicate rows), so refuse up front instead of retrying.
                raise StoreError(f"Milvus Lite cannot upsert skus containing a single quote: {quoted[:5]!r}; use a "
                                 "Milvus server for such catalogs", retriable=False)
        with mapped(f"upsert into {self.collection}"):
            c.upsert(self.collection, rows, timeout=self.timeout_s, **NO_CLIENT_RETRY)

    def _warn_unsegmented(self, rows: Sequence[dict[str, Any]]) -> None:
        """Once per store: CJK text written with the ``english`` BM25 analyzer gets no word segmentation."""
        if self.analyzer != "english" or self._warned_cjk:
            return
        sample = next((r[S.SKU] for r in rows if has_cjk(r[S.EMBED_TEXT])), None)
        if sample is not None:
            self._warned_cjk = True
            log.warning("product %s has Chinese/Japanese/Korean text but the BM25 analyzer is english, which does not "
                        "segment it (dense search still finds it); for such catalogs set CATALOG_BM25_ANALYZER="
                        "multilingual and reindex (catalog-search reindex --bm25-analyzer multilingual)", sample)

    def counts(self) -> StoreCounts:
        c = self.client
        with mapped(f"count {self.collection}"):
            live, dead = (int(c.query(self.collection, filter=f"{S.DELETED} == {deleted}",
                                      output_fields=["count(*)"], consistency_level="Strong", timeout=self.timeout_s,
                                      **NO_CLIENT_RETRY)[0]["count(*)"])
                          for deleted in ("false", "true"))
        return StoreCounts(live=live, tombstoned=dead)

    # -- search (SearchStore) -----------------------------------------------------------------------------------
    def count_matching(self, collection: str, filters: SearchFilters, *, timeout: float) -> int:
        return X.count_matching(self.client, collection, build_filter(filters)[0], timeout)

    def dense_search(self, collection: str, filters: SearchFilters, vector: np.ndarray, *, limit: int,
                     timeout: float) -> Ranked:
        return X.ann_dense(self.client, collection, build_filter(filters)[0], vector, limit=limit, timeout=timeout,
                           params=self._dense_params(collection, limit))[0]

    def bm25_search(self, collection: str, filters: SearchFilters, text: str, *, limit: int,
                    timeout: float) -> Ranked:
        return X.bm25(self.client, collection, build_filter(filters)[0], text, limit=limit, timeout=timeout)[0]

    def retrieve(self, collection: str, filters: SearchFilters, *, vector: np.ndarray | None, text: str | None,
                 limit: int, with_text: bool, timeout: float) -> Retrieved:
        return X.retrieve(self.client, collection, build_filter(filters)[0], vector=vector, text=text, limit=limit,
                          with_text=with_text, timeout=timeout, pool=self._search_pool(),
                          params=self._dense_params(collection, limit), missing=self.missing_fields(collection))

    def _search_pool(self) -> ThreadPoolExecutor:
        """Runs a search's BM25 side while the calling thread runs its dense side: two round trips overlap (on a
        server, two network trips; on Milvus Lite bench/search.py measured it a little faster too)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="milvus-bm25")
            return self._pool

    def exact_scan(self, collection: str, filters: SearchFilters, *, limit: int,
                   timeout: float) -> tuple[list[str], np.ndarray]:
        return X.fetch_vectors(self.client, collection, build_filter(filters)[0], limit=limit, timeout=timeout)

    def dense_is_exact(self, collection: str) -> bool:
        """FLAT brute-forces every row that passes the filter (Milvus Lite's only dense index, and a server's when
        asked for); HNSW and IVF_FLAT approximate. Read from the collection's own index, cached per collection."""
        return self._index_type(collection) == "FLAT"

    def _index_type(self, collection: str) -> str:
        kind = self._index_types.get(collection)
        if kind is None:
            kind = self._index_types[collection] = X.dense_index_type(self.client, collection, self.timeout_s)
        return kind

    def _dense_params(self, collection: str, limit: int) -> dict[str, Any]:
        """The dense ``search_params`` of the collection's index: HNSW searches with ``ef`` = max(``hnsw_ef``,
        limit) (Milvus refuses ef < limit), IVF_FLAT with its nprobe, FLAT with none."""
        kind = self._index_type(collection)
        if kind in ("HNSW", "IVF_FLAT", "FLAT"):
            return S.search_params(kind, ef=max(self.hnsw_ef, min(limit, X.QUERY_LIMIT_MAX)))
        return {"metric_type": S.DENSE_METRIC}

    def hydrate(self, collection: str, filters: SearchFilters, skus: Sequence[str], *,
                timeout: float) -> dict[str, StoredHit]:
        return X.hydrate(self.client, collection, build_filter(filters)[0], skus, timeout=timeout,
                         missing=self.missing_fields(collection))

    # -- whole collections (CatalogStore) -----------------------------------------------------------------------
    def collection_exists(self, name: str) -> bool:
        return scan.collection_exists(self.client, name, self.timeout_s)

    def collection_dim(self, name: str) -> int | None:
        return scan.collection_dim(self.client, name, self.timeout_s)

    def partition_key(self, name: str | None = None) -> str | None:
        """The partition-key field of a collection (default: ours), None when it has none."""
        return scan.partition_key(self.client, name or self.collection, self.timeout_s)

    def iter_rows(self, name: str, *, page_rows: int = 1000) -> Iterator[list[Product]]:
        return scan.iter_rows(self.client, name, page_rows=page_rows, timeout=self.timeout_s, lite=self.is_lite,
                              missing=self.missing_fields(name))

    def iter_texts(self, collection: str, *, page_rows: int = 2000) -> Iterator[list[str]]:
        """Titles and brands of the live rows of ``collection`` (``retrieve.spelling.CatalogTexts``)."""
        return scan.iter_texts(self.client, collection, page_rows=page_rows, timeout=self.timeout_s,
                               lite=self.is_lite)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
        if client is not None:
            try:
                client.close()
            except Exception as exc:  # noqa: BLE001 - closing must not fail shutdown
                log.debug("closing milvus client: %s", exc)

    def __enter__(self) -> "MilvusStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
