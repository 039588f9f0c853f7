"""``Searcher``: validated request -> filter -> query embedding -> dense + BM25 (same filter) -> fusion -> rerank.

One search, in order (each stage timed in ``timings_ms``):

1. ``validate_request`` (``InvalidRequest`` names the field); the validated ``SearchFilters`` go to the store as they
   are (each ``SearchStore`` evaluates them; Milvus builds an expression of escaped literals only);
2. the collection behind the alias (cached ``alias_ttl_s``; a reindex that swaps the alias is seen within it);
3. ``count`` (only when the store's dense index is approximate, e.g. HNSW on a server): products matching the filter;
   0 answers at once; <= ``exact_threshold`` takes the exact path. A brute-force index (Milvus Lite's FLAT,
   ``store.dense_is_exact``) returns the exact best matches of any filter itself: no count, no exact scan;
4. ``embed``: the query embedding (LRU+TTL cache keyed by model, dim, instruction, template and query), within the
   caller's deadline: when BM25 runs too it gets at most the time left minus ``embed_reserve_s`` (kept for
   retrieval and the answer); when the embedding server fails with a retriable error (down, or slower than that
   budget) and BM25 runs too, the search answers from BM25 alone with ``degraded`` and the reason (a permanent
   refusal, or ``retrievers="dense"``, still fails);
5. ``dense`` + ``bm25``: one ``store.retrieve`` call runs the ANN search and the BM25 search with the same filter
   and returns both ranked lists (each hit's stage score) with every hit's display fields (``embed_text`` too when
   the request reranks): no separate fetch of what the search shows; the store times each retriever (on a server
   the two run concurrently). On the exact path ``store.exact_scan`` (every matching row with its vector) +
   ``exact_scan`` timing of the numpy cosine, then BM25 as deep as the matches;
6. ``fuse``: weighted min-max (the default, alpha 0.35 on the dense side) or RRF (k=60); the best ``candidates``
   go on (``retrievers="dense"``/``"bm25"`` runs that retriever alone and keeps its order: the evaluation's
   single-retriever baselines);
7. ``hydrate`` (exact path only): the fields of pool hits the exact scan returned without them (re-checked against
   the filter, so a product deleted meanwhile is dropped); ``rerank``: ``RerankStage.run`` on the ``embed_text``s
   (never raises: degrades);
8. the final ``top_k``; or, for a grouped, faceted, paged or sorted request (``req.shaped``), the answer cut from
   its result set by ``retrieve.results.shape``: the pool is then ``result_depth`` products deep (at least the
   request's ``candidates``, which alone are reranked), so that ``top_k`` groups fill even when groups have several
   variants; a facet whose own filter is set gets one more retrieval (steps 3-6) without that filter (``facets``
   timing).

Before 3, ``spell`` (with a ``Speller``, when the request or ``spell_default`` asks for it and BM25 runs): misspelled
terms are corrected against the catalog's vocabulary and the BM25 side searches the corrected text
(``retrieve.spelling``); the response says it in ``corrected_query``. Every response carries a fresh
``request_id``; with a ``QueryLog`` each answered search is handed to it (``retrieve.querylog``: a bounded queue,
published by a background thread, so the log never slows or fails a search).

The store is any ``core.store.SearchStore`` (Milvus in production, in memory in unit tests); its failures are
``StoreError`` (mapped once in the adapter); when the caller's deadline has passed before a store call the search
stops with a retriable ``StoreError``. Every store call (the alias lookup too) gets at most the time left less
``deadline_margin_s``: a hung Milvus is answered with UNAVAILABLE inside the caller's deadline, and no handler
thread stays stuck in it beyond that deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from catalog_search.core.embedding import Embedder
from catalog_search.core.errors import EmbeddingError, NoTimeLeftError, StoreError
from catalog_search.core.filters import SearchFilters
from catalog_search.core.settings import DEFAULT_QUERY_INSTRUCTION, QWEN3_QUERY_TEMPLATE
from catalog_search.core.cache import TTLCache
from catalog_search.core.store import Ranked, SearchStore, StoredHit
from catalog_search.retrieve.domain import Fusion, Hit, InvalidRequest, SearchRequest, SearchResponse, StageScores
from catalog_search.retrieve.exact import cosine_ranked
from catalog_search.retrieve.facets import without_own_filter
from catalog_search.retrieve.filters import validate_request
from catalog_search.retrieve.fusion import Candidate, rrf, weighted
from catalog_search.retrieve.paging import Cursor, PageTokens
from catalog_search.retrieve.querylog import QueryLog, new_request_id, now_ms, record_of
from catalog_search.retrieve.results import shape
from catalog_search.retrieve.tenancy import bound_tenant
from catalog_search.retrieve.spelling import Speller

log = logging.getLogger(__name__)


class _Clock:
    """Per-search stage timings (ms) and the caller's deadline."""

    def __init__(self, time_left_s: Callable[[], float] | None, cap_s: float,
                 degraded: list[str] | None = None, margin_s: float = 0.0) -> None:
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}
        self._time_left = time_left_s
        self._cap = cap_s
        self._margin = margin_s             # kept back at each store call, for the answer (UNAVAILABLE) in time
        self.degraded: list[str] = [] if degraded is None else degraded     # shared with child clocks

    def reason(self, *more: str) -> str:
        """Every degradation of this search (each once), joined."""
        return "; ".join(dict.fromkeys(r for r in (*self.degraded, *more) if r))

    def timeout(self, stage: str) -> float:
        if self._time_left is None:
            return self._cap
        left = self._time_left()
        if left is None:
            return self._cap
        if left <= 0:
            raise NoTimeLeftError(f"deadline exceeded before {stage}")
        if left <= self._margin:
            raise NoTimeLeftError(f"no time left for {stage} (deadline in {left * 1000:.0f} ms)")
        return min(self._cap, left - self._margin)

    def child(self) -> "_Clock":
        """A clock on the same deadline whose stage timings stay its own (a sub-search timed as one stage)."""
        return _Clock(self._time_left, self._cap, self.degraded, self._margin)

    def time_left(self) -> float | None:
        return None if self._time_left is None else self._time_left()

    def budget(self, reserve_s: float) -> float | None:
        """The time left minus ``reserve_s`` (None: no deadline); <= 0 when nothing is left for this stage."""
        left = self.time_left()
        return None if left is None else left - reserve_s

    def stage(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[name] = round((now - since) * 1000.0, 3)
        return now

    def done(self) -> dict[str, float]:
        self.timings["total"] = round((time.perf_counter() - self.started) * 1000.0, 3)
        return dict(self.timings)


class Searcher:
    """Hybrid search over the catalog collection behind ``store.alias`` (see the module docstring).

    ``fusion``/``alpha``: used when a request leaves them unset. ``candidates``: how deep each retriever (dense,
    BM25) searches on the ANN path (at least the request's ``candidates`` and ``top_k``). ``exact_threshold``:
    filters matching at most this many products are scored exactly (0 = never). ``cache``: query-embedding cache
    (None = off). ``embed_reserve_s``: kept back from the caller's deadline when the query embedding runs beside
    BM25 (the embedding gets at most the time left minus this). ``deadline_margin_s``: kept back from the caller's
    deadline at each store call, so that a hung store is answered (UNAVAILABLE) before the caller gives up.
    """

    def __init__(self, store: SearchStore, embedder: Embedder, rerank_stage: Any, *, candidates: int = 100,
                 fusion: Fusion = "weighted", alpha: float = 0.35,
                 exact_threshold: int = 2000, cache: TTLCache[np.ndarray] | None = None,
                 query_instruction: str = DEFAULT_QUERY_INSTRUCTION, query_template: str = QWEN3_QUERY_TEMPLATE,
                 alias_ttl_s: float = 5.0, result_depth: int = 200, page_tokens: PageTokens | None = None,
                 speller: Speller | None = None, spell_default: bool = False,
                 query_log: QueryLog | None = None, observer: Any = None, tenant: str = "",
                 embed_reserve_s: float = 0.25, deadline_margin_s: float = 0.05) -> None:
        if candidates < 1 or exact_threshold < 0 or result_depth < 1 or embed_reserve_s < 0 or deadline_margin_s < 0:
            raise ValueError("candidates and result_depth must be >= 1; exact_threshold, embed_reserve_s and "
                             "deadline_margin_s >= 0")
        if fusion not in ("rrf", "weighted") or not 0.0 <= alpha <= 1.0:
            raise ValueError("fusion must be rrf or weighted and alpha between 0 and 1")
        self.fusion: Fusion = fusion
        self.alpha = alpha
        self.store = store
        self.embedder = embedder
        self.rerank_stage = rerank_stage
        self.candidates = candidates
        self.exact_threshold = min(exact_threshold, store.max_limit)
        self.cache = cache
        self.query_instruction = query_instruction
        self.query_template = query_template
        self.alias_ttl_s = alias_ttl_s
        self.result_depth = min(result_depth, store.max_limit)
        self.page_tokens = page_tokens or PageTokens()
        self.speller = speller
        self.spell_default = spell_default
        self.query_log = query_log
        self.observer = observer            # ``searched(response)`` after every answered search (metrics)
        self.tenant = tenant                # a fixed tenant: every search is confined to it
        self.embed_reserve_s = embed_reserve_s
        self.deadline_margin_s = deadline_margin_s
        self._alias: tuple[str, float] | None = None
        self._lock = threading.Lock()

    # -- plumbing -----------------------------------------------------------------------------------------------
    def collection(self, timeout: float | None = None) -> str:
        """The collection behind the alias, re-resolved at most every ``alias_ttl_s`` (the lookup bounded by
        ``timeout``: a search's time left; None = the store's own timeout)."""
        now = time.monotonic()
        with self._lock:
            cached = self._alias
        if cached is not None and now - cached[1] < self.alias_ttl_s:
            return cached[0]
        name = self.store.resolve_alias(self.store.alias, timeout=timeout)
        with self._lock:
            self._alias = (name, now)
        return name

    def forget_alias(self) -> None:
        with self._lock:
            self._alias = None

    def embed_query(self, query: str, instruction: str | None, *, timeout_s: float | None = None) -> np.ndarray:
        """The query vector; a per-request ``instruction`` replaces the default for Qwen3-style backends.
        ``timeout_s``: the most the embedding server may take (None: the backend's own timeout; <= 0: a retriable
        ``EmbeddingError`` unless the vector is cached).

        Backends with ``format_query`` (OpenAI-compatible Qwen3) apply their configured instruction in
        ``embed_queries``; an override is formatted here with ``query_template`` and embedded as is
        (``embed_documents`` adds nothing). Other backends (E5) have no instruction and ignore it.
        """
        emb = self.embedder
        effective = self.query_instruction if instruction is None else instruction
        key = (emb.model_id, emb.dim, effective, self.query_template, query)
        if self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        if timeout_s is not None and timeout_s <= 0:
            raise EmbeddingError("no time left for the query embedding", retriable=True)
        if instruction is not None and callable(getattr(emb, "format_query", None)):
            text = self.query_template.format(instruction=instruction, query=query)
            vector = emb.embed_documents([text], timeout_s=timeout_s)[0]
        else:
            vector = emb.embed_queries([query], timeout_s=timeout_s)[0]
        vector = np.array(vector, dtype=np.float32).reshape(-1)
        vector.setflags(write=False)
        if self.cache is not None:
            self.cache.put(key, vector)
        return vector

    # -- search -------------------------------------------------------------------------------------------------
    def search(self, req: SearchRequest, *, time_left_s: Callable[[], float] | None = None) -> SearchResponse:
        validate_request(req)
        req = self._confined(req)
        cursor = self.page_tokens.decode(req.page_token, req) if req.page_token else None   # before any backend
        clock = _Clock(time_left_s, float(self.store.timeout_s), margin_s=self.deadline_margin_s)
        models = {"embedding": self.embedder.model_id, "reranker": "none"}
        try:
            collection = self.collection(clock.timeout("alias"))
            bm25_text = self._spell(req, collection, clock)
            resp = self._search(req, req.filters, collection, clock, models, cursor, bm25_text)
        except StoreError:
            self.forget_alias()          # e.g. a reindex dropped the old collection: resolve again next time
            raise
        resp = replace(resp, request_id=new_request_id(), corrected_query="" if bm25_text == req.query else bm25_text)
        if self.query_log is not None:
            self.query_log.publish(record_of(req, resp, request_id=resp.request_id, collection=collection,
                                             ts_ms=now_ms()))
        if self.observer is not None:
            self.observer.searched(resp)
        return resp

    def _confined(self, req: SearchRequest) -> SearchRequest:
        """With a fixed tenant, or a call bound to one by its tenant token, the request's filters name exactly it
        (whatever the request sent)."""
        bound = bound_tenant()
        tenant = self.tenant or bound
        if tenant is None or tenant == "":
            return req
        if self.tenant and bound is not None and bound != self.tenant:
            raise InvalidRequest("filters.tenant", "this service serves one tenant only; the token's is not it")
        asked = req.filters.tenant
        if asked is not None and asked != tenant:
            who = "service" if self.tenant else "token"
            raise InvalidRequest("filters.tenant", f"this {who} serves one tenant only; {asked!r} is not it")
        return replace(req, filters=replace(req.filters, tenant=tenant))

    def _spell(self, req: SearchRequest, collection: str, clock: _Clock) -> str:
        """The text the BM25 side searches: the query, with misspelled terms corrected when asked for."""
        wanted = self.spell_default if req.spell_correct is None else req.spell_correct
        if self.speller is None or not wanted or req.retrievers == "dense":
            return req.query
        started = time.perf_counter()
        vocabulary = self.speller.vocabulary(collection)        # never waits for a (re)build
        text = req.query if vocabulary is None else vocabulary.correct(req.query).text
        clock.stage("spell", started)
        return text

    def _search(self, req: SearchRequest, filters: SearchFilters, collection: str, clock: _Clock,
                models: dict[str, str], cursor: Cursor | None = None, bm25_text: str | None = None
                ) -> SearchResponse:
        store = self.store
        if req.shaped:               # the result set: deep enough that top_k groups fill (README, result depth)
            depth = max(self.result_depth, req.candidates, req.page_size or req.top_k)
        else:
            depth = max(self.candidates, req.candidates, req.top_k)
        found = self._fused(req, filters, collection, clock, depth, bm25_text=bm25_text)
        if found is None:
            return self._answer(req, [], {}, None, "", clock, models, cursor, depth, collection,
                                bm25_text=bm25_text)
        fused, rows, vector = found
        t = time.perf_counter()
        pool = fused[: depth if req.shaped else max(req.candidates, req.top_k) if req.rerank else req.top_k]

        missing = [c.sku for c in pool if c.sku not in rows]
        if missing:                               # the exact path's dense hits come without their fields
            rows.update(store.hydrate(collection, filters, missing, timeout=clock.timeout("hydrate")))
            t = clock.stage("hydrate", t)
        pool = [c for c in pool if c.sku in rows]

        rerank_scores: list[float] | None = None
        degraded_reason = ""
        if req.rerank and pool:
            docs = [rows[c.sku].embed_text for c in pool[: req.candidates]]
            outcome = self.rerank_stage.run(req.query, docs, instruction=None, time_left_s=clock.time_left())
            models["reranker"] = outcome.model_id
            degraded_reason = outcome.degraded_reason
            rerank_scores = outcome.scores
            if outcome.model_id != "none":            # no reranker configured: no rerank stage to time
                clock.stage("rerank", t)
        hits = _hits(pool, rows, rerank_scores)
        return self._answer(req, hits, rows, rerank_scores, degraded_reason, clock, models, cursor, depth, collection,
                            vector, bm25_text=bm25_text)

    def _answer(self, req: SearchRequest, hits: list[Hit], rows: dict[str, StoredHit], rerank: list[float] | None,
                degraded_reason: str, clock: _Clock, models: dict[str, str], cursor: Cursor | None, depth: int,
                collection: str, vector: np.ndarray | None = None, *,
                bm25_text: str | None = None) -> SearchResponse:
        """The response: the top ``top_k`` hits, or the shaped answer (groups, facets, page) of the result set."""
        if not req.shaped:
            degraded_reason = clock.reason(degraded_reason)
            return SearchResponse(hits=hits[: req.top_k], degraded=bool(degraded_reason),
                                  degraded_reason=degraded_reason, timings_ms=clock.done(), models=models)
        t = time.perf_counter()
        pools = self._facet_pools(req, collection, clock, depth, vector, bm25_text) if req.facets else {}
        if pools:
            t = clock.stage("facets", t)
        if req.group_by and any(not rows[h.sku].group_id for h in hits):
            degraded_reason = "; ".join(filter(None, [degraded_reason, (
                f"group_id: collection {collection!r} predates variant groups, so every product is its own group "
                "(build a current one with `catalog-search reindex`)")]))
        shaped = shape(req, [(h, rows[h.sku]) for h in hits], depth=depth, tokens=self.page_tokens, cursor=cursor,
                       facet_pools=pools, reranked=len(rerank) if rerank is not None else 0)
        clock.stage("shape", t)
        degraded_reason = clock.reason(degraded_reason)
        return SearchResponse(hits=shaped.hits, degraded=bool(degraded_reason), degraded_reason=degraded_reason,
                              timings_ms=clock.done(), models=models, facets=shaped.facets,
                              next_page_token=shaped.next_page_token, result_set=shaped.result_set)

    def _facet_pools(self, req: SearchRequest, collection: str, clock: _Clock, depth: int,
                     vector: np.ndarray | None, bm25_text: str | None = None) -> dict[str, list[StoredHit]]:
        """For each facet whose own filter is set: the result set of the request without that filter (fused, not
        reranked: counting needs membership only), as stored rows."""
        pools: dict[str, list[StoredHit]] = {}
        for spec in req.facets:
            filters = without_own_filter(req.filters, spec.field)
            if filters is None:
                continue
            inner = clock.child()                                 # its stages are timed as one "facets" stage
            found = self._fused(req, filters, collection, inner, depth, vector=vector, with_text=False,
                                bm25_text=bm25_text)
            if found is None:
                pools[spec.name] = []
                continue
            fused, rows, _ = found
            pool = fused[:depth]
            missing = [c.sku for c in pool if c.sku not in rows]
            if missing:
                rows.update(self.store.hydrate(collection, filters, missing, timeout=inner.timeout("hydrate")))
            pools[spec.name] = [rows[c.sku] for c in pool if c.sku in rows]
        return pools

    def _fused(self, req: SearchRequest, filters: SearchFilters, collection: str, clock: _Clock, depth: int, *,
               vector: np.ndarray | None = None, with_text: bool | None = None, bm25_text: str | None = None
               ) -> tuple[list[Candidate], dict[str, StoredHit], np.ndarray | None] | None:
        """Steps 3-6: the fused candidates of ``filters`` (each retriever ``depth`` deep), the hit fields the
        retrieval returned and the query vector; None when an exact count says nothing matches. ``bm25_text``: what
        the BM25 side searches (the spell-corrected query; default the query)."""
        store = self.store
        text = req.query if bm25_text is None else bm25_text
        t = time.perf_counter()
        is_exact = False
        if not store.dense_is_exact(collection):
            # an approximate index (HNSW) can miss matches of a selective filter: count them, and scan them exactly
            count = store.count_matching(collection, filters, timeout=clock.timeout("count"))
            t = clock.stage("count", t)
            if count == 0:
                return None
            is_exact = count <= self.exact_threshold
            depth = count if is_exact else depth
        # else: a brute-force index (Milvus Lite's FLAT) returns the exact best matches of any filter by itself

        use_dense, use_bm25 = req.retrievers != "bm25", req.retrievers != "dense"
        if use_dense and vector is None:
            try:
                vector = self.embed_query(req.query, req.instruction, timeout_s=self._embed_budget(clock, use_bm25))
            except EmbeddingError as exc:
                if not (exc.retriable and use_bm25):
                    raise
                # the embedding server is down or slow: answer from BM25 alone rather than not at all
                log.warning("query embedding failed, answering from BM25 only: %s", exc)
                use_dense = False
                clock.degraded.append(f"query embedding unavailable ({type(exc).__name__}: {exc}); BM25 only")
            t = clock.stage("embed", t)
        rows: dict[str, StoredHit] = {}
        if is_exact:
            dense, sparse = self._exact_retrieve(req, filters, collection, clock, vector, depth, text)
            t = time.perf_counter()
        else:
            # both retrievers in one store call, hit fields included: no separate hydrate trip
            found = store.retrieve(collection, filters, vector=vector, text=text if use_bm25 else None,
                                   limit=depth, with_text=req.rerank if with_text is None else with_text,
                                   timeout=clock.timeout("retrieve"))
            dense, sparse, rows = found.dense, found.bm25, found.hits
            clock.timings.update(found.timings_ms)
            t = time.perf_counter()

        if not (use_dense and use_bm25):          # one retriever alone: its own order (RRF of one list)
            fused = rrf({"dense": dense} if use_dense else {"bm25": sparse})
        elif (req.fusion or self.fusion) == "rrf":
            fused = rrf({"dense": dense, "bm25": sparse})
        else:
            fused = weighted(dense, sparse, self.alpha if req.alpha is None else req.alpha)
        clock.stage("fuse", t)
        return fused, rows, vector

    def _embed_budget(self, clock: _Clock, use_bm25: bool) -> float | None:
        """How long the query embedding may take: the time left, less ``embed_reserve_s`` when BM25 can still
        answer alone (<= 0: no time for it; a cached vector still serves)."""
        if not use_bm25:
            clock.timeout("embed")                    # raises when the deadline has passed
            return clock.time_left()
        return clock.budget(self.embed_reserve_s)

    def _exact_retrieve(self, req: SearchRequest, filters: SearchFilters, collection: str, clock: _Clock,
                        vector: np.ndarray | None, depth: int, text: str) -> tuple[Ranked, Ranked]:
        """An approximate index and a selective filter: every matching vector scored here (numpy cosine), BM25 as
        deep as the matches; the hits' fields are hydrated after fusion."""
        store, t = self.store, time.perf_counter()
        dense: Ranked = []
        sparse: Ranked = []
        if vector is not None:
            # rows may be added between count and fetch: leave room, still bounded
            skus, vectors = store.exact_scan(collection, filters, limit=min(depth + 100, store.max_limit),
                                             timeout=clock.timeout("dense"))
            t = clock.stage("dense", t)
            dense = cosine_ranked(vector, skus, vectors)
            t = clock.stage("exact_scan", t)
        if req.retrievers != "dense":
            sparse = store.bm25_search(collection, filters, text, limit=depth, timeout=clock.timeout("bm25"))
            clock.stage("bm25", t)
        return dense, sparse

    def close(self) -> None:
        for part in (self.query_log, self.speller, self.rerank_stage, self.embedder, self.store):
            close = getattr(part, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # noqa: BLE001 - closing must not fail shutdown
                    log.debug("closing %s: %s", type(part).__name__, exc)


def _hits(pool: list[Candidate], rows: dict[str, StoredHit], rerank: list[float] | None) -> list[Hit]:
    """Hits in final order: by rerank score (the reranked head; fused order breaks ties) or by fused score."""
    scored = [(c, None if rerank is None or i >= len(rerank) else float(rerank[i])) for i, c in enumerate(pool)]
    if rerank is not None:
        head = sorted(scored[: len(rerank)], key=lambda cs: -cs[1])  # stable: fused order on ties
        scored = head + scored[len(rerank):]
    out = []
    for c, r in scored:
        row = rows[c.sku]
        out.append(Hit(sku=c.sku, title=row.title, brand=row.brand, category=row.category,
                       price=row.price, currency=row.currency, in_stock=row.in_stock,
                       score=c.fused if r is None else r,
                       scores=StageScores(dense=c.dense, bm25=c.bm25, fused=c.fused, rerank=r), group_id=row.group_id))
    return out
