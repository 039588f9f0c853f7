"""``MilvusStore``: the ``VectorStore`` on a Milvus server or Milvus Lite (in-process ``*.db`` or its TCP server).

Ingest writes the physical collection (``collection``); searchers read through ``alias``. On a Milvus server the alias
is a native Milvus alias. Milvus Lite 2.5.1 answers alias RPCs with gRPC UNIMPLEMENTED, so there the alias lives in a
tiny registry collection (``_catalog_aliases``: alias name -> collection name); ``resolve_alias`` / ``set_alias`` hide
the difference, so searchers call ``resolve_alias`` once per (re)load and a reindex calls ``set_alias`` to switch.

Every pymilvus / gRPC exception is mapped exactly once into ``StoreError`` (``retriable`` decided by ``_map_error``);
the adapter never retries (pymilvus' own channel reconnects are bounded by ``timeout_s``).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

from catalog import limits
from catalog.errors import ConfigError, StoreError
from catalog.product import DEFAULT_EMBED_ATTRIBUTES, Product, embed_text
from catalog.store import schema as S
from catalog.store.base import StoreCounts

log = logging.getLogger(__name__)


def _quiet_pymilvus_logging() -> None:
    """pymilvus installs its own stderr handlers and logs every failed RPC at ERROR, including ones this adapter
    expects and handles (GetVersion on Lite, Lite's empty-query bug). Errors reach callers as ``StoreError``."""
    for name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.decorators"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

T = TypeVar("T")

ALIAS_REGISTRY = "_catalog_aliases"
_REGISTRY_ALIAS = "alias"
_REGISTRY_TARGET = "collection"
_REGISTRY_UPDATED = "updated_at_ms"
_REGISTRY_VECTOR = "v"          # Milvus requires one vector field per collection
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
FETCH_CHUNK = 512
# Milvus Lite 2.5.1 bug: on a collection with an ARRAY field, a query/get whose result is empty fails with this
# message (code 1) instead of returning [] (count(*) and searches are fine). On Lite it means "no rows".
_LITE_EMPTY_RESULT_ERROR = "Unsupported data type: 0"

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
# Client-side validation errors raised by pymilvus before any RPC: never retriable, whatever their code.
_CLIENT_SIDE_ERRORS = ("ParamError", "DataNotMatchException", "DataTypeNotMatchException", "PrimaryKeyException",
                       "FieldTypeException", "FieldsTypeException", "AutoIDException", "InvalidConsistencyLevel",
                       "UpsertAutoIDTrueException", "PartitionKeyException", "IsPrimaryKeyException",
                       "CannotInferSchemaException", "SchemaNotReadyException", "ExceptionsMessage")


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


def _is_unimplemented(exc: BaseException) -> bool:
    return _grpc_status_name(exc) == "UNIMPLEMENTED" or "UNIMPLEMENTED" in str(exc)


def _is_not_found(exc: BaseException) -> bool:
    return bool(re.search(r"not (exist|found)|doesn't exist|does not exist|can't find|cannot find", str(exc), re.I))


def _is_already_exists(exc: BaseException) -> bool:
    return bool(re.search(r"already exist|duplicate", str(exc), re.I))


def _map_error(exc: BaseException, what: str) -> StoreError:
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


def escape_string(value: str) -> str:
    """A Milvus expression string literal (double quoted, JSON escapes are valid Milvus/Go escapes)."""
    return json.dumps(value, ensure_ascii=False)


def in_filter(field: str, values: Sequence[str]) -> str:
    return f"{field} in [{', '.join(escape_string(v) for v in values)}]"


def _truncate_utf8(text: str, max_bytes: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    return raw[:max_bytes].decode("utf-8", errors="ignore")


def is_lite_uri(uri: str) -> bool:
    """True for an in-process Milvus Lite path (``./x.db``); a TCP Lite server is detected by probing."""
    return uri.endswith(".db") and "://" not in uri


class MilvusStore:
    """``VectorStore`` over one physical Milvus collection plus the alias searchers read."""

    def __init__(self, *, uri: str, collection: str, alias: str, dim: int, token: str = "",
                 index: str = "auto", timeout_s: float = 30.0,
                 embed_attributes: Sequence[str] = DEFAULT_EMBED_ATTRIBUTES,
                 client_factory: Callable[[], Any] | None = None) -> None:
        for label, name in (("collection", collection), ("alias", alias)):
            if not _NAME_RE.match(name):
                raise ConfigError(f"invalid Milvus {label} name {name!r}: letters, digits and _ only, not starting "
                                  "with a digit, at most 255 chars")
        if collection == alias:
            raise ConfigError(f"Milvus collection and alias must differ (both {collection!r})")
        if dim < 2:
            raise ConfigError(f"dense dim must be >= 2, got {dim}")
        if index.upper() not in ("AUTO", "HNSW", "FLAT", "IVF_FLAT"):
            raise ConfigError(f"unknown Milvus index {index!r}")
        self.uri = uri
        self.token = token
        self.collection = collection
        self.alias = alias
        self.dim = dim
        self.index_setting = index
        self.timeout_s = timeout_s
        self.embed_attributes = tuple(embed_attributes)
        self._client_factory = client_factory
        self._client: Any = None
        self._lite: bool | None = True if is_lite_uri(uri) else None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> "MilvusStore":
        return cls(uri=settings.milvus_uri, token=settings.milvus_token, collection=settings.milvus_collection,
                   alias=settings.milvus_alias, dim=settings.dim, index=settings.milvus_index,
                   timeout_s=settings.milvus_timeout_s, embed_attributes=settings.embed_attributes)

    # -- plumbing -----------------------------------------------------------------------------------------------
    @contextmanager
    def _mapped(self, what: str) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            raise _map_error(exc, what) from exc

    @property
    def client(self) -> Any:
        """The connected ``MilvusClient`` (created on first use; connection errors raise ``StoreError``)."""
        with self._lock:
            if self._client is None:
                with self._mapped("connect"):
                    if self._client_factory is not None:
                        self._client = self._client_factory()
                    else:
                        from pymilvus import MilvusClient
                        _quiet_pymilvus_logging()
                        # A private connection alias: pymilvus shares one connection per uri+token by default and
                        # any other MilvusClient.close() on the same uri would tear ours down.
                        self._client = MilvusClient(uri=self.uri, token=self.token, timeout=self.timeout_s,
                                                    alias=f"catalog-store-{uuid.uuid4().hex}")
            return self._client

    @property
    def is_lite(self) -> bool:
        """Milvus Lite (in-process or its TCP server): no HNSW, no aliases. Probed once via GetVersion."""
        if self._lite is None:
            client = self.client
            try:
                client.get_server_version(timeout=self.timeout_s)
                self._lite = False
            except Exception as exc:
                if _is_unimplemented(exc):
                    self._lite = True
                else:
                    raise _map_error(exc, "get_server_version") from exc
        return self._lite

    @property
    def dense_index(self) -> S.DenseIndex:
        return S.resolve_dense_index(self.index_setting, lite=self.is_lite)

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        client = self.client
        with self._mapped(what):
            return fn(client, *args, **kwargs)

    # -- collection lifecycle -----------------------------------------------------------------------------------
    def ensure_collection(self) -> None:
        """Create the collection + indexes if missing, check its dim, load it, point the alias at it if missing.

        Idempotent and safe to race with another process doing the same. An existing alias is never re-pointed.
        """
        lite = self.is_lite
        c = self.client
        t = self.timeout_s
        with self._mapped(f"ensure_collection {self.collection}"):
            if not c.has_collection(self.collection, timeout=t):
                try:
                    # Schema only; indexes follow one by one (a scalar index a server rejects is skipped).
                    c.create_collection(self.collection, schema=S.build_schema(c, self.dim), timeout=t)
                    log.info("created collection %s (dim %d, dense %s)", self.collection, self.dim, self.dense_index)
                except Exception as exc:
                    if not _is_already_exists(exc):
                        raise
            self._check_existing(self.collection)
            self._ensure_indexes(self.collection, lite)
            c.load_collection(self.collection, timeout=t)
        if self.alias_target(self.alias) is None:
            self._create_alias_if_missing(self.alias, self.collection)

    def _check_existing(self, name: str) -> None:
        desc = self.client.describe_collection(name, timeout=self.timeout_s)
        missing = {S.SKU, S.DENSE, S.SPARSE, S.EMBED_TEXT, S.VERSION, S.DELETED} - S.field_names(desc)
        if missing:
            raise StoreError(f"collection {name!r} exists but is not a catalog collection (missing fields "
                             f"{sorted(missing)}); use another CATALOG_MILVUS_COLLECTION", retriable=False)
        dim = S.dense_dim(desc)
        if dim != self.dim:
            raise StoreError(f"collection {name!r} has dense dim {dim} but the embedder produces {self.dim}; "
                             "write to a new collection (CATALOG_MILVUS_COLLECTION) and reindex, or fix "
                             "CATALOG_EMBED_DIM", retriable=False)

    def _ensure_indexes(self, name: str, lite: bool) -> None:
        """Create indexes a crashed earlier ``ensure_collection`` left out (dense and sparse are required to load)."""
        existing = set(self.client.list_indexes(name, timeout=self.timeout_s))
        wanted = {spec["index_name"] for spec in S.index_specs(self.dense_index, lite=lite)}
        missing = wanted - existing
        if not missing:
            return
        if existing:  # a half-built collection may be loaded; index changes need it released
            try:
                self.client.release_collection(name, timeout=self.timeout_s)
            except Exception:  # noqa: BLE001 - not loaded is fine
                pass
        for spec in S.index_specs(self.dense_index, lite=lite):
            if spec["index_name"] not in missing:
                continue
            try:
                self.client.create_index(name, S.index_params(self.dense_index, lite=lite, client=self.client,
                                                               only={spec["index_name"]}),
                                        timeout=self.timeout_s, sync=False)   # load waits for the build
            except Exception as exc:
                if spec["field_name"] in (S.DENSE, S.SPARSE) and not _is_already_exists(exc):
                    raise
                log.warning("skipping scalar index on %s.%s: %s", name, spec["field_name"], exc)

    def drop_collection(self, name: str | None = None) -> None:
        """Drop a physical collection (default: ours). Used by tests and by reindex clean-up."""
        self._call("drop_collection", lambda c: c.drop_collection(name or self.collection, timeout=self.timeout_s))

    # -- alias --------------------------------------------------------------------------------------------------
    def alias_target(self, alias: str | None = None) -> str | None:
        """The collection ``alias`` points at, or None if the alias does not exist."""
        alias = alias or self.alias
        c = self.client
        if not self.is_lite:
            try:
                desc = c.describe_alias(alias, timeout=self.timeout_s)
            except Exception as exc:
                if _is_not_found(exc):
                    return None
                raise _map_error(exc, f"describe_alias {alias}") from exc
            return desc.get("collection_name") or None
        with self._mapped(f"resolve alias {alias}"):
            self._ensure_registry()
            rows = c.query(ALIAS_REGISTRY, filter=f"{_REGISTRY_ALIAS} == {escape_string(alias)}",
                           output_fields=[_REGISTRY_TARGET], consistency_level="Strong", timeout=self.timeout_s)
        return rows[0][_REGISTRY_TARGET] if rows else None

    def resolve_alias(self, alias: str | None = None) -> str:
        """The collection searchers must read for ``alias`` (default: ours); a missing alias is a StoreError."""
        alias = alias or self.alias
        target = self.alias_target(alias)
        if target is None:
            raise StoreError(f"alias {alias!r} does not exist yet (run the ingest worker or "
                             "`ensure_collection` first)", retriable=False)
        return target

    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` (create or switch; one atomic operation in both modes)."""
        if not _NAME_RE.match(alias):
            raise ConfigError(f"invalid alias name {alias!r}")
        c = self.client
        with self._mapped(f"set_alias {alias} -> {collection}"):
            if not c.has_collection(collection, timeout=self.timeout_s):
                raise StoreError(f"cannot point alias {alias!r} at missing collection {collection!r}",
                                 retriable=False)
            if self.is_lite:
                self._ensure_registry()
                c.upsert(ALIAS_REGISTRY, [self._registry_row(alias, collection)], timeout=self.timeout_s)
            elif self.alias_target(alias) is None:
                c.create_alias(collection, alias, timeout=self.timeout_s)
            else:
                c.alter_alias(collection, alias, timeout=self.timeout_s)
        log.info("alias %s -> %s", alias, collection)

    def drop_alias(self, alias: str | None = None) -> None:
        alias = alias or self.alias
        c = self.client
        with self._mapped(f"drop_alias {alias}"):
            if self.is_lite:
                if c.has_collection(ALIAS_REGISTRY, timeout=self.timeout_s):
                    c.delete(ALIAS_REGISTRY, filter=f"{_REGISTRY_ALIAS} == {escape_string(alias)}",
                             timeout=self.timeout_s)
            else:
                try:
                    c.drop_alias(alias, timeout=self.timeout_s)
                except Exception as exc:
                    if not _is_not_found(exc):
                        raise

    def _create_alias_if_missing(self, alias: str, collection: str) -> None:
        c = self.client
        with self._mapped(f"create alias {alias}"):
            if not self.is_lite:
                try:
                    c.create_alias(collection, alias, timeout=self.timeout_s)
                except Exception as exc:
                    if not _is_already_exists(exc):   # another process won the race: leave its alias alone
                        raise
                log.info("alias %s -> %s", alias, collection)
                return
            self._ensure_registry()
            # Single-row insert-if-absent: re-check just before writing; a lost race re-writes the same target.
            rows = c.query(ALIAS_REGISTRY, filter=f"{_REGISTRY_ALIAS} == {escape_string(alias)}",
                           output_fields=[_REGISTRY_TARGET], consistency_level="Strong", timeout=self.timeout_s)
            if not rows:
                c.upsert(ALIAS_REGISTRY, [self._registry_row(alias, collection)], timeout=self.timeout_s)
                log.info("alias %s -> %s (registry)", alias, collection)

    @staticmethod
    def _registry_row(alias: str, collection: str) -> dict[str, Any]:
        return {_REGISTRY_ALIAS: alias, _REGISTRY_TARGET: collection, _REGISTRY_UPDATED: int(time.time() * 1000),
                _REGISTRY_VECTOR: [1.0, 0.0]}

    def _ensure_registry(self) -> None:
        """Create and load the alias registry collection (Lite only); raw exceptions, callers map them."""
        c = self.client
        if c.has_collection(ALIAS_REGISTRY, timeout=self.timeout_s):
            state = c.get_load_state(ALIAS_REGISTRY, timeout=self.timeout_s).get("state")
            if getattr(state, "name", str(state)) != "Loaded":
                c.load_collection(ALIAS_REGISTRY, timeout=self.timeout_s)
            return
        from pymilvus import DataType
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False,
                                 description="alias -> collection (Milvus Lite has no aliases)")
        schema.add_field(_REGISTRY_ALIAS, DataType.VARCHAR, max_length=256, is_primary=True)
        schema.add_field(_REGISTRY_TARGET, DataType.VARCHAR, max_length=256)
        schema.add_field(_REGISTRY_UPDATED, DataType.INT64)
        schema.add_field(_REGISTRY_VECTOR, DataType.FLOAT_VECTOR, dim=2)
        params = c.prepare_index_params()
        params.add_index(_REGISTRY_VECTOR, index_type="FLAT", metric_type="L2")
        try:
            c.create_collection(ALIAS_REGISTRY, schema=schema, index_params=params, timeout=self.timeout_s)
        except Exception as exc:
            if not _is_already_exists(exc):
                raise
            c.load_collection(ALIAS_REGISTRY, timeout=self.timeout_s)

    # -- rows ---------------------------------------------------------------------------------------------------
    def fetch(self, skus: Sequence[str]) -> dict[str, Product]:
        unique = list(dict.fromkeys(skus))
        out: dict[str, Product] = {}
        c = self.client
        fields = [*S.PRODUCT_FIELDS, S.DENSE]
        for start in range(0, len(unique), FETCH_CHUNK):
            chunk = unique[start:start + FETCH_CHUNK]
            with self._mapped(f"fetch from {self.collection}"):
                try:
                    rows = c.query(self.collection, filter=in_filter(S.SKU, chunk), output_fields=fields,
                                   limit=len(chunk), consistency_level="Strong", timeout=self.timeout_s)
                except Exception as exc:
                    if not (self.is_lite and _LITE_EMPTY_RESULT_ERROR in str(exc)):
                        raise
                    rows = []
            for row in rows:
                product = self._row_to_product(row)
                out[product.sku] = product
        return out

    def upsert(self, products: Sequence[Product]) -> None:
        if not products:
            return
        latest: dict[str, Product] = {}
        for p in products:                       # one row per sku per request: the last one wins
            latest[p.sku] = p
        rows = [self._product_to_row(p) for p in latest.values()]
        c = self.client
        if self.is_lite:
            quoted = [sku for sku in latest if "'" in sku]
            if quoted:
                # Milvus Lite 2.5.1 fails upsert/delete of primary keys containing ' with "internal error" (code 5)
                # every time (insert works but would duplicate rows), so refuse up front instead of retrying.
                raise StoreError(f"Milvus Lite cannot upsert skus containing a single quote: {quoted[:5]!r}; use a "
                                 "Milvus server for such catalogs", retriable=False)
        with self._mapped(f"upsert into {self.collection}"):
            c.upsert(self.collection, rows, timeout=self.timeout_s)

    def counts(self) -> StoreCounts:
        c = self.client
        with self._mapped(f"count {self.collection}"):
            live = c.query(self.collection, filter=f"{S.DELETED} == false", output_fields=["count(*)"],
                           consistency_level="Strong", timeout=self.timeout_s)
            dead = c.query(self.collection, filter=f"{S.DELETED} == true", output_fields=["count(*)"],
                           consistency_level="Strong", timeout=self.timeout_s)
        return StoreCounts(live=int(live[0]["count(*)"]), tombstoned=int(dead[0]["count(*)"]))

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception as exc:  # noqa: BLE001 - closing must not fail shutdown
                log.debug("closing milvus client: %s", exc)

    def __enter__(self) -> "MilvusStore":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- row mapping --------------------------------------------------------------------------------------------
    def _product_to_row(self, p: Product) -> dict[str, Any]:
        if p.vector is None:
            if not p.deleted:
                raise StoreError(f"sku {p.sku!r}: live product without a vector cannot be stored", retriable=False)
            vector = [0.0] * self.dim
        else:
            arr = np.asarray(p.vector, dtype=np.float32).reshape(-1)
            if arr.shape[0] != self.dim:
                raise StoreError(f"sku {p.sku!r}: vector has {arr.shape[0]} dims, collection {self.collection!r} "
                                 f"has {self.dim}", retriable=False)
            vector = arr.tolist()
        text = _truncate_utf8(embed_text(p, embed_attributes=self.embed_attributes), limits.EMBED_TEXT_MAX_BYTES)
        return {
            S.SKU: p.sku,
            S.TENANT: p.tenant,
            S.LOCALE: p.locale,
            S.TITLE: p.title,
            S.DESCRIPTION: p.description,
            S.EMBED_TEXT: text,
            S.BRAND: p.brand,
            S.CATEGORY: p.category,
            S.CATEGORY_LEVELS: p.category_levels[: limits.CATEGORY_MAX_LEVELS],
            S.PRICE: float(p.price),
            S.CURRENCY: p.currency,
            S.IN_STOCK: bool(p.in_stock),
            S.ATTRIBUTES: dict(p.attributes),
            S.VERSION: int(p.version),
            S.DELETED: bool(p.deleted),
            S.TEXT_HASH: p.text_hash,
            S.UPDATED_AT_MS: int(p.updated_at_ms),
            S.DENSE: vector,
        }

    @staticmethod
    def _row_to_product(row: dict[str, Any]) -> Product:
        attributes = row.get(S.ATTRIBUTES) or {}
        if isinstance(attributes, (str, bytes)):
            attributes = json.loads(attributes)
        return Product(
            sku=row[S.SKU],
            version=int(row[S.VERSION]),
            deleted=bool(row[S.DELETED]),
            tenant=row.get(S.TENANT, ""),
            locale=row.get(S.LOCALE, ""),
            title=row.get(S.TITLE, ""),
            description=row.get(S.DESCRIPTION, ""),
            brand=row.get(S.BRAND, ""),
            category=row.get(S.CATEGORY, ""),
            price=float(row.get(S.PRICE, 0.0)),
            currency=row.get(S.CURRENCY, ""),
            in_stock=bool(row.get(S.IN_STOCK, False)),
            attributes=attributes,
            text_hash=row.get(S.TEXT_HASH, ""),
            updated_at_ms=int(row.get(S.UPDATED_AT_MS, 0)),
            vector=np.asarray(row[S.DENSE], dtype=np.float32),
        )
