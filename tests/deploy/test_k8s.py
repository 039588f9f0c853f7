"""deploy/k8s/, read as kustomize and the operators read it: every file in the kustomization, every reference
(names, ports, selectors, secret keys, env keys) resolved, the Kafka topics replicated 3 times with 2 in sync,
ingest scaled on lag within the partitions, Milvus in cluster mode on its own Kafka, the retrieval service behind
an HPA, a PodDisruptionBudget and native gRPC probes."""

from __future__ import annotations

import os
import re
import tomllib
from typing import Any

import pytest

from catalog_search.core.settings import load_settings
from catalog_search.retrieve.servicer import SERVICE_NAME
from tests.deploy.manifests import (K8S_DIR, REPO_ROOT, compose, containers, env_of, filled_env, kustomization,
                                    objects, setting_names)

K = kustomization()
CONFIG = objects(K, "ConfigMap")["catalog-search"]["data"]
DEPLOYMENTS = objects(K, "Deployment")
WORKERS = ("catalog-ingest", "catalog-retrieve")


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def kafka_bootstrap(cluster: dict[str, Any], listener: str = "plain") -> str:
    """Strimzi's bootstrap Service of a Kafka cluster: ``<cluster>-kafka-bootstrap:<port of the listener>``."""
    plain = next(lst for lst in cluster["spec"]["kafka"]["listeners"] if lst["name"] == listener)
    assert plain["type"] == "internal" and plain["tls"] is False
    return f"{cluster['metadata']['name']}-kafka-bootstrap:{plain['port']}"


# -- the kustomization -----------------------------------------------------------------------------------------------

def test_every_manifest_is_in_the_kustomization_and_every_object_is_named_once() -> None:
    on_disk = {p.name for p in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(K.files) == on_disk and len(K.files) == len(on_disk)
    keys = [(o["kind"], o["metadata"]["name"]) for o in K.resources]
    assert len(keys) == len(set(keys)), keys
    assert all("namespace" not in o["metadata"] for o in K.resources)      # kustomize sets it
    assert K.spec["namespace"] == objects(K, "Namespace")[K.spec["namespace"]]["metadata"]["name"]


def test_secrets_come_from_git_ignored_env_files_with_committed_empty_examples() -> None:
    ignored = (REPO_ROOT / ".gitignore").read_text().split()
    assert K.spec["generatorOptions"]["disableNameSuffixHash"] is True      # the CRs refer to them by name
    for generator in K.spec["secretGenerator"]:
        for env in generator["envs"]:
            assert f"deploy/k8s/{env}" in ignored, env
            assert (K8S_DIR / f"{env}.example").is_file()
    assert all(value == "" for keys in K.secrets.values() for value in keys.values())
    assert not objects(K, "Secret"), "no Secret object with values in git"


def test_every_secret_and_config_map_reference_resolves() -> None:
    refs = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "secretKeyRef" in node:
                refs.append(node["secretKeyRef"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(K.resources)
    assert len(refs) >= 8
    for ref in refs:
        assert ref["key"] in K.secrets[ref["name"]], ref
    for deployment in DEPLOYMENTS.values():
        for container in containers(deployment):
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in objects(K, "ConfigMap")
    milvus = objects(K, "Milvus")["catalog-milvus"]
    assert set(K.secrets[milvus["spec"]["dependencies"]["storage"]["secretRef"]]) == {"accesskey", "secretkey"}


# -- workloads -------------------------------------------------------------------------------------------------------

def test_selectors_services_and_named_ports_line_up() -> None:
    for name, deployment in DEPLOYMENTS.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selects(selector, pod_labels(deployment)), name
        assert [n for n, d in DEPLOYMENTS.items() if selects(selector, pod_labels(d))] == [name]
    for name, service in objects(K, "Service").items():
        chosen = [d for d in DEPLOYMENTS.values() if selects(service["spec"]["selector"], pod_labels(d))]
        assert len(chosen) == 1, name
        named = {p["name"]: p["containerPort"] for c in containers(chosen[0]) for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in named and port["port"] == named[port["targetPort"]], (name, port)


def test_autoscaled_deployments_leave_replicas_to_their_autoscaler() -> None:
    targets = {o["spec"]["scaleTargetRef"]["name"]: o["kind"]
               for o in K.resources if o["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")}
    assert targets == {"catalog-retrieve": "HorizontalPodAutoscaler", "catalog-ingest": "ScaledObject"}
    for name in targets:
        assert name in DEPLOYMENTS and "replicas" not in DEPLOYMENTS[name]["spec"], name
    for budget in objects(K, "PodDisruptionBudget").values():
        chosen = [n for n, d in DEPLOYMENTS.items() if selects(budget["spec"]["selector"]["matchLabels"],
                                                               pod_labels(d))]
        assert chosen == [budget["metadata"]["name"]]
    hpa = objects(K, "HorizontalPodAutoscaler")["catalog-retrieve"]["spec"]
    pdb = objects(K, "PodDisruptionBudget")["catalog-retrieve"]["spec"]
    assert hpa["scaleTargetRef"]["kind"] == "Deployment" and pdb["minAvailable"] < hpa["minReplicas"]


def test_worker_images_are_this_version_and_run_as_the_images_user() -> None:
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    uid = re.search(r"useradd .*--uid (\d+)", (REPO_ROOT / "deploy" / "Dockerfile").read_text())[1]
    for name in WORKERS:
        pod = DEPLOYMENTS[name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and str(pod["securityContext"]["runAsUser"]) == uid
        container, = pod["containers"]
        assert container["image"] == f"catalog-search:{version}"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}


@pytest.mark.parametrize("name", WORKERS)
def test_worker_environment_is_valid_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    container, = containers(DEPLOYMENTS[name])
    env = env_of(container, K)
    catalog = {k: v for k, v in env.items() if k.startswith("CATALOG_")}
    assert set(catalog) <= setting_names(), sorted(set(catalog) - setting_names())
    assert catalog["CATALOG_MILVUS_TOKEN"] == "root:<catalog-search-secrets/MILVUS_ROOT_PASSWORD>"
    for key in [k for k in os.environ if k.startswith("CATALOG_")]:
        monkeypatch.delenv(key)
    for key, value in catalog.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.embed.backend == "openai" and settings.milvus.index == "HNSW"
    assert settings.embed.api_key.get_secret_value() == "<catalog-search-secrets/VLLM_API_KEY>"


def test_workers_differ_from_the_gpu_compose_stack_only_in_addresses_and_scale() -> None:
    """The same model, dimension, analyzer and topics as the tested compose stack; hosts and counts differ."""
    gpu = compose(filled_env())["services"]["retrieve"]["environment"]
    differ = {"CATALOG_KAFKA_BOOTSTRAP", "CATALOG_MILVUS_URI", "CATALOG_KAFKA_PARTITIONS",
              "CATALOG_KAFKA_REPLICATION_FACTOR", "CATALOG_MILVUS_TOKEN", "CATALOG_METRICS_PORT"}
    for key, value in CONFIG.items():
        if key in gpu and key not in differ:
            assert gpu[key] == value, key


def test_retrieval_probes_are_native_grpc_on_the_served_port() -> None:
    container, = containers(DEPLOYMENTS["catalog-retrieve"])
    port = int(CONFIG["CATALOG_GRPC_ADDRESS"].rsplit(":", 1)[1])
    assert container["ports"] == [{"name": "grpc", "containerPort": port}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        grpc = container[probe]["grpc"]
        assert grpc["port"] == port, probe                   # a number: gRPC probes take no named port
        assert grpc.get("service", SERVICE_NAME) in (SERVICE_NAME, "")
    assert container["readinessProbe"]["grpc"]["service"] == SERVICE_NAME
    service = objects(K, "Service")["catalog-retrieve"]["spec"]["ports"]
    assert service == [{"name": "grpc", "port": port, "targetPort": "grpc", "appProtocol": "grpc"}]


# -- Kafka -----------------------------------------------------------------------------------------------------------

def test_the_catalog_topics_are_replicated_three_times_with_two_in_sync() -> None:
    clusters, pools, topics = objects(K, "Kafka"), objects(K, "KafkaNodePool"), objects(K, "KafkaTopic")
    catalog = clusters["catalog-kafka"]
    assert CONFIG["CATALOG_KAFKA_BOOTSTRAP"] == kafka_bootstrap(catalog)
    by_topic = {t["spec"]["topicName"]: t for t in topics.values()}
    assert set(by_topic) == {CONFIG["CATALOG_KAFKA_TOPIC"], CONFIG["CATALOG_KAFKA_DLQ_TOPIC"]}
    brokers = sum(p["spec"]["replicas"] for p in pools.values()
                  if p["metadata"]["labels"]["strimzi.io/cluster"] == "catalog-kafka" and "broker" in p["spec"]["roles"])
    controllers = sum(p["spec"]["replicas"] for p in pools.values()
                      if p["metadata"]["labels"]["strimzi.io/cluster"] == "catalog-kafka"
                      and "controller" in p["spec"]["roles"])
    assert brokers >= 3 and controllers % 2 == 1
    for topic in by_topic.values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] in clusters
        assert topic["spec"]["replicas"] == 3 and topic["spec"]["config"]["min.insync.replicas"] == 2
        assert topic["spec"]["replicas"] <= brokers
    main = by_topic[CONFIG["CATALOG_KAFKA_TOPIC"]]["spec"]
    assert int(CONFIG["CATALOG_KAFKA_PARTITIONS"]) == main["partitions"]
    assert int(CONFIG["CATALOG_KAFKA_REPLICATION_FACTOR"]) == main["replicas"]
    config = catalog["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False and config["min.insync.replicas"] == 2
    assert config["default.replication.factor"] == 3 and config["offsets.topic.replication.factor"] == 3


def test_ingest_scales_on_the_groups_lag_and_never_past_the_partitions() -> None:
    scaled = objects(K, "ScaledObject")["catalog-ingest"]["spec"]
    trigger, = scaled["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    assert meta["bootstrapServers"] == CONFIG["CATALOG_KAFKA_BOOTSTRAP"]
    assert meta["consumerGroup"] == CONFIG["CATALOG_KAFKA_GROUP"] and meta["topic"] == CONFIG["CATALOG_KAFKA_TOPIC"]
    assert int(meta["lagThreshold"]) > 0 and meta["allowIdleConsumers"] == "false"
    assert meta["offsetResetPolicy"] == "earliest"              # as the worker's consumer (auto_offset_reset)
    partitions = next(t["spec"]["partitions"] for t in objects(K, "KafkaTopic").values()
                      if t["spec"]["topicName"] == meta["topic"])
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"] <= partitions
    container, = containers(DEPLOYMENTS["catalog-ingest"])
    grace = DEPLOYMENTS["catalog-ingest"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace >= 30 and container["args"] == ["--log", "ingest", "kafka"]


# -- Milvus ----------------------------------------------------------------------------------------------------------

def test_milvus_runs_in_cluster_mode_on_a_kafka_of_its_own() -> None:
    milvus = objects(K, "Milvus")["catalog-milvus"]
    spec = milvus["spec"]
    assert spec["mode"] == "cluster"
    assert CONFIG["CATALOG_MILVUS_URI"] == f"http://{milvus['metadata']['name']}-milvus:19530"   # the proxy Service
    deps = spec["dependencies"]
    assert deps["msgStreamType"] == "kafka" and deps["kafka"]["external"] is True
    mq = objects(K, "Kafka")["milvus-mq"]
    assert deps["kafka"]["brokerList"] == [kafka_bootstrap(mq)]
    assert kafka_bootstrap(mq) != CONFIG["CATALOG_KAFKA_BOOTSTRAP"]       # Milvus's WAL never on the catalog topics
    assert deps["etcd"]["inCluster"]["values"]["replicaCount"] == 3
    assert spec["config"]["common"]["security"]["authorizationEnabled"] is True
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in spec["components"]["env"]}
    assert env["COMMON_SECURITY_DEFAULTROOTPASSWORD"] == {"name": "catalog-search-secrets",
                                                          "key": "MILVUS_ROOT_PASSWORD"}
    for component in ("proxy", "queryNode", "dataNode", "indexNode", "mixCoord"):
        assert spec["components"][component]["replicas"] >= 1, component
    assert spec["components"]["queryNode"]["replicas"] >= 2         # a query node can fail or drain


def test_milvus_is_the_server_version_compose_and_the_tests_run() -> None:
    image = objects(K, "Milvus")["catalog-milvus"]["spec"]["components"]["image"]
    assert image == compose(filled_env())["services"]["milvus"]["image"]
