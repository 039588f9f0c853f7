"""The compose cpu profile's worker settings, run by the real CLI against a real Kafka-protocol broker and Milvus
(the test stack: Tansu, Milvus Lite): publish the sample, ingest it with the offline embedder into the profile's
own collection, serve it, health-check it as the container does, search it in Chinese and in English.

Only what has to differ on this machine is replaced, and the test names it: the broker and Milvus addresses, the
dense index (Milvus Lite has no HNSW: ``auto`` picks FLAT there), free ports, and per-run names for the topic,
group, collection and alias so that the session's other tests never share them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from catalog_search.app.localstack import free_port
from tests.deploy.manifests import REPO_ROOT, compose, filled_env
from tests.retrieve.test_grpc_tls import make_certs

SCRIPT = Path(sys.executable).with_name("catalog-search")
SAMPLE = REPO_ROOT / "app" / "data" / "sample_catalog.jsonl"
REPLACED = {"CATALOG_KAFKA_BOOTSTRAP", "CATALOG_MILVUS_URI", "CATALOG_MILVUS_INDEX", "CATALOG_GRPC_ADDRESS",
            "CATALOG_METRICS_PORT", "CATALOG_KAFKA_TOPIC", "CATALOG_KAFKA_DLQ_TOPIC", "CATALOG_KAFKA_GROUP",
            "CATALOG_MILVUS_COLLECTION", "CATALOG_MILVUS_ALIAS"}


def profile_env(service: str) -> dict[str, str]:
    env = compose(filled_env())["services"][service]["environment"]
    return {k: str(v) for k, v in env.items() if k.startswith("CATALOG_")}


def run(env: dict[str, str], *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    return subprocess.run([str(SCRIPT), *argv], env={**clean, **env}, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_the_cpu_profile_ingests_serves_and_answers_the_sample(kafka_broker: Any, milvus_server: Any,
                                                               tmp_path: Path) -> None:
    ingest_env, retrieve_env = profile_env("ingest-cpu"), profile_env("retrieve-cpu")
    assert ingest_env["CATALOG_EMBED_BACKEND"] == "local" and retrieve_env["CATALOG_RERANK_BACKEND"] == "none"
    run_id = uuid.uuid4().hex[:8]
    port = free_port()
    local = {
        "CATALOG_KAFKA_BOOTSTRAP": kafka_broker.bootstrap, "CATALOG_MILVUS_URI": milvus_server.uri,
        "CATALOG_MILVUS_INDEX": "auto", "CATALOG_GRPC_ADDRESS": f"0.0.0.0:{port}",
        "CATALOG_METRICS_PORT": str(free_port()),
        "CATALOG_KAFKA_TOPIC": f"{ingest_env['CATALOG_KAFKA_TOPIC']}.{run_id}",
        "CATALOG_KAFKA_DLQ_TOPIC": f"{ingest_env['CATALOG_KAFKA_DLQ_TOPIC']}.{run_id}",
        "CATALOG_KAFKA_GROUP": f"{ingest_env['CATALOG_KAFKA_GROUP']}-{run_id}",
        "CATALOG_MILVUS_COLLECTION": f"{ingest_env['CATALOG_MILVUS_COLLECTION']}_{run_id}",
        "CATALOG_MILVUS_ALIAS": f"{ingest_env['CATALOG_MILVUS_ALIAS']}_{run_id}",
    }
    assert set(local) == REPLACED
    ingest_env, retrieve_env = {**ingest_env, **local}, {**retrieve_env, **local}
    # the retrieval service's TLS files: compose mounts scripts/dev_certs.sh's output read-only; here, made afresh
    (volume,) = compose(filled_env())["services"]["retrieve-cpu"]["volumes"]
    target, certs = volume.split(":")[1], make_certs(tmp_path / "certs")
    retrieve_env = {k: v.replace(target, str(certs)) for k, v in retrieve_env.items()}
    assert any(v.startswith(str(certs)) for v in retrieve_env.values())         # TLS on, as in compose
    # kept from compose: the local embedder, multilingual BM25, 6 partitions, the token, rerank off, ...
    assert ingest_env["CATALOG_BM25_ANALYZER"] == "multilingual" and ingest_env["CATALOG_KAFKA_PARTITIONS"] == "6"

    published = run(ingest_env, "publish", str(SAMPLE))
    assert published.returncode == 0, published.stderr[-3000:]
    ingested = run(ingest_env, "ingest", "kafka", "--until-idle", "5", "--json", timeout=600)
    assert ingested.returncode == 0, ingested.stderr[-3000:]
    counts = json.loads(ingested.stdout)
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    assert counts["upserted"] == len(lines) and counts["dead_lettered"] == 0, counts

    clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    with open(tmp_path / "serve.log", "w") as log:
        server = subprocess.Popen([str(SCRIPT), "serve"], env={**clean, **retrieve_env}, stdout=subprocess.DEVNULL,
                                  stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:          # the container's HEALTHCHECK, as compose runs it until the service is healthy
            health = run(retrieve_env, "health", "--timeout", "2")
            if health.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(1)
        assert health.returncode == 0, (health.stdout, health.stderr, (tmp_path / "serve.log").read_text()[-3000:])
        address = f"127.0.0.1:{port}"
        for query, locale in (("无线降噪耳机", "zh-CN"), ("running shoes", "en-US")):
            found = run(retrieve_env, "search", query, "--top-k", "5", "--json", "--address", address)
            assert found.returncode == 0, found.stderr[-3000:]
            answer = json.loads(found.stdout)
            assert len(answer["hits"]) == 5, answer
            skus = {json.loads(line)["sku"]: json.loads(line)["locale"] for line in lines}
            assert skus[answer["hits"][0]["sku"]] == locale, answer["hits"][0]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert run(retrieve_env, "health", "--timeout", "1").returncode == 1
