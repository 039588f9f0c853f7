"""Kafka adapters (kafka-python): the ``EventLog`` the ingest loop consumes, consumer and producer factories, topic
set-up, group offsets, the dead-letter sink, the query-log sink and the reader of a whole topic (query-log export).

kafka-python errors are mapped here, once, to ``BrokerError`` (retriable unless the error says otherwise).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from catalog_search.core.errors import BrokerError
from catalog_search.core.event_log import Partition, Rebalance
from catalog_search.core.settings import Settings
from catalog_search.core.dead_letters import DeadLetter
from catalog_search.core.records import SourceRecord

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 30.0
METADATA_WAIT_S = 10.0
QUERYLOG_LINGER_MS = 200


def broker_error(action: str, exc: BaseException) -> BrokerError:
    """kafka-python marks its own errors retriable or not (an unreachable cluster is a retriable timeout)."""
    retriable = bool(getattr(exc, "retriable", False))
    return BrokerError(f"kafka {action} failed: {type(exc).__name__}: {exc}", retriable=retriable)


def make_consumer(settings: Settings, **overrides: Any) -> KafkaConsumer:
    """A consumer in the ingest group; offsets are committed by hand, only after a batch is durable."""
    config: dict[str, Any] = dict(
        bootstrap_servers=settings.kafka.bootstrap.split(","),
        group_id=settings.kafka.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka.session_timeout_ms,
        heartbeat_interval_ms=settings.kafka.heartbeat_interval_ms,
        max_poll_interval_ms=settings.kafka.max_poll_interval_ms,
        max_partition_fetch_bytes=max(1_048_576, settings.ingest.max_event_bytes * 2),
        client_id="catalog-ingest",
    )
    config.update(overrides)
    try:
        return KafkaConsumer(**config)
    except KafkaError as exc:
        raise broker_error("connect (consumer)", exc) from exc


def make_producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    config: dict[str, Any] = dict(
        bootstrap_servers=settings.kafka.bootstrap.split(","),
        acks="all",
        linger_ms=5,
        max_request_size=max(1_048_576, settings.ingest.max_event_bytes * 4),
        client_id="catalog-producer",
    )
    config.update(overrides)
    try:
        return KafkaProducer(**config)
    except KafkaError as exc:
        raise broker_error("connect (producer)", exc) from exc


def ensure_topics(settings: Settings, topics: Iterable[str], *, partitions: int | None = None) -> None:
    """Create topics that do not exist yet (idempotent), with ``CATALOG_KAFKA_PARTITIONS`` partitions (unless
    ``partitions`` is given) and ``CATALOG_KAFKA_REPLICATION_FACTOR`` replicas."""
    partitions = partitions or settings.kafka.partitions
    replication = settings.kafka.replication_factor
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap.split(","), client_id="catalog-admin")
    except KafkaError as exc:
        raise broker_error("connect (admin)", exc) from exc
    try:
        existing = set(admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if missing:
            try:
                admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=replication) for t in missing])
                log.info("created topics %s", missing)
            except TopicAlreadyExistsError:
                pass
    except KafkaError as exc:
        raise broker_error("create topics", exc) from exc
    finally:
        admin.close()


def topic_partitions(consumer: KafkaConsumer, topic: str, *, wait_s: float = METADATA_WAIT_S) -> list[TopicPartition]:
    """The partitions of ``topic``, waiting up to ``wait_s`` for metadata (a just-created topic has none at first)."""
    deadline = time.monotonic() + wait_s
    while True:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return [TopicPartition(topic, p) for p in sorted(partitions)]
        if time.monotonic() > deadline:
            raise BrokerError(f"topic {topic!r} has no partitions (metadata)", retriable=True)
        time.sleep(0.2)


def to_source_record(message: Any) -> SourceRecord:
    return SourceRecord(topic=message.topic, partition=message.partition, offset=message.offset, key=message.key,
                        value=message.value, timestamp_ms=message.timestamp if message.timestamp >= 0 else None)


def send_all(producer: KafkaProducer, messages: Sequence[tuple[str, bytes | None, bytes | None]],
             headers: list[tuple[str, bytes]] | None = None) -> None:
    """Send (topic, key, value) messages and wait until every one is acknowledged."""
    try:
        futures = [producer.send(topic, key=key, value=value, headers=headers or []) for topic, key, value in messages]
        producer.flush(timeout=SEND_TIMEOUT_S)
        for future in futures:
            future.get(timeout=SEND_TIMEOUT_S)
    except KafkaError as exc:
        raise broker_error("produce", exc) from exc


class KafkaDeadLetterSink:
    """Publishes dead letters to ``<topic>.dlq`` and waits for the broker's acknowledgement.

    A letter never exceeds what the producer may send (``max_request_size`` less room for the record's framing, key
    and headers): an event far over the size limit keeps only its digest in the letter (``DeadLetter.to_bytes``);
    otherwise the producer would refuse the letter for good and the worker could not get past the event."""

    FRAMING_BYTES = 16_384

    def __init__(self, producer: KafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self.max_letter_bytes = int(producer.config["max_request_size"]) - self.FRAMING_BYTES

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        if letters:
            send_all(self.producer, [(self.topic, _bounded(letter.record.key), letter.to_bytes(self.max_letter_bytes))
                                     for letter in letters],
                     headers=[("content-type", b"application/vnd.catalog.dead-letter+json")])


def _bounded(key: bytes | None) -> bytes | None:
    """The letter's record key: the original, unless it alone is huge (then its digest; the envelope has the rest)."""
    if key is None or len(key) <= KafkaDeadLetterSink.FRAMING_BYTES // 4:
        return key
    return b"sha256:" + hashlib.sha256(key).hexdigest().encode()


class KafkaEventLog:
    """``core.event_log.EventLog`` over a kafka-python ``KafkaConsumer`` (manual commits); errors mapped once here."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer

    def join(self, topic: str, *, on_assigned: Rebalance, on_revoked: Rebalance) -> None:
        self.consumer.subscribe([topic], listener=_Listener(on_assigned, on_revoked))

    def assign_from(self, topic: str, offsets: Mapping[int, int]) -> set[Partition]:
        try:
            partitions = topic_partitions(self.consumer, topic)
            self.consumer.assign(partitions)
            for tp in partitions:
                self.consumer.seek(tp, offsets.get(tp.partition, 0))
        except KafkaError as exc:
            raise broker_error(f"assign {topic}", exc) from exc
        return {(tp.topic, tp.partition) for tp in partitions}

    def poll(self, timeout_s: float, *, max_records: int) -> list[SourceRecord]:
        try:
            polled = self.consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        except KafkaError as exc:
            raise broker_error("poll", exc) from exc
        return [to_source_record(m) for messages in polled.values() for m in messages]

    def assignment(self) -> set[Partition]:
        return {(tp.topic, tp.partition) for tp in self.consumer.assignment()}

    def pause(self) -> None:
        self.consumer.pause(*self.consumer.assignment())

    def resume(self) -> None:
        if self.consumer.paused():
            self.consumer.resume(*self.consumer.paused())

    def commit(self, offsets: Mapping[Partition, int]) -> None:
        if not offsets:
            return
        try:
            self.consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()})
        except CommitFailedError as exc:
            raise BrokerError(f"kafka commit refused after a rebalance: {exc}", retriable=False) from exc
        except KafkaError as exc:
            raise broker_error("commit", exc) from exc

    def lag(self) -> dict[Partition, int]:
        assigned = list(self.consumer.assignment())
        if not assigned:
            return {}
        try:
            ends = self.consumer.end_offsets(assigned)
            return {(tp.topic, tp.partition): max(0, ends.get(tp, 0) - self.consumer.position(tp)) for tp in assigned}
        except KafkaError as exc:
            raise broker_error("read end offsets", exc) from exc

    def close(self) -> None:
        self.consumer.close(autocommit=False)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, on_assigned: Rebalance, on_revoked: Rebalance) -> None:
        self._assigned, self._revoked = on_assigned, on_revoked

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._revoked({(tp.topic, tp.partition) for tp in revoked})

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._assigned({(tp.topic, tp.partition) for tp in assigned})


def group_offsets(settings: Settings, topic: str) -> tuple[dict[int, int | None], dict[int, int]]:
    """The group's committed offset and the first offset of every partition of ``topic`` (no group join)."""
    ensure_topics(settings, [topic])
    consumer = make_consumer(settings, client_id="catalog-reindex")      # the live group; never subscribes
    try:
        partitions = topic_partitions(consumer, topic)
        committed = {tp.partition: consumer.committed(tp) for tp in partitions}
        beginning = {tp.partition: offset for tp, offset in consumer.beginning_offsets(partitions).items()}
    except KafkaError as exc:
        raise broker_error(f"read the offsets of group {settings.kafka.group}", exc) from exc
    finally:
        consumer.close(autocommit=False)
    return committed, beginning


def make_event_log(settings: Settings, **overrides: Any) -> KafkaEventLog:
    """The ingest group's ``EventLog`` (``overrides``: consumer settings such as ``group_id``)."""
    return KafkaEventLog(make_consumer(settings, **overrides))


class KafkaQueryLogSink:
    """``retrieve.querylog.QueryLogSink`` on a producer of its own: acks=1, short linger, and every wait (metadata,
    buffer, acknowledgement) bounded by ``CATALOG_QUERYLOG_SEND_TIMEOUT_S``. Only the query log's background thread
    calls it."""

    def __init__(self, producer: KafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    def send(self, key: bytes, value: bytes, on_done: Callable[[BaseException | None], None]) -> None:
        try:
            future = self.producer.send(self.topic, key=key, value=value)
        except KafkaError as exc:
            raise broker_error("produce (query log)", exc) from exc
        future.add_callback(lambda _metadata: on_done(None))
        future.add_errback(on_done)

    def flush(self, timeout_s: float) -> None:
        try:
            self.producer.flush(timeout=timeout_s)
        except KafkaError as exc:
            raise broker_error("flush (query log)", exc) from exc

    def close(self) -> None:
        self.producer.close(timeout=1.0)


def make_querylog_sink(settings: Settings) -> KafkaQueryLogSink:
    """Connect the query-log producer (raises a retriable ``BrokerError`` while the broker is unreachable) and
    create the topic if missing."""
    timeout_ms = int(settings.querylog.send_timeout_s * 1000)
    request_ms = max(1000, timeout_ms // 2)
    ensure_topics(settings, [settings.querylog.topic])
    # linger 200 ms: records travel in batches (one record per produce request costs ~3x the CPU, measured)
    producer = make_producer(settings, acks=1, linger_ms=QUERYLOG_LINGER_MS, max_block_ms=timeout_ms,
                             request_timeout_ms=request_ms,
                             delivery_timeout_ms=max(timeout_ms, request_ms + QUERYLOG_LINGER_MS),
                             bootstrap_timeout_ms=timeout_ms, client_id="catalog-querylog")
    return KafkaQueryLogSink(producer, settings.querylog.topic)


def read_topic(settings: Settings, topic: str, *, idle_s: float = 2.0) -> Iterator[bytes]:
    """Every record value of ``topic`` from the start of each partition, until every partition is past its end
    offset of when the read began and no record came for ``idle_s`` (no consumer group: nothing is committed).

    The idle wait is not optional: Tansu (the embedded broker) reports a partition's end offset per produced batch,
    not per record, so the end offsets alone stop a read early.
    """
    try:
        consumer = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap.split(","), group_id=None,
                                 enable_auto_commit=False, client_id="catalog-export")
    except KafkaError as exc:
        raise broker_error("connect (consumer)", exc) from exc
    try:
        partitions = topic_partitions(consumer, topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        last = time.monotonic()
        while True:
            polled = consumer.poll(timeout_ms=200)
            for messages in polled.values():
                for message in messages:
                    if message.value is not None:
                        yield message.value
            if polled:
                last = time.monotonic()
            elif all(consumer.position(tp) >= ends[tp] for tp in partitions) and time.monotonic() - last >= idle_s:
                return
    except KafkaError as exc:
        raise broker_error(f"read {topic}", exc) from exc
    finally:
        consumer.close(autocommit=False)
