"""The Milvus filter expression of ``SearchFilters`` (pure, no I/O): the only place filters become Milvus syntax.

No client input is ever spliced raw into an expression: strings become escaped string literals (``escape_string``:
a JSON string literal, whose escapes Milvus' expression parser reads the same way) or, with ``templated=True``,
``{pN}`` placeholders bound through ``filter_params``. Numbers are validated finite floats written with ``repr``.

Milvus Lite 2.5.1 does not support ``filter_params`` (every templated query/search fails with "Unexpected error in
RPC handling"), so the store uses the escaped form; the templated form exists for Milvus servers >= 2.5.

Every expression starts with ``deleted == false``: tombstones never match.

Categories are matched on ``category_levels`` (the normalised prefixes of the stored path, see
``core.product.category_levels``): prefix = ``array_contains(category_levels, P)``; exact = the same plus
``array_length(category_levels) == len(levels(P))``, i.e. the normalised full path equals P.
"""

from __future__ import annotations

import math
from typing import Any

from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.rows import escape_string
from catalog_search.core.filters import SearchFilters
from catalog_search.core.product import category_levels


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
