"""Fill the new collection from the live one or from a backfill file, through the real ingest code.

* ``copy_rows``: same model, dim and embedded text -> the stored rows (vector, text hash, version, tombstones) are
  upserted into the new collection as they are: no model call, nothing changes but the collection and its index.
* ``replay_rows``: anything else -> each row becomes the event that recreates it (same version; a tombstone becomes a
  delete) and goes through ``BatchProcessor``: validation, embedding with the new model, whole-row upserts.
* ``from_file``: ``ingest.backfill`` with the new model, exactly as ``catalog-search ingest file`` runs it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from catalog_search.core.product import Product
from catalog_search.core.store import VectorStore
from catalog_search.ingest.backfill import backfill, feed
from catalog_search.ingest.batcher import Batcher
from catalog_search.ingest.processor import BatchProcessor
from catalog_search.core.records import SourceRecord
from catalog_search.ingest.reindex.plan import row_event
from catalog_search.ingest.retry import RetryPolicy

log = logging.getLogger(__name__)


class Interrupted(Exception):
    """The build was asked to stop; the new collection is incomplete (and not served)."""


@dataclass
class BuildResult:
    source: str                   # "collection NAME" or "file PATH"
    rows: int = 0                 # rows read from the source (records of a file)
    copied_vectors: int = 0       # rows written with their stored vector
    embedded_texts: int = 0       # texts sent to the new model
    rejected: int = 0             # rows/records the ingest code refused (reasons in the rejects file)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "rows": self.rows, "copied_vectors": self.copied_vectors,
                "embedded_texts": self.embedded_texts, "rejected": self.rejected, "seconds": round(self.seconds, 2)}


def copy_rows(pages: Iterable[list[Product]], store: VectorStore, retry: RetryPolicy, *, source: str,
              stop: threading.Event | None = None) -> BuildResult:
    started = time.monotonic()
    result = BuildResult(source=source)
    for page in pages:
        _check(stop)
        retry.call("copy rows into the new collection", lambda page=page: store.upsert(page))
        result.rows += len(page)
        result.copied_vectors += sum(1 for p in page if p.vector is not None and not p.deleted)
        log.info("copied %d rows", result.rows)
    result.seconds = time.monotonic() - started
    return result


def replay_rows(pages: Iterable[list[Product]], processor: BatchProcessor, batcher: Batcher, *, source: str,
                stop: threading.Event | None = None) -> BuildResult:
    started = time.monotonic()
    totals = feed(_row_records(pages, source, stop), processor, batcher)
    return BuildResult(source=source, rows=totals.events, embedded_texts=totals.embedded_texts,
                       rejected=totals.dead_lettered, seconds=time.monotonic() - started)


def _row_records(pages: Iterable[list[Product]], source: str, stop: threading.Event | None) -> Iterator[SourceRecord]:
    """Each stored row as the source record of the event that recreates it; a stop request ends it between pages."""
    offset = 0
    for page in pages:
        _check(stop)
        for product in page:
            offset += 1
            yield SourceRecord(topic=source, partition=0, offset=offset, key=product.sku.encode("utf-8"),
                               value=row_event(product))
        log.info("replayed %d rows", offset)


def from_file(path: Path, processor: BatchProcessor, batcher: Batcher, *, default_version: int,
              progress: bool) -> BuildResult:
    started = time.monotonic()
    totals = backfill(path, processor, batcher, default_version=default_version, progress=progress)
    return BuildResult(source=f"file {path}", rows=totals.events, embedded_texts=totals.embedded_texts,
                       rejected=totals.dead_lettered, seconds=time.monotonic() - started)


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Interrupted("stopped while building the new collection")
