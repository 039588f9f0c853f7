"""A real ingest worker process on its own topic, group and collection, for the ingest parts (faults, poison).

``WorkerEnv`` holds the ``CATALOG_*`` variables of one run; it publishes records (returning their offsets), spawns
``python -m catalog_search.app.cli --log ingest kafka --json`` exactly as an operator would, stops it with SIGTERM
(its JSON counters are the last line of its log), reads the dead-letter topic and the group's committed offsets
with plain kafka-python clients, reads rows from Milvus, and runs other CLI commands (``dlq replay``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from reliability.common import ROOT

from catalog_search.adapters.kafka import ensure_topics
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.core.errors import StoreError
from catalog_search.core.product import Product
from catalog_search.core.settings import Settings, load_settings


def record_bytes(event: Any) -> bytes | None:
    if event is None or isinstance(event, bytes):
        return event
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


@dataclass
class WorkerEnv:
    env: dict[str, str]
    tmp: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def make(cls, bootstrap: str, milvus_uri: str, tmp: Path, **extra: str) -> "WorkerEnv":
        suffix = uuid.uuid4().hex[:10]
        env = {"CATALOG_KAFKA_BOOTSTRAP": bootstrap, "CATALOG_MILVUS_URI": milvus_uri,
               "CATALOG_KAFKA_TOPIC": f"products-{suffix}", "CATALOG_KAFKA_GROUP": f"ingest-{suffix}",
               "CATALOG_MILVUS_COLLECTION": f"c_{suffix}", "CATALOG_MILVUS_ALIAS": f"a_{suffix}",
               "CATALOG_EMBED_BACKEND": "local", "CATALOG_KAFKA_SESSION_TIMEOUT_MS": "10000",
               "CATALOG_KAFKA_HEARTBEAT_INTERVAL_MS": "1000", **extra}
        tmp.mkdir(parents=True, exist_ok=True)
        return cls(env, tmp)

    @property
    def settings(self) -> Settings:
        return load_settings(**{k.removeprefix("CATALOG_").lower(): v for k, v in self.env.items()})

    @property
    def topic(self) -> str:
        return self.env["CATALOG_KAFKA_TOPIC"]

    @property
    def dlq(self) -> str:
        return self.settings.kafka.dlq

    # -- broker ---------------------------------------------------------------------------------------------------
    def bootstrap(self, direct: str | None = None) -> str:
        return direct or self.env["CATALOG_KAFKA_BOOTSTRAP"]

    def ensure_topics(self) -> None:
        ensure_topics(self.settings, [self.topic, self.dlq])

    def publish(self, records: Iterable[tuple[bytes | None, Any]], *, bootstrap: str | None = None,
                **producer_config: Any) -> list[tuple[int, int]]:
        """Send (key, event) pairs in order and wait for each; their (partition, offset), in order."""
        config = {"acks": "all", "linger_ms": 5, **producer_config}
        producer = KafkaProducer(bootstrap_servers=self.bootstrap(bootstrap), **config)
        try:
            futures = [producer.send(self.topic, key=key, value=record_bytes(event)) for key, event in records]
            producer.flush(timeout=60)
            return [(md.partition, md.offset) for md in (f.get(timeout=60) for f in futures)]
        finally:
            producer.close()

    def end_offsets(self, topic: str, *, bootstrap: str | None = None) -> dict[int, int]:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap(bootstrap), group_id=None)
        try:
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
            return {tp.partition: o for tp, o in consumer.end_offsets(partitions).items()}
        finally:
            consumer.close()

    def committed(self, *, bootstrap: str | None = None) -> dict[int, int | None]:
        """The ingest group's committed offset per partition of the topic (read without joining the group)."""
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap(bootstrap), group_id=self.env["CATALOG_KAFKA_GROUP"],
                                 enable_auto_commit=False)
        try:
            partitions = sorted(consumer.partitions_for_topic(self.topic) or [])
            return {p: consumer.committed(TopicPartition(self.topic, p)) for p in partitions}
        finally:
            consumer.close(autocommit=False)

    def read_all(self, topic: str, *, idle_s: float = 3.0, bootstrap: str | None = None) -> list[Any]:
        """Every record of ``topic`` (all partitions from the start) until none came for ``idle_s``."""
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap(bootstrap), group_id=None,
                                 enable_auto_commit=False)
        out: list[Any] = []
        try:
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            last = time.monotonic()
            while time.monotonic() - last < idle_s:
                polled = consumer.poll(timeout_ms=300)
                for messages in polled.values():
                    out.extend(messages)
                if polled:
                    last = time.monotonic()
        finally:
            consumer.close()
        return out

    def dead_letters(self, *, idle_s: float = 3.0) -> list[dict[str, Any]]:
        return [{**json.loads(m.value), "__partition": m.partition, "__offset": m.offset}
                for m in self.read_all(self.dlq, idle_s=idle_s)]

    # -- store ----------------------------------------------------------------------------------------------------
    def rows(self, skus: Sequence[str], *, uri: str | None = None, attempts: int = 5) -> dict[str, Product]:
        """The stored rows of ``skus`` (tombstones included); a checker's read retries a busy server a few times."""
        for attempt in range(attempts):
            try:
                return self._rows(skus, uri)
            except StoreError:
                if attempt == attempts - 1:
                    raise
                time.sleep(1 + attempt)
        return {}

    def _rows(self, skus: Sequence[str], uri: str | None) -> dict[str, Product]:
        settings = self.settings if uri is None else load_settings(
            **{k.removeprefix("CATALOG_").lower(): v for k, v in {**self.env, "CATALOG_MILVUS_URI": uri}.items()})
        store = MilvusStore.from_settings(settings)
        try:
            out: dict[str, Product] = {}
            skus = list(skus)
            for i in range(0, len(skus), 500):
                out.update(store.fetch(skus[i:i + 500]))
            return out
        finally:
            store.close()

    # -- processes ------------------------------------------------------------------------------------------------
    def _argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "catalog_search.app.cli", *args]

    def _env(self) -> dict[str, str]:
        pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        return {**os.environ, "PYTHONPATH": pythonpath, **self.env}

    def spawn_worker(self, log: Path) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(self._argv("--log", "ingest", "kafka", "--json"), env=self._env(),
                                   stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def stop_worker(self, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 90) -> dict[str, Any]:
        """SIGTERM, wait; the exit code and the worker's JSON counters (its last log line), if it printed them."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        counters: dict[str, Any] = {}
        for line in reversed(log.read_text(errors="replace").strip().splitlines()):
            if line.startswith("{"):
                try:
                    counters = json.loads(line)
                    break
                except ValueError:
                    continue
        return {"returncode": process.returncode, "counters": counters}

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._argv(*args), env=self._env(), capture_output=True, text=True, timeout=timeout)

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
