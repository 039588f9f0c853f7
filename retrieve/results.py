"""The answer to a grouped, faceted, paged or sorted request, cut from its result set (pure).

The **result set** of a request is the best ``depth`` fused candidates that match its filters (the result depth,
``CATALOG_SEARCH_RESULT_DEPTH``, at least the request's ``candidates``), in relevance order: the first
``candidates`` reordered by the reranker, the rest in fused order. Everything here works on that one set:

1. ``sort``: relevance keeps it; price/newest order it by stored values (``retrieve.sorting``) — the "relevant set"
   such a sort orders is this set, so nothing outside the result depth is ever sorted in;
2. ``group_by``: units are variant groups, each represented by its first variant in that order
   (``retrieve.grouping``); without it every product is a unit;
3. facets count units of the same set (``retrieve.facets``), or, for a facet whose own filter is set, of the result
   set of the request without that filter (``facet_pools``, retrieved by the searcher);
4. the page: ``page_size`` units (``top_k`` when unset) from where the ``page_token`` says (``retrieve.paging``),
   and the token of the next page while units remain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from catalog_search.core.store import StoredHit
from catalog_search.retrieve.domain import MAX_VARIANT_SKUS, Facet, Hit, ResultSet, SearchRequest
from catalog_search.retrieve.facets import count
from catalog_search.retrieve.grouping import Group, group, singletons
from catalog_search.retrieve.paging import Cursor, PageTokens, page_start
from catalog_search.retrieve.sorting import order, sort_key

Item = tuple[Hit, StoredHit]            # a product of the result set: its hit (final scores) and its stored fields


@dataclass(frozen=True)
class Shaped:
    hits: list[Hit]
    facets: tuple[Facet, ...]
    next_page_token: str
    result_set: ResultSet


def _unit_key(row: StoredHit) -> str:
    return row.group_id or row.sku


def units_of(rows: Sequence[StoredHit], grouped: bool) -> list[list[StoredHit]]:
    """Rows folded into result units (groups by ``group_id`` when ``grouped``, else one per product)."""
    if not grouped:
        return [[row] for row in rows]
    return [list(g.members) for g in group(rows, _unit_key)]


def describe(*, depth: int, products: int, units: int, reranked: int, retrievers: str, grouped: bool,
             sort: str) -> str:
    """The result set in words (the response's ``result_set.description``)."""
    source = {"both": "dense + BM25", "dense": "dense", "bm25": "BM25"}.get(retrievers, retrievers)
    text = (f"the {products} most relevant products matching the filters: the best {depth} fused {source} "
            f"candidates, the first {reranked} reranked" if reranked else
            f"the {products} most relevant products matching the filters: the best {depth} fused {source} "
            f"candidates, not reranked")
    if grouped:
        text += f"; {units} variant groups (group_id), each shown by its first variant"
    if sort != "relevance":
        text += f"; ordered by {sort} (only these products are sorted, not the whole catalog)"
    return text + "; pages and facets cover this set"


def shape(req: SearchRequest, items: Sequence[Item], *, depth: int, tokens: PageTokens, cursor: Cursor | None,
          facet_pools: Mapping[str, Sequence[StoredHit]] = {}, reranked: int = 0) -> Shaped:  # noqa: B006
    """The page, facets, next token and result set of ``req`` from its result set ``items`` (relevance order)."""
    grouped = bool(req.group_by)
    ordered = order(items, req.sort, row=lambda item: item[1])
    units: list[Group[Item]] = (group(ordered, lambda item: _unit_key(item[1])) if grouped
                                else singletons(ordered, lambda item: item[1].sku))

    facets = []
    for spec in req.facets:
        pool = facet_pools.get(spec.name)
        if pool is None:
            facets.append(count(spec, [[item[1] for item in u.members] for u in units]))
        else:
            facets.append(count(spec, units_of(pool, grouped), own_filter_removed=True))

    ids = [u.key for u in units]
    keys = [sort_key(req.sort, u.best[1]) for u in units]
    start = page_start(ids, keys, cursor)
    size = req.page_size or req.top_k
    page = units[start:start + size]
    end = start + len(page)
    next_token = ""
    if req.paged and page and end < len(units):
        next_token = tokens.encode(Cursor(end, page[-1].key, keys[end - 1]), req)

    hits = []
    for unit in page:
        hit, row = unit.best
        if grouped:
            hits.append(dataclasses.replace(hit, group_id=unit.key, variant_count=len(unit.members),
                                            variant_skus=tuple(m[0].sku for m in unit.members[:MAX_VARIANT_SKUS])))
        else:
            hits.append(dataclasses.replace(hit, group_id=hit.group_id or row.group_id))
    result_set = ResultSet(depth=depth, products=len(items), size=len(units), offset=start, sort=req.sort,
                           group_by=req.group_by or "",
                           description=describe(depth=depth, products=len(items), units=len(units), reranked=reranked,
                                                retrievers=req.retrievers, grouped=grouped, sort=req.sort))
    return Shaped(hits=hits, facets=tuple(facets), next_page_token=next_token, result_set=result_set)
