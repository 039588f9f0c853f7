"""``dlq replay``: re-publish dead letters to the topic they came from, once the cause is fixed.

Without selectors it reads the dead-letter topic in its own consumer group (so each letter is replayed once),
produces the original key and value to the original topic, and commits only after the broker acknowledged the
re-published records. A letter that fails again simply comes back to the dead-letter topic with its new reason.

With selectors (``--reason``, ``--partition``, ``--from-offset``/``--to-offset``) or ``--dry-run`` it reads the topic
by hand from the given offsets, without a consumer group, and moves no position: letters left out stay replayable
by a later run, and a selection can be replayed again. ``--dry-run`` produces nothing and lists what it would replay.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from catalog_search.adapters.kafka import ensure_topics, make_event_log, make_producer, send_all
from catalog_search.core.dead_letters import original_bytes, parse_envelope
from catalog_search.core.event_log import Partition
from catalog_search.core.records import SourceRecord
from catalog_search.core.settings import Settings

log = logging.getLogger(__name__)
JOIN_GRACE_S = 30.0
LISTED_MAX = 1000            # letters a dry run lists one by one (all are counted)


@dataclass(frozen=True)
class Selection:
    """Which dead letters to replay: any of ``reasons`` (case-insensitive substrings of the recorded reason), in
    ``partition`` of the dead-letter topic, at offsets ``from_offset``..``to_offset`` (inclusive). Empty: all."""

    reasons: tuple[str, ...] = ()
    partition: int | None = None
    from_offset: int | None = None
    to_offset: int | None = None

    def __post_init__(self) -> None:
        for name in ("partition", "from_offset", "to_offset"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name.replace('_', '-')} must be >= 0, got {value}")
        if self.from_offset is not None and self.to_offset is not None and self.to_offset < self.from_offset:
            raise ValueError(f"to-offset {self.to_offset} is below from-offset {self.from_offset}")
        if any(not r.strip() for r in self.reasons):
            raise ValueError("reason must not be empty")

    @property
    def everything(self) -> bool:
        return not self.reasons and self.partition is None and self.from_offset is None and self.to_offset is None

    def in_range(self, record: SourceRecord) -> bool:
        return ((self.partition is None or record.partition == self.partition)
                and (self.from_offset is None or record.offset >= self.from_offset)
                and (self.to_offset is None or record.offset <= self.to_offset))

    def matches(self, reason: str) -> bool:
        return not self.reasons or any(r.lower() in reason.lower() for r in self.reasons)


def replay_dead_letters(settings: Settings, *, until_idle_s: float, selection: Selection = Selection(),
                        dry_run: bool = False) -> dict[str, Any]:
    """Replay (or, with ``dry_run``, list) the selected dead letters; counts of replayed / selected / left out /
    unreadable, not kept (selected, but the original was too large to keep in the letter), the reasons selected, and for a dry run the letters themselves (up to ``LISTED_MAX``)."""
    ensure_topics(settings, [settings.kafka.topic, settings.kafka.dlq])
    grouped = selection.everything and not dry_run
    events = make_event_log(settings, group_id=f"{settings.kafka.group}-dlq-replay", client_id="catalog-dlq-replay")
    producer = None if dry_run else make_producer(settings)
    counts = Counter(replayed=0, selected=0, left_out=0, unreadable=0, not_kept=0)
    reasons: Counter[str] = Counter()
    listed: list[dict[str, Any]] = []
    try:
        if grouped:
            events.join(settings.kafka.dlq, on_assigned=lambda _: None, on_revoked=lambda _: None)
        else:
            # every partition from 0 (the selection skips what is out of range), the chosen one from its offset
            start = {selection.partition: selection.from_offset or 0} if selection.partition is not None else {}
            events.assign_from(settings.kafka.dlq, start)
        started = last_seen = time.monotonic()
        while time.monotonic() - last_seen < until_idle_s:
            polled = events.poll(0.5, max_records=500)
            if grouped and not events.assignment() and time.monotonic() - started < JOIN_GRACE_S:
                last_seen = time.monotonic()          # joining the group does not count as idle
            if not polled:
                continue
            last_seen = time.monotonic()
            messages, offsets = [], {}
            for record in polled:
                partition: Partition = (record.topic, record.partition)
                offsets[partition] = record.offset + 1
                message = _select(record, selection, settings, counts, reasons)
                if message is None:
                    continue
                if dry_run:
                    if len(listed) < LISTED_MAX:
                        listed.append({"partition": record.partition, "offset": record.offset,
                                       "topic": message[0], "reason": message[3]})
                    continue
                messages.append(message[:3])
            if producer is not None:
                send_all(producer, messages)
                counts["replayed"] += len(messages)
            if grouped:
                events.commit(offsets)
    finally:
        if producer is not None:
            producer.close()
        events.close()
    out: dict[str, Any] = {**counts, "dry_run": dry_run, "grouped": grouped, "reasons": dict(reasons)}
    if dry_run:
        out["letters"] = listed
    return out


def _select(record: SourceRecord, selection: Selection, settings: Settings, counts: Counter,
            reasons: Counter) -> tuple[str, bytes | None, bytes | None, str] | None:
    """(topic, key, value, reason) of a selected letter; None (counted) for one left out or unreadable."""
    if not selection.in_range(record):
        counts["left_out"] += 1
        return None
    try:
        envelope = parse_envelope(record.value)
        reason = str(envelope.get("reason", ""))
        if not selection.matches(reason):
            counts["left_out"] += 1
            return None
        if any(isinstance(envelope.get(f), dict) and "omitted" in envelope[f] for f in ("key", "value")):
            counts["not_kept"] += 1
            log.warning("dead letter at %s:%d offset %d matches but cannot be replayed: %s", record.topic,
                        record.partition, record.offset, "its original was too large to keep in the letter")
            return None
        topic = envelope["topic"]
        topic = settings.kafka.topic if topic.startswith("file:") else topic
        message = (topic, original_bytes(envelope.get("key")), original_bytes(envelope["value"]), reason)
    except (ValueError, KeyError, TypeError) as exc:
        counts["unreadable"] += 1
        log.warning("dead letter at %s:%d offset %d is not an envelope, skipped: %s",
                    record.topic, record.partition, record.offset, exc)
        return None
    counts["selected"] += 1
    reasons[reason.split(":", 1)[0]] += 1
    return message
