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

from catalog_search.adapters.milvus.errors import NO_CLIENT_RETRY, is_already_exists, is_not_found, map_error
from catalog_search.core.errors import StoreError
from catalog_search.adapters.milvus.rows import escape_string, in_filter

log = logging.getLogger(__name__)

ALIAS_REGISTRY = "_catalog_aliases"
_REGISTRY_ALIAS = "alias"
_REGISTRY_TARGET = "collection"
_REGISTRY_UPDATED = "updated_at_ms"
_REGISTRY_VECTOR = "v"          # Milvus requires one vector field per collection
_REGISTRY_KEY_MAX = 256
_GENERATION_SEP = "@"
_GENERATION_DIGITS = 12


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
    """Alias rows in the ``ALIAS_REGISTRY`` collection of one Milvus Lite client (created on first use).

    A Milvus upsert is a delete plus an insert, and a concurrent query can land between the two (measured on Lite
    2.5.1: about one read in seven during repeated switches found no row), so a switch never rewrites a row: it
    inserts a row of the next generation (key ``alias@000000000042``) and only then deletes the older ones. A reader
    takes the highest generation, so it sees the old target or the new one, never none. A row keyed by the bare
    alias (written before generations) counts as the oldest generation.
    """

    def __init__(self, client: Any, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    def target(self, alias: str) -> str | None:
        """The collection ``alias`` points at, or None if the alias does not exist."""
        self.ensure()
        rows = self._generations(alias)
        return rows[-1][2] if rows else None

    def set(self, alias: str, collection: str) -> None:
        """Point ``alias`` at ``collection`` (create or switch): one insert of the next generation, then clean-up."""
        self.ensure()
        older = self._generations(alias)
        self._insert(alias, older[-1][0] + 1 if older else 0, collection)
        if older:
            self._delete_keys([key for _, key, _ in older])

    def set_if_missing(self, alias: str, collection: str) -> None:
        """Single-row insert-if-absent: re-check just before writing; a lost race re-writes the same target."""
        if self.target(alias) is None:
            self._insert(alias, 0, collection)
            log.info("alias %s -> %s (registry)", alias, collection)

    def delete(self, alias: str) -> None:
        """Remove ``alias`` (a missing alias or registry is fine)."""
        if self.client.has_collection(ALIAS_REGISTRY, timeout=self.timeout_s, **NO_CLIENT_RETRY):
            self._delete_keys([key for _, key, _ in self._generations(alias)])

    def _generations(self, alias: str) -> list[tuple[int, str, str]]:
        """``(generation, key, collection)`` rows of ``alias``, oldest first."""
        # exact prefix range (LIKE would treat the "_" of alias names as a wildcard)
        expr = (f"{_REGISTRY_ALIAS} == {escape_string(alias)} or ({_REGISTRY_ALIAS} >= "
                f"{escape_string(alias + _GENERATION_SEP)} and {_REGISTRY_ALIAS} < {escape_string(alias + 'A')})")
        rows = self.client.query(ALIAS_REGISTRY, filter=expr, output_fields=[_REGISTRY_ALIAS, _REGISTRY_TARGET],
                                 consistency_level="Strong", timeout=self.timeout_s, **NO_CLIENT_RETRY)
        out = []
        for row in rows:
            key, suffix = row[_REGISTRY_ALIAS], row[_REGISTRY_ALIAS][len(alias) + 1:]
            if key == alias:
                out.append((-1, key, row[_REGISTRY_TARGET]))
            elif key.startswith(alias + _GENERATION_SEP) and suffix.isdigit():
                out.append((int(suffix), key, row[_REGISTRY_TARGET]))
        return sorted(out)

    def _insert(self, alias: str, generation: int, collection: str) -> None:
        key = f"{alias}{_GENERATION_SEP}{generation:0{_GENERATION_DIGITS}d}"
        if len(key) > _REGISTRY_KEY_MAX:
            raise StoreError(f"alias {alias!r} is too long for the Milvus Lite alias registry (at most "
                             f"{_REGISTRY_KEY_MAX - _GENERATION_DIGITS - 1} characters)", retriable=False)
        self.client.insert(ALIAS_REGISTRY, [self._row(key, collection)], timeout=self.timeout_s, **NO_CLIENT_RETRY)

    def _delete_keys(self, keys: list[str]) -> None:
        if keys:
            self.client.delete(ALIAS_REGISTRY, filter=in_filter(_REGISTRY_ALIAS, keys), timeout=self.timeout_s,
                               **NO_CLIENT_RETRY)

    @staticmethod
    def _row(key: str, collection: str) -> dict[str, Any]:
        return {_REGISTRY_ALIAS: key, _REGISTRY_TARGET: collection, _REGISTRY_UPDATED: int(time.time() * 1000),
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
        schema.add_field(_REGISTRY_ALIAS, DataType.VARCHAR, max_length=_REGISTRY_KEY_MAX, is_primary=True)
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
