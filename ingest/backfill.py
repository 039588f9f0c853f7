"""Backfill from a JSON Lines file through the same batching, validation, diff, embedding and upsert code.

Each line is an event of the contract, or a plain product record (no ``op``), which becomes an upsert with
``default_version`` unless it carries its own ``version`` (and price 0.0 when it has none). Lines that fail
validation are written, with the reason and line number, to a rejects file: nothing is dropped silently.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from tqdm import tqdm

from catalog_search.ingest.batcher import Batcher
from catalog_search.core.dead_letters import DeadLetter
from catalog_search.ingest.processor import BatchProcessor, Counters
from catalog_search.core.records import SourceRecord


class FileDeadLetterSink:
    """Appends dead-letter envelopes (JSON Lines) to a file, fsynced before ``publish`` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        with self.path.open("ab") as out:
            for letter in letters:
                out.write(letter.to_bytes() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        self.count += len(letters)


def read_records(path: Path, *, default_version: int) -> Iterator[SourceRecord]:
    """Lines as source records (offset = 1-based line number); plain product records are wrapped as upserts."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            yield SourceRecord(topic=f"file:{path.name}", partition=0, offset=number, key=None,
                               value=_as_event(line, default_version))


def _as_event(line: bytes, default_version: int) -> bytes:
    try:
        data = json.loads(line)
    except ValueError:
        return line                      # validation reports it with the parser's message
    if isinstance(data, dict) and "op" not in data and "sku" in data:
        data = {"op": "upsert", "version": default_version, "price": 0.0, **data}
        return json.dumps(data, ensure_ascii=False).encode("utf-8")
    return line


def feed(records: Iterable[SourceRecord], processor: BatchProcessor, batcher: Batcher) -> Counters:
    """The one offline feeding loop (file backfill, reindex replay): records -> size-closed batches -> processor.

    Offline sources have no arrival time worth waiting for, so only size closes a batch (``now`` is always 0).
    """
    totals = Counters()
    for record in records:
        for batch in batcher.offer(record, 0.0):
            totals.add(processor.process(batch))
    remaining = batcher.drain()
    if remaining:
        totals.add(processor.process(remaining))
    return totals


def backfill(path: Path, processor: BatchProcessor, batcher: Batcher, *, default_version: int = 1,
             progress: bool = True) -> Counters:
    size = path.stat().st_size
    with tqdm(total=size, unit="B", unit_scale=True, desc=f"ingest {path.name}", disable=not progress) as bar:
        return feed(_with_progress(read_records(path, default_version=default_version), bar), processor, batcher)


def _with_progress(records: Iterable[SourceRecord], bar: tqdm) -> Iterator[SourceRecord]:
    for count, record in enumerate(records, start=1):
        bar.update(len(record.value or b"") + 1)
        bar.set_postfix(events=count, refresh=False)
        yield record
