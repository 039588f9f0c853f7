"""The tenant the current call is confined to by its credentials (a tenant token), set around the handler by the
token interceptor and read by the searcher, which confines the search to it as it does a fixed tenant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_BOUND: ContextVar[str | None] = ContextVar("catalog_search_bound_tenant", default=None)


def bound_tenant() -> str | None:
    """The tenant this call's token is confined to; None when it is not confined."""
    return _BOUND.get()


@contextmanager
def bound_to(tenant: str | None) -> Iterator[None]:
    """Within the block, ``bound_tenant()`` is ``tenant`` (None: not confined)."""
    token = _BOUND.set(tenant)
    try:
        yield
    finally:
        _BOUND.reset(token)
