"""A real in-process retrieval gRPC server (``retrieve.server.start``) around a searcher that is never called, for
checking what the health probes of the image, compose and Kubernetes ask."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from catalog_search.app.localstack import free_port
from catalog_search.core.settings import load_settings


class IdleSearcher:
    def search(self, req: Any, *, time_left_s: Any = None) -> Any:
        raise AssertionError("a health check must not search")


@contextlib.contextmanager
def serving(host: str = "127.0.0.1") -> Iterator[Any]:
    """A started ``SearchServer`` listening on ``host:<free port>`` (``.port``, ``.health``); stopped at exit."""
    from catalog_search.retrieve.server import start

    port = free_port()
    handle = start(load_settings(grpc_address=f"{host}:{port}"), IdleSearcher())
    try:
        yield handle
    finally:
        handle.stop(0)
