"""Secrets are read from the environment or files and never printed or logged: every secret setting (and the tokens
of a tenant-tokens file, and the TLS private key) gets a distinctive value, and every output path we can drive -
``catalog-search`` commands that succeed, fail on a bad setting, fail on an unreachable backend, with info and debug
logging, ``serve`` and ``ui`` from start to SIGTERM, the server's answers and error messages - is searched for them.

The CLI's ``search`` and ``health`` also prove the client side of TLS + mTLS + the token from settings here: they
reach a real gRPC server that requires all three.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog_search.app.localstack import free_port
from catalog_search.core.settings import load_settings
from catalog_search.retrieve.server import start
from catalog_search.retrieve.tls import client_tls
from catalog_search.retrieve.tokens import load_tokens
from tests.retrieve.test_grpc_tls import RecordingSearcher, make_certs

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "CATALOG_GRPC_API_KEY": "grpc-key-S3CRET-a91f",
    "CATALOG_MILVUS_TOKEN": "root:milvus-S3CRET-b27c",
    "CATALOG_EMBED_API_KEY": "embed-key-S3CRET-c38d",
    "CATALOG_RERANK_API_KEY": "rerank-key-S3CRET-d49e",
    "CATALOG_SEARCH_PAGE_TOKEN_SECRET": "page-hmac-S3CRET-e50f",
}
TENANT_TOKEN = "tenant-tok-S3CRET-f61a0b2c"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    certs = make_certs(tmp_path_factory.mktemp("certs"))
    tokens = tmp_path_factory.mktemp("tokens") / "tenant-tokens"
    tokens.write_text(f"{TENANT_TOKEN} acme\n", encoding="utf-8")
    return {"certs": certs, "tokens": tokens}


def key_lines(certs: Path) -> list[str]:
    """The base64 lines of the private keys: none may appear anywhere."""
    return [line for name in ("server.key", "client.key") for line in (certs / name).read_text().splitlines()
            if line and not line.startswith("-----")]


def env_for(files: dict[str, Path], address: str, **extra: str) -> dict[str, str]:
    certs = files["certs"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_")}
    return {**base, **SECRETS, "CATALOG_GRPC_ADDRESS": address,
            "CATALOG_GRPC_TENANT_TOKENS_FILE": str(files["tokens"]),
            "CATALOG_GRPC_TLS_CERT_FILE": str(certs / "server.pem"), "CATALOG_GRPC_TLS_KEY_FILE": str(certs / "server.key"),
            "CATALOG_GRPC_TLS_CLIENT_CA_FILE": str(certs / "ca.pem"), "CATALOG_GRPC_TLS_CA_FILE": str(certs / "ca.pem"),
            "CATALOG_GRPC_TLS_CLIENT_CERT_FILE": str(certs / "client.pem"),
            "CATALOG_GRPC_TLS_CLIENT_KEY_FILE": str(certs / "client.key"),
            "CATALOG_MILVUS_URI": f"http://127.0.0.1:{free_port()}", "CATALOG_MILVUS_TIMEOUT_S": "2",
            "CATALOG_EMBED_BACKEND": "openai", "CATALOG_EMBED_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
            "CATALOG_EMBED_DIM": "384", "CATALOG_EMBED_TIMEOUT_S": "2",
            "CATALOG_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}", **extra}


def cli(env: dict[str, str], *args: str, timeout: float = 90) -> str:
    done = subprocess.run([sys.executable, "-m", "catalog_search.app.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)
    return f"$ {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"


def leaks(text: str, files: dict[str, Path]) -> list[str]:
    found = [name for name, value in SECRETS.items() if value in text or value.split(":")[-1] in text]
    found += ["tenant token"] if TENANT_TOKEN in text else []
    found += ["private key"] if any(line in text for line in key_lines(files["certs"])) else []
    return found


@pytest.fixture(scope="module")
def server(files: dict[str, Path]) -> Iterator[Any]:
    """A real gRPC server requiring mTLS and a token (the searcher a stand-in: this is about the edges)."""
    address = f"127.0.0.1:{free_port()}"
    settings = load_settings(**{k.removeprefix("CATALOG_").lower(): v
                                for k, v in env_for(files, address).items() if k.startswith("CATALOG_GRPC_")})
    handle = start(settings, RecordingSearcher())
    yield handle
    handle.stop(0.5)


def test_the_cli_searches_over_mtls_with_the_token_from_settings_and_prints_no_secret(
        server: Any, files: dict[str, Path]) -> None:
    env = env_for(files, server.address)
    outputs = [cli(env, "search", "drill", "--json"), cli(env, "-v", "search", "drill"),
               cli(env, "health"), cli(env, "--log", "health")]
    assert '"sku": "SKU-1"' in outputs[0] and ": SERVING" in outputs[2], outputs
    without_token = {k: v for k, v in env.items() if k != "CATALOG_GRPC_API_KEY"}
    refused = cli(without_token, "search", "drill")
    assert "UNAUTHENTICATED" in refused
    without_cert = {k: v for k, v in env.items() if "CLIENT_CERT" not in k and "CLIENT_KEY" not in k}
    no_cert = cli(without_cert, "search", "drill", "--timeout", "4")
    assert "CATALOG_GRPC_TLS_CLIENT_CERT_FILE" in no_cert
    plaintext = {k: v for k, v in without_cert.items() if k != "CATALOG_GRPC_TLS_CA_FILE"}
    plain_health = cli(plaintext, "health", "--timeout", "3")
    assert "UNAVAILABLE - if the server requires TLS, set CATALOG_GRPC_TLS_CA_FILE" in plain_health
    text = "\n".join([*outputs, refused, no_cert])
    assert leaks(text, files) == [], text


def test_failing_commands_and_bad_settings_print_no_secret(files: dict[str, Path], tmp_path: Path) -> None:
    env = env_for(files, f"127.0.0.1:{free_port()}")
    bad_tokens = tmp_path / "bad-tokens"
    bad_tokens.write_text(f"{TENANT_TOKEN} acme extra\n", encoding="utf-8")
    outputs = [
        cli(env, "-v", "stats"),                                              # Milvus unreachable, with its token
        cli(env, "search", "drill", "--timeout", "3"),                        # no server
        cli({**env, "CATALOG_GRPC_TENANT_TOKENS_FILE": str(bad_tokens)}, "serve"),     # a bad line: no token shown
        cli({**env, "CATALOG_GRPC_TLS_KEY_FILE": str(tmp_path / "missing.key")}, "serve"),
        cli({**env, "CATALOG_SEARCH_CANDIDATES": "0"}, "search", "x"),        # an invalid setting
        cli({**env, "CATALOG_GRPC_API_KEY": "short"}, "--help"),
    ]
    assert "configuration error: CATALOG_GRPC_TENANT_TOKENS_FILE" in outputs[2] and "line 1" in outputs[2]
    assert "CATALOG_GRPC_TLS_KEY_FILE: no such file" in outputs[3]
    text = "\n".join(outputs)
    assert leaks(text, files) == [], text


def spawn(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "catalog_search.app.cli", *args], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_for(log: Path, marker: str, proc: subprocess.Popen, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while marker not in log.read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)


def test_serve_and_ui_log_no_secret_from_start_through_errors_to_sigterm(files: dict[str, Path], tmp_path: Path,
                                                                         milvus_server: Any) -> None:
    """On the real Milvus Lite server (with no collection: searches fail there) and a dead embedder."""
    address = f"127.0.0.1:{free_port()}"
    env = env_for(files, address, CATALOG_MILVUS_URI=milvus_server.uri)
    serve_log, ui_log = tmp_path / "serve.log", tmp_path / "ui.log"
    serve = spawn(env, serve_log, "-v", "serve")
    ui = None
    try:
        wait_for(serve_log, "listening on", serve)
        assert "mTLS" in serve_log.read_text() and "2 bearer token(s)" in serve_log.read_text()
        port = free_port()
        ui = spawn(env, ui_log, "-v", "ui", "--port", str(port))
        wait_for(ui_log, "open the page as", ui)
        url = f"http://127.0.0.1:{port}/v1/search"
        assert httpx.post(url, json={"query": "drill"}, timeout=30).status_code == 401
        for token in (SECRETS["CATALOG_GRPC_API_KEY"], TENANT_TOKEN):        # no collection, no embedder
            answer = httpx.post(url, json={"query": "drill"}, headers={"Authorization": f"Bearer {token}"},
                                timeout=60)
            assert answer.status_code in (502, 503), answer.text
            assert leaks(answer.text, files) == [], answer.text
        for proc in (ui, serve):
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=45) == 0
    finally:
        for proc in (ui, serve):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    text = serve_log.read_text(errors="replace") + ui_log.read_text(errors="replace")
    assert leaks(text, files) == [], text


def test_reprs_hide_every_secret(files: dict[str, Path]) -> None:
    flat = {k.removeprefix("CATALOG_").lower(): v for k, v in
            env_for(files, "127.0.0.1:1").items() if k.startswith("CATALOG_")}
    settings = load_settings(**flat)
    text = repr(settings) + str(settings) + repr(load_tokens(settings.grpc)) + repr(client_tls(settings.grpc))
    assert leaks(text, files) == [], text
