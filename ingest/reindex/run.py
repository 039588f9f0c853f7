"""The reindex, phase by phase: check, capture offsets, build, catch up, gate, swap, follow, drop.

``live`` settings describe what runs now (the alias, the ingest group, the model of the live collection); ``new``
settings are the same with the new collection, model, dim or index. Searches read the alias, which moves with one
atomic ``set_alias`` at the very end and only if the gate passed; until then they see the live collection only.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog_search.core.errors import ConfigError, StoreError
from catalog_search.core.settings import Settings
from catalog_search.core.event_log import EventLog
from catalog_search.core.store import CatalogStore, StoreFactory, VectorStore
from catalog_search.ingest.backfill import FileDeadLetterSink
from catalog_search.ingest.metrics import IngestMetrics
from catalog_search.ingest.parts import make_batcher, make_retry
from catalog_search.ingest.processor import BatchProcessor, DeadLetterSink
from catalog_search.ingest.reindex import build as B
from catalog_search.ingest.reindex import plan as P
from catalog_search.ingest.reindex.catchup import Follower
from catalog_search.ingest.reindex.source import live_dim, live_rows

log = logging.getLogger(__name__)
DROP_GRACE_S = 10.0          # searchers re-resolve the alias every 5 s: let them move before the old one goes
# what a reindex may change, so what the new ingest workers must be told (``reindex --embed-* / --index / --bm25-*``)
MODEL_SETTINGS = ("embed_backend", "embed_model", "embed_base_url", "embed_dim", "milvus_index", "bm25_analyzer")
Phase = Callable[[str, dict[str, Any]], None]
ModelId = Callable[[Settings], str]       # the embedding model id the settings select (decides carrying vectors)


@dataclass(frozen=True)
class Backends:
    """What the reindex needs of the outside world, built by the app shell (this pipeline names no adapter)."""

    stores: StoreFactory                  # the catalog store of given settings
    model_id: ModelId
    processor: Callable[[Settings, DeadLetterSink, VectorStore, IngestMetrics], BatchProcessor]
    event_log: Callable[[Settings, str], EventLog]          # the topic in the given consumer group
    # (committed offset or None, first offset) per partition of the topic, for the live group
    group_offsets: Callable[[Settings], tuple[dict[int, int | None], dict[int, int]]]


@dataclass(frozen=True)
class ReindexOptions:
    gate: P.Scorer | None                 # the judged set's scorer; None: no gate (--skip-gate)
    max_drop: float = 0.0
    from_file: Path | None = None         # build from this JSON Lines file instead of the live collection
    default_version: int = 1
    swap: bool = True
    follow: bool = False
    drop_old: bool = False
    overwrite: bool = False
    re_embed: bool = False
    kafka: bool = True                    # catch up from Kafka (off: the catalog is maintained by files only)
    replay_from: str = "committed"
    group: str | None = None
    idle_s: float = 2.0
    catch_up_timeout_s: float = 600.0
    drop_grace_s: float = DROP_GRACE_S
    rejects: Path | None = None
    progress: bool = False


@dataclass
class ReindexResult:
    alias: str
    old: str
    new: str
    group: str
    vectors: str = ""
    build: B.BuildResult | None = None
    catch_up: dict[str, int] = field(default_factory=dict)
    gate: P.GateResult | None = None
    swapped: bool = False
    dropped_old: bool = False
    rejects: str = ""                     # where refused rows and events went (only written when there are any)
    next_steps: list[str] = field(default_factory=list)

    @property
    def gate_failed(self) -> bool:
        return self.gate is not None and not self.gate.passed

    def as_dict(self) -> dict[str, Any]:
        return {"alias": self.alias, "old": self.old, "new": self.new, "group": self.group, "vectors": self.vectors,
                "build": self.build.as_dict() if self.build else None, "catch_up": self.catch_up,
                "gate": self.gate.as_dict() if self.gate else None, "swapped": self.swapped,
                "dropped_old": self.dropped_old, "rejects": self.rejects, "next_steps": self.next_steps}


def reindex(live: Settings, new: Settings, opts: ReindexOptions, *, backends: Backends,
            on_phase: Phase | None = None, stop: threading.Event | None = None) -> ReindexResult:
    """Run the phases with the stores, models and event log ``backends`` opens (from the app shell)."""
    stores, model_id = backends.stores, backends.model_id
    phase = on_phase or (lambda name, info: log.info("reindex phase %s %s", name, info))
    stop = stop or threading.Event()
    if new.milvus.alias != live.milvus.alias:
        raise ConfigError("the new settings must keep the search alias")
    alias, target = live.milvus.alias, new.milvus.collection
    store = stores(live)
    # the new collection gets an alias of its own (the gate searches through it): creating it can never touch the
    # live alias, even one that vanished meanwhile
    preview = new.replace(**{"milvus_alias": f"{target}_preview"})
    new_store = stores(preview)
    follower: Follower | None = None
    processor: BatchProcessor | None = None
    try:
        old = _check(live, store, target, opts)
        group = opts.group or P.catchup_group(live.kafka.group, target)
        result = ReindexResult(alias=alias, old=old, new=target, group=group)
        carry, result.vectors = _vectors(live, new, old, opts, model_id)

        offsets = P.start_offsets(*backends.group_offsets(live), replay_from=opts.replay_from) if opts.kafka else {}
        phase("build", {"old": old, "new": target, "vectors": result.vectors, "offsets": offsets})
        metrics = IngestMetrics()
        make_retry(new, metrics).call("create the new collection", new_store.ensure_collection)
        sink = FileDeadLetterSink(opts.rejects or Path(f"{target}.reindex-rejects.jsonl"))
        result.rejects = str(sink.path)
        # one processor (one embedder of the new model) for the build and the catch-up
        processor = backends.processor(new, sink, new_store, metrics)
        result.build = _build(new, store, new_store, old, opts, carry, processor, metrics, stop)
        phase("built", result.build.as_dict())

        if opts.kafka:
            follower = Follower(backends.event_log(new, group), new.kafka.topic, offsets, processor, make_batcher(new),
                                idle_s=opts.idle_s)
            follower.start()
            phase("catch-up", {"group": group})
            follower.wait_caught_up(opts.catch_up_timeout_s)
            result.catch_up = follower.counters.as_dict()

        if opts.gate is not None:
            phase("gate", {"queries": opts.gate.queries})
            result.gate = _gate(live, preview, opts)
            phase("gated", result.gate.as_dict())
        if result.gate_failed or not opts.swap:
            return _finish(result, follower, live, new)

        if store.alias_target(alias) != old:
            raise StoreError(f"alias {alias!r} was moved by someone else during the reindex; not swapping",
                             retriable=False)
        if follower is not None:
            follower.wait_caught_up(opts.catch_up_timeout_s)
        store.set_alias(alias, target)          # the one atomic switch
        result.swapped = True
        phase("swapped", {"alias": alias, "new": target, "old": old})
        if opts.drop_old:
            time.sleep(opts.drop_grace_s)
            store.drop_collection(old)
            result.dropped_old = True
            phase("dropped", {"old": old})
        if opts.follow and follower is not None:
            result.next_steps = _steps(result, live, new, following=True)
            phase("follow", {"group": group, "next_steps": result.next_steps})
            with contextlib.suppress(KeyboardInterrupt):
                while follower.alive and not stop.wait(0.5):
                    pass
        return _finish(result, follower, live, new)
    finally:
        if follower is not None:
            with contextlib.suppress(Exception):
                follower.stop()
        with contextlib.suppress(Exception):
            new_store.drop_alias()
        if processor is not None:
            with contextlib.suppress(Exception):
                processor.close()
        store.close()
        new_store.close()


def _check(live: Settings, store: CatalogStore, target: str, opts: ReindexOptions) -> str:
    old = store.alias_target(live.milvus.alias)
    if old is None:
        raise ConfigError(f"alias {live.milvus.alias!r} does not exist: there is no live collection to reindex "
                          "(the first collection is created by `catalog-search ingest`)")
    P.check_target(alias=live.milvus.alias, live=old, target=target, ingest_collection=live.milvus.collection)
    dim = live_dim(store, old)
    if dim != live.embed.vector_dim:
        raise ConfigError(f"the live collection {old!r} has {dim}-d vectors but CATALOG_EMBED_* give "
                          f"{live.embed.vector_dim}: "
                          "CATALOG_* must describe the live deployment, the new model goes in the --embed-* options")
    if store.collection_exists(target):
        if not opts.overwrite:
            raise ConfigError(f"collection {target!r} already exists; pass --overwrite to drop and rebuild it")
        store.drop_collection(target)
    return old


def _vectors(live: Settings, new: Settings, old: str, opts: ReindexOptions,
             model_id: ModelId) -> tuple[bool, str]:
    if opts.from_file is not None:
        return False, f"embedding the records of {opts.from_file}"
    before = P.Side(old, model_id(live), live.embed.vector_dim, tuple(live.embed.attributes))
    after = P.Side(new.milvus.collection, model_id(new), new.embed.vector_dim, tuple(new.embed.attributes))
    return P.vectors_reusable(before, after,
                              force_re_embed=opts.re_embed)


def _build(new: Settings, store: CatalogStore, new_store: CatalogStore, old: str, opts: ReindexOptions, carry: bool,
           processor: BatchProcessor, metrics: IngestMetrics, stop: threading.Event) -> B.BuildResult:
    if opts.from_file is not None:
        return B.from_file(opts.from_file, processor, make_batcher(new), default_version=opts.default_version,
                           progress=opts.progress)
    pages = live_rows(store, old)
    if carry:
        return B.copy_rows(pages, new_store, make_retry(new, metrics), source=f"collection {old}", stop=stop)
    return B.replay_rows(pages, processor, make_batcher(new), source=f"collection {old}", stop=stop)


def _gate(live: Settings, preview: Settings, opts: ReindexOptions) -> P.GateResult:
    assert opts.gate is not None
    before = opts.gate.score(live)             # through the alias: the live collection
    after = opts.gate.score(preview)           # through the new collection's own alias
    return P.GateResult(before, after, opts.max_drop)


def _steps(result: ReindexResult, live: Settings, new: Settings, *, following: bool) -> list[str]:
    changed = [f"CATALOG_{name.upper()}={new.value(name)}" for name in MODEL_SETTINGS
               if new.value(name) != live.value(name) and new.value(name) is not None]
    return P.next_steps(alias=result.alias, old=result.old, new=result.new, group=result.group, model_env=changed,
                        swapped=result.swapped, following=following, dropped=result.dropped_old)


def _finish(result: ReindexResult, follower: Follower | None, live: Settings, new: Settings) -> ReindexResult:
    if follower is not None:
        result.catch_up = follower.stop().as_dict()
    result.next_steps = _steps(result, live, new, following=False)
    return result
