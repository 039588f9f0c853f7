"""Classification of pymilvus / gRPC / socket exceptions into ``StoreError``.

Every such exception is mapped exactly once (``map_error``, or the ``mapped`` context manager around a block of
client calls); ``retriable`` says whether the same call may pass on its own later. The adapter never retries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from catalog_search.core.errors import StoreError

# gRPC status names that may pass on their own.
_RETRIABLE_GRPC = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"}
# gRPC status names decided by the message (a crashing server vs. a bug that repeats).
_AMBIGUOUS_GRPC = {"UNKNOWN", "INTERNAL", "CANCELLED"}
# Integer codes are ambiguous (pymilvus reports the new merr code or the legacy ErrorCode, and its own client-side
# errors use 1), so only "service unavailable" (2) and "rate limit" (8) count by code; everything else by message:
# not ready, unavailable, timeouts, refused/reset connections and back-pressure (rate, memory, disk, quota limits).
# "internal error" (5) is *not* retriable: Milvus Lite answers it for requests that fail the same way every time.
_RETRIABLE_MILVUS_CODES = {2, 8}
_RETRIABLE_MESSAGE = re.compile(
    r"connection refused|failed to connect|unavailable|deadline|timed? ?out|timeout|not ready|notready|"
    r"rate ?limit|too many (concurrent )?requests|memory limit|disk (limit|quota)|quota exceeded|server is busy|"
    r"service.*(shut|stop)|socket closed|connection reset|broken pipe|channel closed",
    re.IGNORECASE)
# Milvus Lite 2.5.1 bug: on a collection with an ARRAY field, a query/get whose result is empty fails with this
# message (code 1) instead of returning [] (count(*) and searches are fine). On Lite it means "no rows".
_LITE_EMPTY_RESULT_ERROR = "Unsupported data type: 0"
# Client-side validation errors raised by pymilvus before any RPC: never retriable, whatever their code.
_CLIENT_SIDE_ERRORS = ("ParamError", "DataNotMatchException", "DataTypeNotMatchException", "PrimaryKeyException",
                       "FieldTypeException", "FieldsTypeException", "AutoIDException", "InvalidConsistencyLevel",
                       "UpsertAutoIDTrueException", "PartitionKeyException", "IsPrimaryKeyException",
                       "CannotInferSchemaException", "SchemaNotReadyException", "ExceptionsMessage")


def quiet_pymilvus_logging() -> None:
    """pymilvus installs its own stderr handlers and logs every failed RPC at ERROR, including ones this adapter
    expects and handles (GetVersion on Lite, Lite's empty-query bug). Errors reach callers as ``StoreError``."""
    for name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.decorators"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _grpc_status_name(exc: BaseException) -> str | None:
    """The gRPC status name of a raw ``grpc.RpcError`` or of a MilvusException that wraps one, else None."""
    code: Any = getattr(exc, "code", None)
    if callable(code):            # grpc.RpcError.code() / MilvusException(code=<bound method ...code>)
        try:
            code = code()
        except Exception:         # pragma: no cover - defensive
            return None
        if callable(code):        # MilvusException whose code *is* the bound method
            try:
                code = code()
            except Exception:     # pragma: no cover
                return None
    name = getattr(code, "name", None)
    return name if isinstance(name, str) else None


def is_unimplemented(exc: BaseException) -> bool:
    return _grpc_status_name(exc) == "UNIMPLEMENTED" or "UNIMPLEMENTED" in str(exc)


def is_not_found(exc: BaseException) -> bool:
    return bool(re.search(r"not (exist|found)|doesn't exist|does not exist|can't find|cannot find", str(exc), re.I))


def is_already_exists(exc: BaseException) -> bool:
    return bool(re.search(r"already exist|duplicate", str(exc), re.I))


def is_lite_empty_result(exc: BaseException) -> bool:
    """On Milvus Lite only: the error that stands for an empty query result (see ``_LITE_EMPTY_RESULT_ERROR``)."""
    return _LITE_EMPTY_RESULT_ERROR in str(exc)


def map_error(exc: BaseException, what: str) -> StoreError:
    """Classify one pymilvus / gRPC / socket exception; the caller raises the result ``from exc``."""
    text = str(getattr(exc, "message", "") or exc)
    status = _grpc_status_name(exc)
    int_code = getattr(exc, "code", None)
    if type(exc).__name__ in _CLIENT_SIDE_ERRORS:
        retriable = False
    elif status in _RETRIABLE_GRPC:
        retriable = True
    elif status is not None and status not in _AMBIGUOUS_GRPC:
        retriable = False
    elif isinstance(exc, (ConnectionError, TimeoutError)) or type(exc).__name__ == "MilvusUnavailableException":
        retriable = True
    elif isinstance(int_code, int) and int_code in _RETRIABLE_MILVUS_CODES:
        retriable = True
    else:
        retriable = bool(_RETRIABLE_MESSAGE.search(text))
    detail = text if status is None else f"{status}: {text}"
    return StoreError(f"milvus {what} failed: {type(exc).__name__}: {detail[:500]}", retriable=retriable)


@contextmanager
def mapped(what: str) -> Iterator[None]:
    """Map any exception of the block (except a ``StoreError``, passed on as is) with ``map_error``."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        raise map_error(exc, what) from exc


# pymilvus retries failed RPCs itself (75 times, up to 3 s apart) and only honours ``timeout`` as a retry budget when
# it is an int, so a float timeout meant minutes of hidden retries in the store. Every call passes this to make one
# attempt, bounded by its gRPC deadline; retrying is the ingest layer's job (``ingest.retry``), done once.
NO_CLIENT_RETRY = {"retry_times": 0}
