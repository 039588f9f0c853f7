"""``dlq replay``: re-publish dead letters to the topic they came from, once the cause is fixed.

Reads the dead-letter topic in its own consumer group (so each letter is replayed once), produces the original key
and value to the original topic, and commits only after the broker acknowledged the re-published records. A letter
that fails again simply comes back to the dead-letter topic with its new reason.
"""

from __future__ import annotations

import logging
import time

from catalog_search.adapters.kafka import ensure_topics, make_event_log, make_producer, send_all
from catalog_search.core.dead_letters import original_bytes, parse_envelope
from catalog_search.core.event_log import Partition
from catalog_search.core.settings import Settings

log = logging.getLogger(__name__)
JOIN_GRACE_S = 30.0


def replay_dead_letters(settings: Settings, *, until_idle_s: float) -> dict[str, int]:
    ensure_topics(settings, [settings.kafka.topic, settings.kafka.dlq])
    events = make_event_log(settings, group_id=f"{settings.kafka.group}-dlq-replay", client_id="catalog-dlq-replay")
    producer = make_producer(settings)
    replayed = unreadable = 0
    try:
        events.join(settings.kafka.dlq, on_assigned=lambda _: None, on_revoked=lambda _: None)
        started = last_seen = time.monotonic()
        while time.monotonic() - last_seen < until_idle_s:
            polled = events.poll(0.5, max_records=500)
            if not events.assignment() and time.monotonic() - started < JOIN_GRACE_S:
                last_seen = time.monotonic()          # joining the group does not count as idle
            if not polled:
                continue
            last_seen = time.monotonic()
            messages, offsets = [], {}
            for record in polled:
                try:
                    envelope = parse_envelope(record.value)
                    topic = envelope["topic"]
                    topic = settings.kafka.topic if topic.startswith("file:") else topic
                    messages.append((topic, original_bytes(envelope.get("key")), original_bytes(envelope["value"])))
                except (ValueError, KeyError, TypeError) as exc:
                    unreadable += 1
                    log.warning("dead letter at %s:%d offset %d is not an envelope, skipped: %s",
                                record.topic, record.partition, record.offset, exc)
                partition: Partition = (record.topic, record.partition)
                offsets[partition] = record.offset + 1
            send_all(producer, messages)
            events.commit(offsets)
            replayed += len(messages)
    finally:
        producer.close()
        events.close()
    return {"replayed": replayed, "unreadable": unreadable}
