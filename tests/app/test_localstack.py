"""The embedded local stack: Tansu broker and Milvus Lite server processes."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from pymilvus import MilvusClient

from catalog_search.app.localstack import KafkaBroker, LocalStack, MilvusLiteServer, StackError, free_port, port_is_free

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes (it is reaped by Popen.wait, so this should not happen)
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_free_port() -> None:
    port = free_port()
    assert 1024 <= port <= 65535 and port_is_free(port)
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        assert not port_is_free(port)


def test_broker_produce_consume_round_trip(kafka_broker: Any) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    if isinstance(kafka_broker, KafkaBroker):
        kafka_broker.create_topics([topic], partitions=2)
    producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
    sent = {f"k{i}".encode(): f"商品 {i}".encode() for i in range(5)}
    for key, value in sent.items():
        producer.send(topic, key=key, value=value)
    producer.flush(timeout=10)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=kafka_broker.bootstrap, group_id=f"g-{uuid.uuid4().hex[:6]}",
                             auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=6000,
                             heartbeat_interval_ms=1000, max_poll_interval_ms=10000, consumer_timeout_ms=20000)
    got: dict[bytes, bytes] = {}
    for message in consumer:
        got[message.key] = message.value
        if len(got) == len(sent):
            break
    consumer.commit()
    consumer.close()
    assert got == sent


@pytest.mark.kafka
@pytest.mark.milvus
def test_stack_starts_and_stops_cleanly(tmp_path: Path) -> None:
    with LocalStack(tmp_path / "stack", free_port(), free_port()) as stack:
        assert stack.running
        assert stack.env() == {"CATALOG_KAFKA_BOOTSTRAP": stack.bootstrap, "CATALOG_MILVUS_URI": stack.milvus_uri,
                               "CATALOG_KAFKA_SESSION_TIMEOUT_MS": "4000"}
        pids = [stack.kafka.process.pid, stack.milvus.process.pid]  # type: ignore[union-attr]
        ports = [stack.kafka.port, stack.milvus.port]
        client = MilvusClient(stack.milvus_uri, alias="t-stack")
        client.create_collection("persisted", dimension=4)
        client.close()
        assert (tmp_path / "stack" / "milvus.db").exists()
        lock = tmp_path / "stack" / ".milvus.db.lock"
        assert lock.exists()
    assert not stack.running
    assert not any(_pid_alive(pid) for pid in pids)
    assert all(port_is_free(port) for port in ports)
    assert not lock.exists()
    assert (tmp_path / "stack" / "logs" / "kafka.log").exists()
    assert (tmp_path / "stack" / "logs" / "milvus.log").exists()
    stack.stop()                                           # idempotent
    # Milvus data survives a restart (the broker's memory storage does not)
    with MilvusLiteServer(tmp_path / "stack") as server:
        client = MilvusClient(server.uri, alias="t-stack-2")
        assert "persisted" in client.list_collections()
        client.close()


@pytest.mark.milvus
def test_second_server_on_same_db_is_refused(tmp_path: Path) -> None:
    with MilvusLiteServer(tmp_path, free_port()):
        with pytest.raises(StackError, match="already served"):
            MilvusLiteServer(tmp_path, free_port()).start()


@pytest.mark.kafka
def test_startup_failure_shows_log_tail(tmp_path: Path) -> None:
    broker = KafkaBroker(free_port(), tmp_path, storage_engine="sqlite://nowhere.db", startup_timeout_s=20)
    with pytest.raises(StackError) as err:
        broker.start()
    message = str(err.value)
    assert "exited with code" in message and "kafka.log" in message
    assert "sqlite://nowhere.db" in message                # the tail of tansu's own output
    assert not broker.running


@pytest.mark.milvus
def test_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(StackError, match="already in use"):
            MilvusLiteServer(tmp_path, s.getsockname()[1]).start()
    assert not (tmp_path / ".milvus.db.lock").exists()


@pytest.mark.milvus
def test_invalid_db_name() -> None:
    with pytest.raises(StackError, match="db name"):
        MilvusLiteServer("/tmp", db_name="bad name.db")
