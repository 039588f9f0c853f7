"""Request validation (pure, no I/O): everything the searcher must refuse before any backend call.

``InvalidRequest`` names the field. Validated filters are what every ``SearchStore`` can evaluate safely: finite
non-negative prices, bounded non-blank strings without control characters, at most ``MAX_FILTER_VALUES`` values,
category paths with between 1 and ``limits.CATEGORY_MAX_LEVELS`` levels. How a store turns them into its own query
syntax is the store's business (``adapters.milvus.filters`` for Milvus).
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from catalog_search.core import limits
from catalog_search.core.product import category_levels
from catalog_search.retrieve.domain import (MAX_CANDIDATES, MAX_TOP_K, FacetRequest, InvalidRequest, SearchFilters,
                                            SearchRequest)
from catalog_search.retrieve.facets import FACET_FIELDS, MAX_FACET_SIZE, MAX_FACETS, check_edges
from catalog_search.retrieve.paging import TOKEN_MAX_CHARS
from catalog_search.retrieve.sorting import SORTS

QUERY_MAX_BYTES = 2_048
INSTRUCTION_MAX_BYTES = 2_048
MAX_FILTER_VALUES = 64          # categories / brands per request
FUSIONS = ("rrf", "weighted")
RETRIEVERS = ("both", "dense", "bm25")
GROUP_BY = ("group_id",)


def _text(field: str, value: Any, max_bytes: int, *, allow_newlines: bool = False) -> str:
    """A non-blank string of at most ``max_bytes`` UTF-8 bytes without control characters."""
    if not isinstance(value, str):
        raise InvalidRequest(field, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidRequest(field, "must not be empty")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidRequest(field, "is not valid Unicode (lone surrogate)") from None
    if size > max_bytes:
        raise InvalidRequest(field, f"is {size} bytes long, at most {max_bytes} allowed")
    allowed = "\t\n\r " if allow_newlines else " "
    for ch in value:
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            raise InvalidRequest(field, f"contains the control character U+{ord(ch):04X}")
    return value


def _int_in(field: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(field, f"must be an integer, not {type(value).__name__}")
    if not lo <= value <= hi:
        raise InvalidRequest(field, f"must be between {lo} and {hi}, got {value}")


def _price(field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequest(field, f"must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidRequest(field, "must be a finite number")
    if value < 0:
        raise InvalidRequest(field, f"must be >= 0, got {value}")
    return float(value)


def _values(field: str, values: Any) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, (tuple, list)):
        raise InvalidRequest(field, "must be a list")
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidRequest(field, f"has {len(values)} values, at most {MAX_FILTER_VALUES} allowed")
    return tuple(values)


def validate_filters(f: SearchFilters) -> None:
    if not isinstance(f, SearchFilters):
        raise InvalidRequest("filters", f"must be SearchFilters, not {type(f).__name__}")
    for i, cat in enumerate(_values("filters.categories", f.categories)):
        name = f"filters.categories[{i}]"
        path = _text(f"{name}.path", getattr(cat, "path", None), limits.CATEGORY_MAX_BYTES)
        levels = category_levels(path)
        if not levels:
            raise InvalidRequest(f"{name}.path", "has no category level")
        if len(levels) > limits.CATEGORY_MAX_LEVELS:
            raise InvalidRequest(f"{name}.path", f"has {len(levels)} levels, at most {limits.CATEGORY_MAX_LEVELS}")
        if not isinstance(cat.prefix, bool):
            raise InvalidRequest(f"{name}.prefix", "must be a boolean")
    for i, brand in enumerate(_values("filters.brands", f.brands)):
        _text(f"filters.brands[{i}]", brand, limits.BRAND_MAX_BYTES)
    lo, hi = _price("filters.price_min", f.price_min), _price("filters.price_max", f.price_max)
    if lo is not None and hi is not None and lo > hi:
        raise InvalidRequest("filters.price_min", f"must be <= price_max ({lo} > {hi})")
    if not isinstance(f.in_stock_only, bool):
        raise InvalidRequest("filters.in_stock_only", "must be a boolean")
    if f.locale is not None:
        _text("filters.locale", f.locale, limits.LOCALE_MAX_BYTES)
    if f.tenant is not None:
        _text("filters.tenant", f.tenant, limits.TENANT_MAX_BYTES)


def validate_request(req: SearchRequest) -> None:
    """Raise ``InvalidRequest`` (naming the field) for anything the searcher must not run."""
    if not isinstance(req, SearchRequest):
        raise InvalidRequest("request", f"must be a SearchRequest, not {type(req).__name__}")
    _text("query", req.query, QUERY_MAX_BYTES, allow_newlines=True)
    _int_in("top_k", req.top_k, 1, MAX_TOP_K)
    _int_in("candidates", req.candidates, 1, MAX_CANDIDATES)
    if not isinstance(req.rerank, bool):
        raise InvalidRequest("rerank", "must be a boolean")
    if req.instruction is not None:
        _text("instruction", req.instruction, INSTRUCTION_MAX_BYTES, allow_newlines=True)
    if req.fusion is not None and req.fusion not in FUSIONS:
        raise InvalidRequest("fusion", f"must be one of {', '.join(FUSIONS)}, got {req.fusion!r}")
    if req.retrievers not in RETRIEVERS:
        raise InvalidRequest("retrievers", f"must be one of {', '.join(RETRIEVERS)}, got {req.retrievers!r}")
    if req.alpha is not None and (isinstance(req.alpha, bool) or not isinstance(req.alpha, (int, float))
                                  or not 0.0 <= req.alpha <= 1.0):
        raise InvalidRequest("alpha", f"must be a number between 0 and 1, got {req.alpha!r}")
    validate_filters(req.filters)
    if req.sort not in SORTS:
        raise InvalidRequest("sort", f"must be one of {', '.join(SORTS)}, got {req.sort!r}")
    if req.group_by is not None and req.group_by not in GROUP_BY:
        raise InvalidRequest("group_by", f"must be {' or '.join(GROUP_BY)} (or unset), got {req.group_by!r}")
    _int_in("page_size", req.page_size, 0, MAX_TOP_K)
    if not isinstance(req.page_token, str) or len(req.page_token) > TOKEN_MAX_CHARS:
        raise InvalidRequest("page_token", "is not a page token of this service")
    validate_facets(req.facets)


def validate_facets(facets: tuple[FacetRequest, ...]) -> None:
    if len(_values("facets", facets)) > MAX_FACETS:
        raise InvalidRequest("facets", f"has {len(facets)} facets, at most {MAX_FACETS} allowed")
    names: set[str] = set()
    for i, spec in enumerate(facets):
        where = f"facets[{i}]"
        if not isinstance(spec, FacetRequest):
            raise InvalidRequest(where, f"must be a FacetRequest, not {type(spec).__name__}")
        if spec.field not in FACET_FIELDS:
            raise InvalidRequest(f"{where}.field", f"must be one of {', '.join(FACET_FIELDS)}, got {spec.field!r}")
        if spec.field == "category":
            _int_in(f"{where}.level", spec.level, 1, limits.CATEGORY_MAX_LEVELS)
        elif spec.level != 1:
            raise InvalidRequest(f"{where}.level", f"only category facets have levels (got {spec.level!r})")
        if spec.ranges and spec.field != "price":
            raise InvalidRequest(f"{where}.ranges", "only price facets have ranges")
        problem = check_edges(_values(f"{where}.ranges", spec.ranges))
        if problem:
            raise InvalidRequest(f"{where}.ranges", problem)
        _int_in(f"{where}.size", spec.size, 1, MAX_FACET_SIZE)
        if spec.name in names:
            raise InvalidRequest(f"{where}.field", f"facet {spec.name!r} is asked for twice")
        names.add(spec.name)
