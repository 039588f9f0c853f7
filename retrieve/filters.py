"""Request validation and the Milvus filter expression of ``SearchFilters`` (pure, no I/O).

No client input is ever spliced raw into an expression: strings become escaped string literals (``escape_string``:
a JSON string literal, whose escapes Milvus' expression parser reads the same way) or, with ``templated=True``,
``{pN}`` placeholders bound through ``filter_params``. Numbers are validated finite floats written with ``repr``.

Milvus Lite 2.5.1 does not support ``filter_params`` (every templated query/search fails with "Unexpected error in
RPC handling"), so the searcher uses the escaped form; the templated form exists for Milvus servers >= 2.5.

Every expression starts with ``deleted == false``: tombstones never match.

Categories are matched on ``category_levels`` (the normalised prefixes of the stored path, see
``catalog.product.category_levels``): prefix = ``array_contains(category_levels, P)``; exact = the same plus
``array_length(category_levels) == len(levels(P))``, i.e. the normalised full path equals P.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from catalog_search.core import limits
from catalog_search.core.product import category_levels
from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.rows import escape_string
from catalog_search.retrieve.domain import MAX_CANDIDATES, MAX_TOP_K, InvalidRequest, SearchFilters, SearchRequest

QUERY_MAX_BYTES = 2_048
INSTRUCTION_MAX_BYTES = 2_048
MAX_FILTER_VALUES = 64          # categories / brands per request
FUSIONS = ("rrf", "weighted")
RETRIEVERS = ("both", "dense", "bm25")


# ------------------------------------------------------------------------------------------------------- validation

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


# -------------------------------------------------------------------------------------------------------- filters

class _Params:
    """Turns values into expression literals: escaped inline, or ``{pN}`` placeholders collected in ``params``."""

    def __init__(self, templated: bool) -> None:
        self.templated = templated
        self.params: dict[str, Any] = {}

    def __call__(self, value: str | float | int | list[str]) -> str:
        if self.templated:
            name = f"p{len(self.params)}"
            self.params[name] = value
            return "{" + name + "}"
        if isinstance(value, list):
            return "[" + ", ".join(escape_string(v) for v in value) + "]"
        if isinstance(value, str):
            return escape_string(value)
        if isinstance(value, bool) or not math.isfinite(value):       # pragma: no cover - validated before
            raise ValueError(f"not a finite number: {value!r}")
        return repr(value)


def build_filter(filters: SearchFilters, *, templated: bool = False) -> tuple[str, dict[str, Any]]:
    """``(expr, params)`` for ``filters`` (validate them first); ``params`` is empty unless ``templated``."""
    lit = _Params(templated)
    parts = [f"{S.DELETED} == false"]
    if filters.tenant is not None:
        parts.append(f"{S.TENANT} == {lit(filters.tenant)}")
    if filters.locale is not None:
        parts.append(f"{S.LOCALE} == {lit(filters.locale)}")
    if filters.brands:
        parts.append(f"{S.BRAND} in {lit(list(dict.fromkeys(filters.brands)))}")
    if filters.categories:
        alternatives: dict[str, None] = {}
        for cat in filters.categories:
            levels = category_levels(cat.path)
            test = f"array_contains({S.CATEGORY_LEVELS}, {lit(levels[-1])})"
            if not cat.prefix:
                test = f"({test} and array_length({S.CATEGORY_LEVELS}) == {lit(len(levels))})"
            alternatives.setdefault(test)
        parts.append("(" + " or ".join(alternatives) + ")")
    if filters.price_min is not None:
        parts.append(f"{S.PRICE} >= {lit(float(filters.price_min))}")
    if filters.price_max is not None:
        parts.append(f"{S.PRICE} <= {lit(float(filters.price_max))}")
    if filters.in_stock_only:
        parts.append(f"{S.IN_STOCK} == true")
    return " and ".join(parts), lit.params
