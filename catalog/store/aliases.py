"""The alias searchers read, in both Milvus modes: native aliases on a Milvus server, a registry on Milvus Lite.

Milvus Lite 2.5.1 answers alias RPCs with gRPC UNIMPLEMENTED, so there an alias is a row of a tiny registry
collection (``_catalog_aliases``: alias name -> collection name). ``NativeAliases`` and ``LiteAliasRegistry`` offer
the same operations over one connected ``MilvusClient``; ``MilvusStore`` picks one by mode and maps the raw
pymilvus exceptions they raise (``NativeAliases.target`` maps its own, like a ``describe_alias`` call).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from catalog.store.milvus_errors import NO_CLIENT_RETRY, is_already_exists, is_not_found, map_error
from catalog.store.rows import escape_string

log = logging.getLogger(__name__)

ALIAS_REGISTRY = "_catalog_aliases"
_REGISTRY_ALIAS = "alias"
_REGISTRY_TARGET = "collection"
_REGISTRY_UPDATED = "updated_at_ms"
_REGISTRY_VECTOR = "v"          # Milvus requires one vector field per collection


class NativeAliases:
    """Milvus server aliases."""

    def __init__(self, client: Any, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    def target(self, alias: str) -> str | None:
        """The collection ``alias`` points at, or None if the alias does not exist (other errors: StoreError)."""
        try:
            desc = self.client.describe_alias(alias, timeout=self.timeout_s, **NO_CLIENT_RETRY)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise map_error(exc, f"describe_alias {alias}") from exc
        return desc.get("collection_name") or None

    def set(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` (create or switch: one atomic RPC)."""
        if self.target(alias) is None:
            self.client.create_alias(collection, alias, timeout=self.timeout_s, **NO_CLIENT_RETRY)
        else:
            self.client.alter_alias(collection, alias, timeout=self.timeout_s, **NO_CLIENT_RETRY)

    def set_if_missing(self, alias: str, collection: str) -> None:
        """Create ``alias``; if another process won the race, leave its alias alone."""
        try:
            self.client.create_alias(collection, alias, timeout=self.timeout_s, **NO_CLIENT_RETRY)
        except Exception as exc:
            if not is_already_exists(exc):
                raise
        log.info("alias %s -> %s", alias, collection)

    def delete(self, alias: str) -> None:
        """Drop ``alias`` (a missing one is fine)."""
        try:
            self.client.drop_alias(alias, timeout=self.timeout_s, **NO_CLIENT_RETRY)
        except Exception as exc:
            if not is_not_found(exc):
                raise


class LiteAliasRegistry:
    """Alias rows in the ``ALIAS_REGISTRY`` collection of one Milvus Lite client (created on first use)."""

    def __init__(self, client: Any, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    def target(self, alias: str) -> str | None:
        """The collection ``alias`` points at, or None if the alias does not exist."""
        self.ensure()
        rows = self.client.query(ALIAS_REGISTRY, filter=f"{_REGISTRY_ALIAS} == {escape_string(alias)}",
                                 output_fields=[_REGISTRY_TARGET], consistency_level="Strong",
                                 timeout=self.timeout_s, **NO_CLIENT_RETRY)
        return rows[0][_REGISTRY_TARGET] if rows else None

    def set(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` (create or switch: one upsert)."""
        self.ensure()
        self.client.upsert(ALIAS_REGISTRY, [self._row(alias, collection)], timeout=self.timeout_s, **NO_CLIENT_RETRY)

    def set_if_missing(self, alias: str, collection: str) -> None:
        """Single-row insert-if-absent: re-check just before writing; a lost race re-writes the same target."""
        if self.target(alias) is None:
            self.client.upsert(ALIAS_REGISTRY, [self._row(alias, collection)], timeout=self.timeout_s, **NO_CLIENT_RETRY)
            log.info("alias %s -> %s (registry)", alias, collection)

    def delete(self, alias: str) -> None:
        """Remove ``alias`` (a missing alias or registry is fine)."""
        if self.client.has_collection(ALIAS_REGISTRY, timeout=self.timeout_s, **NO_CLIENT_RETRY):
            self.client.delete(ALIAS_REGISTRY, filter=f"{_REGISTRY_ALIAS} == {escape_string(alias)}",
                               timeout=self.timeout_s, **NO_CLIENT_RETRY)

    @staticmethod
    def _row(alias: str, collection: str) -> dict[str, Any]:
        return {_REGISTRY_ALIAS: alias, _REGISTRY_TARGET: collection, _REGISTRY_UPDATED: int(time.time() * 1000),
                _REGISTRY_VECTOR: [1.0, 0.0]}

    def ensure(self) -> None:
        """Create and load the registry collection; safe to race with another process doing the same."""
        c = self.client
        if c.has_collection(ALIAS_REGISTRY, timeout=self.timeout_s, **NO_CLIENT_RETRY):
            state = c.get_load_state(ALIAS_REGISTRY, timeout=self.timeout_s, **NO_CLIENT_RETRY).get("state")
            if getattr(state, "name", str(state)) != "Loaded":
                c.load_collection(ALIAS_REGISTRY, timeout=self.timeout_s, **NO_CLIENT_RETRY)
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
            c.create_collection(ALIAS_REGISTRY, schema=schema, index_params=params, timeout=self.timeout_s, **NO_CLIENT_RETRY)
        except Exception as exc:
            if not is_already_exists(exc):
                raise
            c.load_collection(ALIAS_REGISTRY, timeout=self.timeout_s, **NO_CLIENT_RETRY)
