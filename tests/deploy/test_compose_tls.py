"""The compose stack's retrieval service serves TLS (and wants the bearer token): its certificates are mounted
read-only from a folder git and the image build never see, the health check is a TLS client, and the settings as
compose writes them do work - a real gRPC server started with the retrieve services' own CATALOG_GRPC_* values
(certificate paths mapped to certificates made by scripts/dev_certs.sh) answers the image's health check and refuses
plaintext callers and callers without the token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest

from catalog_search.app.localstack import free_port
from catalog_search.core.settings import load_settings
from catalog_search.retrieve.client import SearchClient, SearchError, SearchUnavailable
from catalog_search.retrieve.server import start
from tests.deploy.manifests import REPO_ROOT, compose, filled_env, host_ports
from tests.retrieve.test_grpc_tls import RecordingSearcher, make_certs

RETRIEVE = ("retrieve", "retrieve-cpu")
INGEST = ("ingest", "ingest-cpu")
ADMIN_PORTS = {"kafka": 9094, "milvus": 9091, "minio": 9001, "prometheus": 9090, "ingest": 9464}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return compose(filled_env())


def mount(service: dict[str, Any]) -> tuple[str, str, str]:
    (volume,) = service["volumes"]
    source, target, mode = volume.split(":")
    return source, target, mode


@pytest.mark.parametrize("name", RETRIEVE)
def test_the_retrieval_service_serves_tls_from_a_read_only_mount(config: dict[str, Any], name: str) -> None:
    svc = config["services"][name]
    env = svc["environment"]
    source, target, mode = mount(svc)
    assert (source, mode) == ("./deploy/certs", "ro")
    for key in ("CATALOG_GRPC_TLS_CERT_FILE", "CATALOG_GRPC_TLS_KEY_FILE", "CATALOG_GRPC_TLS_CA_FILE"):
        assert env[key].startswith(target + "/"), key
    assert env["CATALOG_GRPC_API_KEY"]                              # TLS carries a token, not instead of one
    assert svc["healthcheck"]["test"] == ["CMD", "catalog-search", "health"]   # reads the same CA setting


def test_the_ingest_workers_get_no_tls_files(config: dict[str, Any]) -> None:
    for name in INGEST:
        assert not [k for k in config["services"][name]["environment"] if "TLS" in k]


def test_the_certificates_folder_reaches_neither_git_nor_the_image() -> None:
    assert "deploy/certs/" in (REPO_ROOT / ".gitignore").read_text().splitlines()
    assert "deploy/certs" in (REPO_ROOT / ".dockerignore").read_text().splitlines()


def test_admin_ports_are_published_on_localhost_only_and_internal_ones_not_at_all(config: dict[str, Any]) -> None:
    for name, container in ADMIN_PORTS.items():
        bound = {int(c): ip for ip, _, c in host_ports(config["services"][name])}
        assert bound.get(container) == "127.0.0.1", (name, bound)
    assert not config["services"]["etcd"].get("ports")                       # 2379: containers only
    assert 9000 not in {int(c) for _, _, c in host_ports(config["services"]["minio"])}   # the S3 API


def test_the_dev_certificate_names_every_address_the_clients_use(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    san = subprocess.run(["openssl", "x509", "-in", str(certs / "server.pem"), "-noout", "-ext", "subjectAltName"],
                         capture_output=True, text=True, check=True).stdout
    for name in ("DNS:localhost", "DNS:retrieve", "DNS:retrieve-cpu", "IP Address:127.0.0.1"):
        assert name in san, san
    modes = {p.name: p.stat().st_mode & 0o777 for p in certs.iterdir()}
    assert modes["server.key"] == modes["client.key"] == 0o600 and modes["ca.pem"] == 0o644
    assert not (certs / "ca.key").exists()                       # nothing left to sign more certificates with


@pytest.mark.parametrize("name", RETRIEVE)
def test_the_compose_settings_serve_tls_that_the_health_check_passes(config: dict[str, Any], name: str,
                                                                     tmp_path: Path) -> None:
    env = config["services"][name]["environment"]
    certs = make_certs(tmp_path / "certs")
    target = mount(config["services"][name])[1]
    grpc_env = {k: str(v).replace(target, str(certs)) for k, v in env.items() if k.startswith("CATALOG_GRPC_")}
    port = free_port()
    grpc_env["CATALOG_GRPC_ADDRESS"] = f"0.0.0.0:{port}"            # as in the container, on a free port
    settings = load_settings(**{k.removeprefix("CATALOG_").lower(): v for k, v in grpc_env.items()})
    assert settings.grpc.serves_tls and settings.grpc.connects_tls
    handle = start(settings, RecordingSearcher())
    try:
        child_env = {**{k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}, **grpc_env}
        check = subprocess.run([sys.executable, "-m", "catalog_search.app.cli", "health"], capture_output=True,
                               text=True, timeout=60, cwd=REPO_ROOT, env=child_env)
        assert check.returncode == 0 and "SERVING" in check.stdout, check.stderr
        local = f"127.0.0.1:{port}"
        with SearchClient.from_settings(settings.grpc, address=local, timeout_s=10) as client:
            assert client.search("drill").hits
        with SearchClient(local, timeout_s=5, retries=0, api_key=env["CATALOG_GRPC_API_KEY"]) as plaintext:
            with pytest.raises(SearchUnavailable):
                plaintext.search("drill")
        tokenless = settings.replace(grpc_api_key="")
        with SearchClient.from_settings(tokenless.grpc, address=local, timeout_s=10) as stranger:
            with pytest.raises(SearchError) as refused:
                stranger.search("drill")
            assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
    finally:
        handle.stop(0.5)
