"""Classification of pymilvus / gRPC / socket exceptions into StoreError."""

from __future__ import annotations

import grpc
import pytest
from pymilvus.exceptions import DataNotMatchException, MilvusException, ParamError

from catalog_search.core.errors import StoreError
from catalog_search.adapters.milvus.errors import map_error


class _RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def __str__(self) -> str:
        return f"<_InactiveRpcError status={self._code} details={self._details}>"


@pytest.mark.parametrize(("exc", "retriable"), [
    (_RpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; Connection refused"), True),
    (_RpcError(grpc.StatusCode.DEADLINE_EXCEEDED), True),
    (_RpcError(grpc.StatusCode.RESOURCE_EXHAUSTED), True),
    (_RpcError(grpc.StatusCode.UNIMPLEMENTED), False),
    (_RpcError(grpc.StatusCode.INVALID_ARGUMENT), False),
    (_RpcError(grpc.StatusCode.INTERNAL, "bad plan"), False),
    (_RpcError(grpc.StatusCode.UNKNOWN, "Socket closed"), True),
    # pymilvus wraps a gRPC error with the bound ``code`` method as its code after its own retries time out
    (MilvusException(code=_RpcError(grpc.StatusCode.UNAVAILABLE).code, message="[query] Retry timeout: 3s"), True),
    (MilvusException(code=1100, message="Invalid expr: bogus ==: invalid parameter"), False),
    (MilvusException(code=100, message="collection not found"), False),
    (MilvusException(code=65535, message="invalid index type: HNSW, local mode only support FLAT"), False),
    (MilvusException(code=5, message="internal error"), False),
    (MilvusException(code=1, message="Unsupported data type: 0"), False),
    (MilvusException(code=2, message="service unavailable"), True),
    (MilvusException(code=1, message="service not ready"), True),
    (MilvusException(code=8, message="rate limit exceeded"), True),
    (MilvusException(code=9, message="quota exceeded"), True),
    (DataNotMatchException(message="Insert missed an field `embed_text`"), False),
    (ParamError(message="invalid dim: connection timeout words in a param error"), False),
    (ConnectionRefusedError(111, "Connection refused"), True),
    (ValueError("something odd"), False),
])
def test_map_error(exc: BaseException, retriable: bool) -> None:
    mapped = map_error(exc, "op")
    assert isinstance(mapped, StoreError) and mapped.retriable is retriable
    assert "milvus op failed" in str(mapped)
