"""``MemoryStore``: a ``VectorStore`` + ``SearchStore`` + ``CatalogStore`` in memory, for pure unit tests.

Same semantics as the Milvus adapter (``tests/contract/test_store_contract.py`` holds both to the same assertions):
exact cosine for dense search, a plain BM25 (lowercase ``\\w+`` tokens, no stemming or stop words, k1 0.9, b 0.4 like
the collection's) over ``embed_text`` for the sparse side, filters evaluated in Python on the normalised category
levels. Several stores on one ``MemoryCluster`` see each other's collections and aliases (a reindex's live and new
store). Fault injection: ``transient_failures`` fails the next N upserts with a retriable ``StoreError``.

Not a search engine: every call is a scan. Fine for the few hundred rows of a unit test.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from catalog_search.core import limits
from catalog_search.core.errors import StoreError
from catalog_search.core.filters import SearchFilters
from catalog_search.core.product import Product, category_levels
from catalog_search.core.store import Ranked, Retrieved, StoreCounts, StoredHit
from catalog_search.core.utf8 import utf8_prefix

BM25_K1, BM25_B = 0.9, 0.4
MAX_LIMIT = 16_384
_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass
class _Row:
    product: Product
    text: str
    levels: list[str]


@dataclass
class _Collection:
    dim: int | None
    rows: dict[str, _Row] = field(default_factory=dict)


@dataclass
class MemoryCluster:
    """What one Milvus server holds: collections by name and aliases (alias -> collection)."""

    collections: dict[str, _Collection] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


def matches(row: _Row, f: SearchFilters) -> bool:
    """``core.filters`` semantics, in Python."""
    p = row.product
    if p.deleted:
        return False
    if f.tenant is not None and p.tenant != f.tenant:
        return False
    if f.locale is not None and p.locale != f.locale:
        return False
    if f.brands and p.brand not in f.brands:
        return False
    if f.categories and not any(_category_ok(row.levels, c.path, c.prefix) for c in f.categories):
        return False
    if f.price_min is not None and not p.price >= f.price_min:
        return False
    if f.price_max is not None and not p.price <= f.price_max:
        return False
    return not (f.in_stock_only and not p.in_stock)


def _category_ok(levels: list[str], path: str, prefix: bool) -> bool:
    wanted = category_levels(path)
    return bool(wanted) and wanted[-1] in levels and (prefix or len(levels) == len(wanted))


class MemoryStore:
    """One collection (``collection``) plus the alias searchers read (``alias``) on a ``MemoryCluster``.

    ``dim=None`` accepts vectors of any size (pipeline unit tests that never search). Like Milvus, the collection
    exists only after ``ensure_collection``.
    """

    max_limit = MAX_LIMIT

    def __init__(self, *, collection: str = "memory", alias: str = "memory_alias", dim: int | None = None,
                 cluster: MemoryCluster | None = None, timeout_s: float = 10.0,
                 transient_failures: int = 0, approximate: bool = False) -> None:
        self.collection, self.alias, self.dim, self.timeout_s = collection, alias, dim, timeout_s
        self.cluster = cluster or MemoryCluster()
        self.transient_failures = transient_failures
        self.approximate = approximate
        self.upserts = 0

    # -- VectorStore ----------------------------------------------------------------------------------------------
    @property
    def rows(self) -> dict[str, Product]:
        """The stored products of our collection by sku, tombstones included (for assertions)."""
        return {sku: r.product for sku, r in self._get(self.collection).rows.items()}

    def ensure_collection(self) -> None:
        existing = self.cluster.collections.setdefault(self.collection, _Collection(self.dim))
        if self.dim is not None and existing.dim not in (None, self.dim):
            raise StoreError(f"collection {self.collection!r} has dense dim {existing.dim}, not {self.dim}",
                             retriable=False)
        self.cluster.aliases.setdefault(self.alias, self.collection)

    def fetch(self, skus: Sequence[str]) -> dict[str, Product]:
        rows = self._get(self.collection).rows
        return {s: rows[s].product for s in dict.fromkeys(skus) if s in rows}

    def upsert(self, products: Sequence[Product]) -> None:
        if self.transient_failures:
            self.transient_failures -= 1
            raise StoreError("memory store unavailable (injected)", retriable=True)
        coll = self._get(self.collection)
        rows = {p.sku: self._row(p, coll.dim) for p in products}      # validate all before writing any
        coll.rows.update(rows)
        self.upserts += 1

    def _row(self, p: Product, dim: int | None) -> _Row:
        if p.vector is None:
            if not p.deleted:
                raise StoreError(f"sku {p.sku!r}: live product without a vector cannot be stored", retriable=False)
            vector = None if dim is None else np.zeros(dim, dtype=np.float32)
        else:
            vector = np.asarray(p.vector, dtype=np.float32).reshape(-1).copy()
            if dim is not None and vector.shape[0] != dim:
                raise StoreError(f"sku {p.sku!r}: vector has {vector.shape[0]} dims, collection "
                                 f"{self.collection!r} has {dim}", retriable=False)
        text = utf8_prefix(p.embedded_text, limits.EMBED_TEXT_MAX_BYTES)     # as given, like the Milvus store
        return _Row(replace(p, vector=vector), text, p.category_levels[: limits.CATEGORY_MAX_LEVELS])

    def counts(self) -> StoreCounts:
        rows = self._get(self.collection).rows.values()
        live = sum(not r.product.deleted for r in rows)
        return StoreCounts(live, len(rows) - live)

    def close(self) -> None:
        pass

    # -- SearchStore ----------------------------------------------------------------------------------------------
    def resolve_alias(self, alias: str | None = None, *, timeout: float | None = None) -> str:
        target = self.alias_target(alias)
        if target is None:
            raise StoreError(f"alias {alias or self.alias!r} does not exist yet", retriable=False)
        return target

    def count_matching(self, collection: str, filters: SearchFilters, *, timeout: float) -> int:
        return len(self._matching(collection, filters))

    def dense_search(self, collection: str, filters: SearchFilters, vector: np.ndarray, *, limit: int,
                     timeout: float) -> Ranked:
        rows = self._matching(collection, filters)
        q = np.asarray(vector, dtype=np.float64).reshape(-1)
        scored = []
        for r in rows:
            v = np.asarray(r.product.vector, dtype=np.float64)
            norm = float(np.linalg.norm(v) * np.linalg.norm(q))
            scored.append((r.product.sku, float(v @ q / norm) if norm else 0.0))
        return sorted(scored, key=lambda s: (-s[1], s[0]))[: min(limit, MAX_LIMIT)]

    def bm25_search(self, collection: str, filters: SearchFilters, text: str, *, limit: int,
                    timeout: float) -> Ranked:
        every = list(self._get(collection).rows.values())       # corpus statistics over every row, like Milvus
        docs = {r.product.sku: Counter(tokens(r.text)) for r in every}
        avg = sum(sum(d.values()) for d in docs.values()) / max(len(docs), 1)
        query = set(tokens(text))
        df = {t: sum(t in d for d in docs.values()) for t in query}
        scored = []
        for r in self._matching(collection, filters):
            d, length = docs[r.product.sku], sum(docs[r.product.sku].values())
            score = 0.0
            for t in query:
                if d[t]:
                    idf = math.log(1 + (len(docs) - df[t] + 0.5) / (df[t] + 0.5))
                    score += idf * d[t] * (BM25_K1 + 1) / (d[t] + BM25_K1 * (1 - BM25_B + BM25_B * length / avg))
            if score > 0:
                scored.append((r.product.sku, score))
        return sorted(scored, key=lambda s: (-s[1], s[0]))[: min(limit, MAX_LIMIT)]

    def dense_is_exact(self, collection: str) -> bool:
        """Dense search here is exact cosine; ``approximate=True`` makes it claim otherwise (the exact-scan path)."""
        self._get(collection)
        return not self.approximate

    def exact_scan(self, collection: str, filters: SearchFilters, *, limit: int,
                   timeout: float) -> tuple[list[str], np.ndarray]:
        rows = self._matching(collection, filters)[: min(limit, MAX_LIMIT)]
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray([r.product.vector for r in rows], dtype=np.float32).reshape(len(rows), -1)
        return [r.product.sku for r in rows], vectors

    def retrieve(self, collection: str, filters: SearchFilters, *, vector: np.ndarray | None, text: str | None,
                 limit: int, with_text: bool, timeout: float) -> Retrieved:
        dense = [] if vector is None else self.dense_search(collection, filters, vector, limit=limit, timeout=timeout)
        sparse = [] if text is None else self.bm25_search(collection, filters, text, limit=limit, timeout=timeout)
        hits = self.hydrate(collection, filters, list(dict.fromkeys(s for s, _ in dense + sparse)), timeout=timeout)
        if not with_text:
            hits = {sku: replace(h, embed_text=None) for sku, h in hits.items()}
        return Retrieved(dense=dense, bm25=sparse, hits=hits, timings_ms={})

    def hydrate(self, collection: str, filters: SearchFilters, skus: Sequence[str], *,
                timeout: float) -> dict[str, StoredHit]:
        rows = self._get(collection).rows
        out = {}
        for sku in skus:
            r = rows.get(sku)
            if r is not None and matches(r, filters):
                p = r.product
                out[sku] = StoredHit(sku=sku, title=p.title, brand=p.brand, category=p.category, price=float(p.price),
                                     currency=p.currency, in_stock=bool(p.in_stock), embed_text=r.text,
                                     group_id=p.group, locale=p.locale, version=p.version,
                                     updated_at_ms=p.updated_at_ms)
        return out

    # -- CatalogStore ---------------------------------------------------------------------------------------------
    def alias_target(self, alias: str | None = None) -> str | None:
        return self.cluster.aliases.get(alias or self.alias)

    def set_alias(self, alias: str, collection: str) -> None:
        if collection not in self.cluster.collections:
            raise StoreError(f"cannot point alias {alias!r} at missing collection {collection!r}", retriable=False)
        self.cluster.aliases[alias] = collection

    def drop_alias(self, alias: str | None = None) -> None:
        self.cluster.aliases.pop(alias or self.alias, None)

    def drop_collection(self, name: str | None = None) -> None:
        self.cluster.collections.pop(name or self.collection, None)

    def collection_exists(self, name: str) -> bool:
        return name in self.cluster.collections

    def collection_dim(self, name: str) -> int | None:
        return self._get(name).dim

    def iter_texts(self, collection: str, *, page_rows: int = 2000) -> Iterator[list[str]]:
        """Title and brand of every live row (``retrieve.spelling.CatalogTexts``), like ``MilvusStore``."""
        live = [r.product for r in self._get(collection).rows.values() if not r.product.deleted]
        texts = [t for p in live for t in (p.title, p.brand) if t]
        for start in range(0, len(texts), page_rows):
            yield texts[start:start + page_rows]

    def iter_rows(self, name: str, *, page_rows: int = 1000) -> Iterator[list[Product]]:
        products = [r.product for r in self._get(name).rows.values()]
        for start in range(0, len(products), page_rows):
            yield products[start:start + page_rows]

    # -- helpers --------------------------------------------------------------------------------------------------
    def _get(self, name: str) -> _Collection:
        try:
            return self.cluster.collections[name]
        except KeyError:
            raise StoreError(f"collection {name!r} does not exist", retriable=False) from None

    def _matching(self, collection: str, filters: SearchFilters) -> list[_Row]:
        return sorted((r for r in self._get(collection).rows.values() if matches(r, filters)),
                      key=lambda r: r.product.sku)
