"""docker-compose.yml, read as compose reads it (YAML merge keys, ``${VAR}`` interpolation from .env): credentials
only from .env, host ports on localhost, every CATALOG_* value a valid setting, the names and ports the workers use
are the services that serve them, and the gpu and cpu profiles each start a complete stack. No Docker engine here:
this is what can be checked without starting it."""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from typing import Any
from urllib.parse import urlsplit

import pytest

from catalog_search.core.settings import load_settings
from scripts.fill_env import CREDENTIAL
from tests.deploy.manifests import (ENV_EXAMPLE, REPO_ROOT, MissingVariable, compose, compose_raw, filled_env,
                                    host_ports, read_env_file, services_in, setting_names, variables)
from tests.support.stack import MILVUS_IMAGE

WORKERS = {"gpu": ("ingest", "retrieve"), "cpu": ("ingest-cpu", "retrieve-cpu")}
SHARED = {"kafka", "kafka-init", "etcd", "minio", "milvus"}       # no profile: both stacks run them


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    """A user's .env: the example with its credentials filled (random values, drawn once for the module)."""
    return filled_env()


@pytest.fixture(scope="module")
def config(env: dict[str, str]) -> dict[str, Any]:
    return compose(env)


def catalog_env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in service["environment"].items() if k.startswith("CATALOG_")}


# -- credentials -----------------------------------------------------------------------------------------------------

def test_every_credential_is_required_from_env_and_listed_empty_in_the_example() -> None:
    refs = list(variables(compose_raw()))
    required = {name for name, op, _ in refs if op in (":?", "?")}
    example = read_env_file(ENV_EXAMPLE)
    assert required == {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MILVUS_ROOT_PASSWORD", "VLLM_API_KEY", "PAGE_TOKEN_KEY",
                        "SEARCH_API_KEY"}
    assert {k: example[k] for k in required} == dict.fromkeys(required, "")     # no value in the committed example
    for name, op, arg in refs:
        if re.search(r"PASSWORD|_KEY|_USER|TOKEN|SECRET", name):
            # a credential never has a fallback; HF_TOKEN is optional (public models) and falls back to nothing
            assert op in (":?", "?") or (name == "HF_TOKEN" and arg == ""), (name, op, arg)
    assert not set(re.findall(r"minioadmin|root:Milvus\b", (REPO_ROOT / "docker-compose.yml").read_text()))


def test_compose_refuses_the_example_as_is_and_accepts_it_once_filled() -> None:
    with pytest.raises(MissingVariable, match="set .* in .env"):
        compose(read_env_file(ENV_EXAMPLE))
    filled = filled_env()
    assert all(filled[k] for k in filled if CREDENTIAL.match(f"{k}="))
    compose(filled)      # no MissingVariable


def test_every_variable_compose_reads_is_documented_in_the_example() -> None:
    documented = set(read_env_file(ENV_EXAMPLE)) | set(re.findall(r"^# ([A-Z_]+)=", ENV_EXAMPLE.read_text(),
                                                                  re.MULTILINE))
    used = {name for name, _, _ in variables(compose_raw())}
    assert used <= documented, sorted(used - documented)
    assert documented - used == {"COMPOSE_PROFILES"}        # read by compose itself, not interpolated


def test_the_workers_reach_milvus_with_the_root_password_milvus_starts_with(config: dict[str, Any],
                                                                           env: dict[str, str]) -> None:
    milvus = config["services"]["milvus"]["environment"]
    assert milvus["COMMON_SECURITY_AUTHORIZATIONENABLED"] == "true"
    assert milvus["COMMON_SECURITY_DEFAULTROOTPASSWORD"] == env["MILVUS_ROOT_PASSWORD"]
    minio = config["services"]["minio"]["environment"]
    assert (milvus["MINIO_ACCESS_KEY_ID"], milvus["MINIO_SECRET_ACCESS_KEY"]) == \
        (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]) == (env["MINIO_ROOT_USER"], env["MINIO_ROOT_PASSWORD"])
    for workers in WORKERS.values():
        for name in workers:
            assert config["services"][name]["environment"]["CATALOG_MILVUS_TOKEN"] == \
                f"root:{env['MILVUS_ROOT_PASSWORD']}"


def test_the_vllm_servers_require_the_key_the_workers_send(config: dict[str, Any], env: dict[str, str]) -> None:
    key = env["VLLM_API_KEY"]
    for server in ("vllm-embed", "vllm-rerank"):
        assert config["services"][server]["environment"]["VLLM_API_KEY"] == key
    assert config["services"]["ingest"]["environment"]["CATALOG_EMBED_API_KEY"] == key
    retrieve = config["services"]["retrieve"]["environment"]
    assert retrieve["CATALOG_EMBED_API_KEY"] == retrieve["CATALOG_RERANK_API_KEY"] == key


# -- ports -----------------------------------------------------------------------------------------------------------

def test_every_host_port_is_bound_to_localhost(config: dict[str, Any]) -> None:
    published = {name: host_ports(svc) for name, svc in config["services"].items() if svc.get("ports")}
    assert {"kafka", "milvus", "minio", "vllm-embed", "vllm-rerank", "ingest", "retrieve", "prometheus"} <= \
        set(published)
    for name, ports in published.items():
        for ip, host, container in ports:
            assert ip == "127.0.0.1", (name, ip, host, container)


def test_the_retrieval_port_opens_wider_only_when_asked(env: dict[str, str]) -> None:
    wide = compose({**env, "RETRIEVE_BIND": "0.0.0.0"})
    assert [p[0] for p in host_ports(wide["services"]["retrieve"])] == ["0.0.0.0"]
    assert [p[0] for p in host_ports(wide["services"]["milvus"])] == ["127.0.0.1", "127.0.0.1"]


# -- settings --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile", sorted(WORKERS))
def test_worker_environments_are_valid_settings(config: dict[str, Any], profile: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    known = setting_names()
    for name in WORKERS[profile]:
        env = catalog_env(config["services"][name])
        assert set(env) <= known, sorted(set(env) - known)          # a typo would be ignored silently
        for key in [k for k in os.environ if k.startswith("CATALOG_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = load_settings()                                   # ConfigError on any invalid value
        assert settings.milvus.bm25_analyzer == "multilingual"      # the sample catalog is half Chinese
        assert settings.milvus.index == "HNSW" and settings.kafka.replication_factor == 1
        if profile == "gpu":
            assert settings.embed.backend == "openai" and settings.embed.vector_dim == 1024
        else:
            assert settings.embed.backend == "local" and settings.rerank.backend == "none"
        if name.startswith("retrieve"):
            assert settings.rerank.backend == ("vllm" if profile == "gpu" else "none")


def test_the_two_profiles_write_different_collections(config: dict[str, Any]) -> None:
    """384-d (local) and 1024-d (Qwen3) vectors never meet in one collection when a user switches profiles."""
    gpu, cpu = (catalog_env(config["services"][WORKERS[p][0]]) for p in ("gpu", "cpu"))
    defaults = load_settings()
    gpu_collection = gpu.get("CATALOG_MILVUS_COLLECTION", defaults.milvus.collection)
    gpu_alias = gpu.get("CATALOG_MILVUS_ALIAS", defaults.milvus.alias)
    assert cpu["CATALOG_MILVUS_COLLECTION"] != gpu_collection and cpu["CATALOG_MILVUS_ALIAS"] != gpu_alias
    for profile in WORKERS:    # within a profile, the searcher reads what the worker writes
        ingest, retrieve = (catalog_env(config["services"][n]) for n in WORKERS[profile])
        for key in ("CATALOG_MILVUS_COLLECTION", "CATALOG_MILVUS_ALIAS", "CATALOG_EMBED_BACKEND",
                    "CATALOG_EMBED_MODEL", "CATALOG_EMBED_DIM", "CATALOG_BM25_ANALYZER"):
            assert ingest.get(key) == retrieve.get(key), (profile, key)


# -- who talks to whom -----------------------------------------------------------------------------------------------

def _endpoint(url_or_hostport: str) -> tuple[str, int]:
    parts = urlsplit(url_or_hostport if "//" in url_or_hostport else f"//{url_or_hostport}")
    return parts.hostname or "", int(parts.port or 0)


def _container_ports(service: dict[str, Any]) -> set[int]:
    command = service.get("command") or []
    listed = {int(c) for _, _, c in host_ports(service)}
    if "--port" in command:
        listed.add(int(command[command.index("--port") + 1]))
    return listed


@pytest.mark.parametrize("profile", sorted(WORKERS))
def test_worker_endpoints_are_services_of_the_same_profile(config: dict[str, Any], profile: str) -> None:
    running = services_in(config, profile)
    kafka_listeners = running["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    for name in WORKERS[profile]:
        env = catalog_env(running[name])
        assert f"INTERNAL://{env['CATALOG_KAFKA_BOOTSTRAP']}" in kafka_listeners.split(",")
        host, port = _endpoint(env["CATALOG_MILVUS_URI"])
        assert host == "milvus" and port in _container_ports(running["milvus"])
        for key in ("CATALOG_EMBED_BASE_URL", "CATALOG_RERANK_BASE_URL"):
            if key in env:
                host, port = _endpoint(env[key])
                assert host in running and port in _container_ports(running[host]), (name, key)
                assert urlsplit(env[key]).path == "/v1"
        assert profile == "gpu" or not any("vllm" in v for v in env.values())


@pytest.mark.parametrize("profile", sorted(WORKERS))
def test_each_profile_starts_a_complete_stack_in_dependency_order(config: dict[str, Any], profile: str) -> None:
    running = services_in(config, profile)
    assert SHARED | set(WORKERS[profile]) <= set(running)
    for other in WORKERS:
        if other != profile:
            assert not set(WORKERS[other]) & set(running)
    for name, svc in running.items():
        for dep, how in (svc.get("depends_on") or {}).items():
            assert dep in running, (profile, name, dep)            # never waits on a service that does not start
            if how["condition"] == "service_healthy":
                assert running[dep].get("healthcheck", {}).get("test"), (name, dep)
            else:
                assert how["condition"] == "service_completed_successfully" and dep == "kafka-init"
    if profile == "cpu":
        assert not [n for n, s in running.items() if "deploy" in s or "vllm" in str(s.get("image", ""))]


def test_profiles_are_gpu_cpu_or_observability_and_the_example_picks_gpu() -> None:
    raw = compose_raw()["services"]
    assert {n for n, s in raw.items() if not s.get("profiles")} == SHARED
    assert {p for s in raw.values() for p in s.get("profiles", [])} == {"gpu", "cpu", "observability"}
    assert read_env_file(ENV_EXAMPLE)["COMPOSE_PROFILES"] == "gpu"


def test_the_retrieval_health_check_is_the_images_grpc_check(config: dict[str, Any]) -> None:
    from tests.packaging.test_dockerfile import stages

    _, runtime = stages()
    image_check = json.loads(next(a for op, a in runtime if op == "HEALTHCHECK").split(" CMD ", 1)[1])
    for name in ("retrieve", "retrieve-cpu"):
        svc = config["services"][name]
        assert svc["healthcheck"]["test"] == ["CMD", *image_check]
        grpc_port = _endpoint(svc["environment"]["CATALOG_GRPC_ADDRESS"])[1]
        assert {int(c) for _, _, c in host_ports(svc)} == {grpc_port}
    for name in ("ingest", "ingest-cpu"):
        svc = config["services"][name]
        port = int(svc["environment"]["CATALOG_METRICS_PORT"])
        assert f"localhost:{port}/metrics" in " ".join(svc["healthcheck"]["test"])
        assert {int(c) for _, _, c in host_ports(svc)} == {port}


def test_kafka_init_creates_the_topics_the_workers_use_with_their_partitions(config: dict[str, Any]) -> None:
    script = config["services"]["kafka-init"]["command"][0].replace("\\\n", " ")
    created = {}
    for line in script.splitlines():
        if "--create" in line:
            words = shlex.split(line)
            created[words[words.index("--topic") + 1]] = (int(words[words.index("--partitions") + 1]),
                                                           int(words[words.index("--replication-factor") + 1]))
    for profile in WORKERS:
        env = catalog_env(config["services"][WORKERS[profile][0]])
        assert set(created) == {env["CATALOG_KAFKA_TOPIC"], env["CATALOG_KAFKA_DLQ_TOPIC"]}
        assert created[env["CATALOG_KAFKA_TOPIC"]] == (int(env["CATALOG_KAFKA_PARTITIONS"]),
                                                      int(env["CATALOG_KAFKA_REPLICATION_FACTOR"]))
    kafka = config["services"]["kafka"]["environment"]
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert int(kafka["KAFKA_NUM_PARTITIONS"]) == created["catalog.products"][0]


# -- versions --------------------------------------------------------------------------------------------------------

def test_the_milvus_server_is_on_the_line_of_the_pinned_client(config: dict[str, Any]) -> None:
    """pymilvus 2.5 (what Milvus Lite 2.5.1, the embedded default, needs) against a 2.5 server: one line."""
    image = config["services"]["milvus"]["image"]
    assert image == MILVUS_IMAGE
    server = tuple(int(x) for x in re.fullmatch(r"milvusdb/milvus:v(\d+)\.(\d+)\.\d+", image).groups())
    deps = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pymilvus = next(d for d in deps if d.startswith("pymilvus"))
    low = re.search(r">=\s*(\d+)\.(\d+)", pymilvus).groups()
    high = re.search(r"<\s*(\d+)\.(\d+)", pymilvus).groups()
    assert tuple(map(int, low)) == server and tuple(map(int, high)) == (server[0], server[1] + 1), pymilvus
    lite = next(d for d in deps if d.startswith("milvus-lite"))
    assert re.search(rf"=={server[0]}\.{server[1]}\.", lite), lite
    assert config["services"]["milvus"]["command"] == ["milvus", "run", "standalone"]
    assert "MQ_TYPE" not in config["services"]["milvus"]["environment"]    # 2.5 standalone: its own rocksmq
