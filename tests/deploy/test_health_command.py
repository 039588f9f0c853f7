"""``catalog-search health`` (the image's HEALTHCHECK, the compose health check of the retrieval service) against a
real in-process gRPC server: SERVING exits 0; NOT_SERVING (draining), an unknown service and no server exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grpc_health.v1 import health_pb2

from catalog_search.app.health_command import local_address
from catalog_search.app.localstack import free_port
from catalog_search.retrieve.servicer import SERVICE_NAME
from tests.deploy.health_server import serving

SCRIPT = Path(sys.executable).with_name("catalog-search")


def health(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    return subprocess.run([str(SCRIPT), "health", *argv], env={**clean, **(env or {})}, capture_output=True,
                          text=True, timeout=60, check=False)


def test_wildcard_listen_addresses_are_reached_on_localhost() -> None:
    assert local_address("0.0.0.0:50051") == "127.0.0.1:50051"
    assert local_address("[::]:50051") == "[::1]:50051"
    assert local_address(":50051") == "127.0.0.1:50051"
    assert local_address("10.0.0.7:6000") == "10.0.0.7:6000"


def test_serving_exits_0_with_the_address_from_the_listen_setting_as_the_container_runs_it() -> None:
    with serving("0.0.0.0") as server:
        # exactly the HEALTHCHECK's argv, with the retrieve container's CATALOG_GRPC_ADDRESS
        done = health(env={"CATALOG_GRPC_ADDRESS": f"0.0.0.0:{server.port}"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"127.0.0.1:{server.port} {SERVICE_NAME}: SERVING"


def test_not_serving_unknown_service_and_no_server_exit_1() -> None:
    with serving() as server:
        address = f"127.0.0.1:{server.port}"
        assert health("--address", address, "--service", "").returncode == 0          # the whole server
        unknown = health("--address", address, "--service", "no.such.Service")
        assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr
        server.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
        draining = health("--address", address)
        assert draining.returncode == 1 and draining.stdout.strip().endswith("NOT_SERVING")
    gone = health("--address", f"127.0.0.1:{free_port()}", "--timeout", "1")
    assert gone.returncode == 1 and ("UNAVAILABLE" in gone.stderr or "DEADLINE_EXCEEDED" in gone.stderr), gone
