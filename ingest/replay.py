"""``dlq replay``: re-publish dead letters to the topic they came from, once the cause is fixed.

Reads the dead-letter topic in its own consumer group (so each letter is replayed once), produces the original key
and value to the original topic, and commits only after the broker acknowledged the re-published records. A letter
that fails again simply comes back to the dead-letter topic with its new reason.
"""

from __future__ import annotations

import logging
import time

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from catalog_search.core.settings import Settings
from catalog_search.core.dead_letters import original_bytes, parse_envelope
from catalog_search.adapters.kafka import ensure_topics, make_consumer, make_producer, send_all

log = logging.getLogger(__name__)
JOIN_GRACE_S = 30.0


def replay_dead_letters(settings: Settings, *, until_idle_s: float) -> dict[str, int]:
    ensure_topics(settings, [settings.kafka.topic, settings.kafka.dlq])
    consumer = make_consumer(settings, group_id=f"{settings.kafka.group}-dlq-replay", client_id="catalog-dlq-replay")
    producer = make_producer(settings)
    replayed = unreadable = 0
    try:
        consumer.subscribe([settings.kafka.dlq])
        started = last_seen = time.monotonic()
        while time.monotonic() - last_seen < until_idle_s:
            polled = consumer.poll(timeout_ms=500)
            if not consumer.assignment() and time.monotonic() - started < JOIN_GRACE_S:
                last_seen = time.monotonic()          # joining the group does not count as idle
            if not polled:
                continue
            last_seen = time.monotonic()
            messages, offsets = [], {}
            for tp, records in polled.items():
                for record in records:
                    try:
                        envelope = parse_envelope(record.value)
                        topic = envelope["topic"]
                        topic = settings.kafka.topic if topic.startswith("file:") else topic
                        messages.append((topic, original_bytes(envelope.get("key")), original_bytes(envelope["value"])))
                    except (ValueError, KeyError, TypeError) as exc:
                        unreadable += 1
                        log.warning("dead letter at %s:%d offset %d is not an envelope, skipped: %s",
                                    tp.topic, tp.partition, record.offset, exc)
                    offsets[TopicPartition(tp.topic, tp.partition)] = OffsetAndMetadata(record.offset + 1, "", -1)
            send_all(producer, messages)
            consumer.commit(offsets)
            replayed += len(messages)
    finally:
        producer.close()
        consumer.close(autocommit=False)
    return {"replayed": replayed, "unreadable": unreadable}
