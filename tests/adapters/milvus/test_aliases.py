"""The Milvus Lite alias registry switches atomically: a concurrent reader sees the old or the new target, never none.

(A registry upsert is a delete plus an insert in Milvus; a reader between the two found no alias about one time in
seven before switches became insert-then-delete generations.)
"""

from __future__ import annotations

import threading
import time

import pytest

from catalog_search.core.errors import StoreError
from catalog_search.adapters.milvus.aliases import ALIAS_REGISTRY, LiteAliasRegistry


def test_a_reader_never_sees_the_alias_missing_during_switches(milvus_store):
    v1 = milvus_store()
    v2 = milvus_store(alias=v1.alias)
    if not v1.is_lite:
        pytest.skip("native aliases on a Milvus server")
    reader = milvus_store(collection=v1.collection, alias=v1.alias, ensure=False)
    seen: list[str | None] = []
    stop = threading.Event()

    def read():
        while not stop.is_set():
            seen.append(reader.alias_target())

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for i in range(30):
            v1.set_alias(v1.alias, (v2 if i % 2 == 0 else v1).collection)
            time.sleep(0.005)
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 20 and set(seen) <= {v1.collection, v2.collection}
    assert v1.alias_target() == v1.collection             # the last switch (i = 29) went back to v1
    registry = v1.client.query(ALIAS_REGISTRY, filter=f'alias >= "{v1.alias}@" and alias < "{v1.alias}A"',
                               output_fields=["alias"], consistency_level="Strong")
    assert len(registry) == 1                            # older generations are cleaned up


def test_rows_of_the_bare_alias_key_still_resolve_and_are_replaced(milvus_store):
    store = milvus_store()
    if not store.is_lite:
        pytest.skip("native aliases on a Milvus server")
    other = milvus_store(alias=f"{store.alias}_x")            # a name that extends ours is a different alias
    registry = LiteAliasRegistry(store.client, 10)
    store.drop_alias()
    store.client.insert(ALIAS_REGISTRY, [LiteAliasRegistry._row(store.alias, store.collection)])   # pre-generation
    assert store.alias_target() == store.collection
    store.set_alias(store.alias, other.collection)
    assert store.alias_target() == other.collection and other.alias_target() == other.collection
    assert [key for _, key, _ in registry._generations(store.alias)] == [f"{store.alias}@000000000000"]
    store.drop_alias()
    assert store.alias_target() is None and other.alias_target() == other.collection
    with pytest.raises(StoreError, match="too long"):
        store.set_alias("a" * 250, store.collection)
