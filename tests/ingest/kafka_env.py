"""A per-test ingest environment on the real broker and Milvus Lite server: unique topic, group and collection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaConsumer

from catalog_search.core.settings import Settings, load_settings
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.commands import publish_file, run_kafka_worker
from catalog_search.adapters.kafka import ensure_topics, make_producer, send_all

FAST_GROUP = dict(CATALOG_KAFKA_SESSION_TIMEOUT_MS="6000", CATALOG_KAFKA_HEARTBEAT_INTERVAL_MS="1000",
                  CATALOG_KAFKA_MAX_POLL_INTERVAL_MS="10000", CATALOG_BATCH_MAX_WAIT_MS="200")


@dataclass
class IngestEnv:
    env: dict[str, str]
    tmp: Path

    @property
    def settings(self) -> Settings:
        return load_settings(**{k.removeprefix("CATALOG_").lower(): v for k, v in self.env.items()})

    def publish(self, *events: dict | bytes | None) -> None:
        s = self.settings
        ensure_topics(s, [s.kafka.topic, s.kafka.dlq])
        producer = make_producer(s)
        try:
            send_all(producer, [(s.kafka.topic, _key(e), _raw(e)) for e in events])
        finally:
            producer.close()

    def publish_file(self, path: Path) -> int:
        return publish_file(self.settings, path, self.settings.kafka.topic)

    def ingest(self, until_idle_s: float = 2.0) -> dict[str, int]:
        """The worker in this process, exactly as ``catalog-search ingest kafka --until-idle`` runs it."""
        return run_kafka_worker(self.settings, until_idle_s=until_idle_s)

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "catalog_search.app.cli", *args], env={**os.environ, **self.env},
                              capture_output=True, text=True, timeout=timeout)

    def spawn(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "catalog_search.app.cli", *args], env={**os.environ, **self.env},
                                stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def store(self) -> MilvusStore:
        return MilvusStore.from_settings(self.settings)

    def rows(self, *skus: str) -> dict:
        store = self.store()
        try:
            return store.fetch(list(skus))
        finally:
            store.close()

    def dead_letters(self, expected: int, timeout_s: float = 15) -> list[dict]:
        s = self.settings
        consumer = KafkaConsumer(s.kafka.dlq, bootstrap_servers=s.kafka.bootstrap, auto_offset_reset="earliest",
                                 enable_auto_commit=False, consumer_timeout_ms=int(timeout_s * 1000))
        letters = []
        try:
            for message in consumer:
                letters.append({**json.loads(message.value), "__partition": message.partition,
                                "__offset": message.offset})          # where the letter sits in the DLQ topic
                if len(letters) >= expected:
                    break
        finally:
            consumer.close()
        return letters


def make_env(kafka_bootstrap: str, milvus_uri: str, tmp: Path, **extra: str) -> IngestEnv:
    suffix = uuid.uuid4().hex[:10]
    env = {"CATALOG_KAFKA_BOOTSTRAP": kafka_bootstrap, "CATALOG_MILVUS_URI": milvus_uri,
           "CATALOG_KAFKA_TOPIC": f"products-{suffix}", "CATALOG_KAFKA_GROUP": f"ingest-{suffix}",
           "CATALOG_MILVUS_COLLECTION": f"c_{suffix}", "CATALOG_MILVUS_ALIAS": f"a_{suffix}",
           "CATALOG_EMBED_BACKEND": "local", **FAST_GROUP, **extra}
    return IngestEnv(env, tmp)


def _key(event: dict | bytes | None) -> bytes | None:
    return event["sku"].encode() if isinstance(event, dict) and isinstance(event.get("sku"), str) else b"raw"


def _raw(event: dict | bytes | None) -> bytes | None:
    return json.dumps(event, ensure_ascii=False).encode() if isinstance(event, dict) else event
