"""TLS, mTLS and bearer tokens on a real gRPC server (``retrieve.server.start``, the real servicer and interceptors)
behind which a recording searcher stands in for Milvus; certificates from ``scripts/dev_certs.sh`` (openssl).

A plaintext client is refused by a TLS server, a client without a certificate by an mTLS server, a client trusting
another CA by both; the right ones get answers. Tokens are checked over TLS as over plaintext. Missing or unusable
certificate files are ``ConfigError``s naming their setting.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from catalog_search.app.localstack import free_port
from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import Settings, load_settings
from catalog_search.retrieve.client import SearchClient, SearchError, SearchUnavailable
from catalog_search.retrieve.domain import Hit, SearchResponse, StageScores
from catalog_search.retrieve.server import SearchServer, start
from catalog_search.retrieve.tenancy import bound_tenant
from catalog_search.retrieve.tls import client_tls

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 10.0
HIT = Hit(sku="SKU-1", title="Drill", brand="Bosch", category="Tools", price=10.0, currency="USD", in_stock=True,
          score=1.0, scores=StageScores(dense=0.5, bm25=1.0, fused=1.0, rerank=None))


def make_certs(where: Path) -> Path:
    done = subprocess.run(["bash", str(ROOT / "scripts" / "dev_certs.sh"), str(where)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return where


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second, unrelated CA with its own server and client certificates."""
    return make_certs(tmp_path_factory.mktemp("other"))


class RecordingSearcher:
    """Answers one hit; records each request with the tenant its call was bound to."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, str | None]] = []

    def search(self, req: Any, *, time_left_s: Any = None) -> SearchResponse:
        self.calls.append((req, bound_tenant()))
        return SearchResponse(hits=[HIT], models={"embedding": "fake", "reranker": "none"})


def tls_server(certs: Path, *, mtls: bool = False, **flat: Any) -> tuple[SearchServer, RecordingSearcher]:
    address = flat.pop("grpc_address", None) or f"127.0.0.1:{free_port()}"
    settings = load_settings(grpc_address=address, grpc_tls_cert_file=str(certs / "server.pem"),
                             grpc_tls_key_file=str(certs / "server.key"),
                             **({"grpc_tls_client_ca_file": str(certs / "ca.pem")} if mtls else {}), **flat)
    searcher = RecordingSearcher()
    return start(settings, searcher), searcher


def client_settings(address: str, certs: Path | None, *, client_cert: Path | None = None, **flat: Any) -> Settings:
    tls: dict[str, str] = {}
    if certs is not None:
        tls["grpc_tls_ca_file"] = str(certs / "ca.pem")
    if client_cert is not None:
        tls.update(grpc_tls_client_cert_file=str(client_cert / "client.pem"),
                   grpc_tls_client_key_file=str(client_cert / "client.key"))
    return load_settings(grpc_address=address, **tls, **flat)


def client(settings: Settings, **kw: Any) -> SearchClient:
    return SearchClient.from_settings(settings.grpc, timeout_s=kw.pop("timeout_s", TIMEOUT_S), **kw)


@pytest.fixture
def tls(certs: Path) -> Iterator[tuple[SearchServer, RecordingSearcher]]:
    handle, searcher = tls_server(certs)
    yield handle, searcher
    handle.stop(0.5)


@pytest.fixture
def mtls(certs: Path) -> Iterator[tuple[SearchServer, RecordingSearcher]]:
    handle, searcher = tls_server(certs, mtls=True)
    yield handle, searcher
    handle.stop(0.5)


# -------------------------------------------------------------------------------------------------------- TLS

def test_a_tls_server_answers_a_client_that_trusts_its_ca(tls: tuple, certs: Path) -> None:
    handle, searcher = tls
    with client(client_settings(handle.address, certs)) as c:
        assert [h.sku for h in c.search("drill").hits] == ["SKU-1"]
        assert c.health() == "SERVING"
    assert len(searcher.calls) == 1


def test_the_server_name_can_differ_from_the_address(tls: tuple, certs: Path) -> None:
    handle, _ = tls
    by_name = client_settings(f"localhost:{handle.port}", certs)
    with client(by_name) as c:
        assert c.search("drill").hits
    renamed = client_settings(handle.address, certs, grpc_tls_server_name="retrieve")      # a SAN of the cert
    with client(renamed) as c:
        assert c.search("drill").hits
    wrong = client_settings(handle.address, certs, grpc_tls_server_name="search.example.com")
    with client(wrong, retries=0, timeout_s=5.0) as c, pytest.raises(SearchUnavailable):
        c.search("drill")


def test_a_plaintext_client_is_refused_by_a_tls_server_and_told_why(tls: tuple) -> None:
    handle, searcher = tls
    with client(client_settings(handle.address, None), retries=1, timeout_s=5.0) as c:
        with pytest.raises(SearchUnavailable) as refused:
            c.search("drill")
        assert c.health(timeout_s=3.0) == "UNREACHABLE"
    assert "CATALOG_GRPC_TLS_CA_FILE" in refused.value.message
    assert searcher.calls == []


def test_a_client_trusting_another_ca_is_refused_and_told_what_to_check(tls: tuple, other_ca: Path) -> None:
    handle, searcher = tls
    with client(client_settings(handle.address, other_ca), retries=0, timeout_s=5.0) as c:
        with pytest.raises(SearchUnavailable) as refused:
            c.search("drill")
    assert "TLS handshake failed" in refused.value.message and "CATALOG_GRPC_TLS_CA_FILE" in refused.value.message
    assert searcher.calls == []


def test_a_tls_client_is_refused_by_a_plaintext_server(certs: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    handle = start(load_settings(grpc_address=address), RecordingSearcher())
    try:
        with client(client_settings(address, certs), retries=0, timeout_s=5.0) as c:
            with pytest.raises(SearchUnavailable) as refused:
                c.search("drill")
        assert "TLS handshake failed" in refused.value.message
        with client(client_settings(address, None)) as plain:
            assert plain.search("drill").hits
    finally:
        handle.stop(0.5)


# -------------------------------------------------------------------------------------------------------- mTLS

def test_mtls_refuses_a_client_without_a_certificate(mtls: tuple, certs: Path) -> None:
    handle, searcher = mtls
    with client(client_settings(handle.address, certs), retries=0, timeout_s=5.0) as c:
        with pytest.raises(SearchUnavailable) as refused:
            c.search("drill")
    assert "CATALOG_GRPC_TLS_CLIENT_CERT_FILE" in refused.value.message
    assert searcher.calls == []


def test_mtls_refuses_a_certificate_from_another_ca(mtls: tuple, certs: Path, other_ca: Path) -> None:
    handle, searcher = mtls
    with client(client_settings(handle.address, certs, client_cert=other_ca), retries=0, timeout_s=5.0) as c:
        with pytest.raises(SearchUnavailable):
            c.search("drill")
    assert searcher.calls == []


def test_mtls_answers_a_client_with_a_certificate_of_its_ca(mtls: tuple, certs: Path) -> None:
    handle, searcher = mtls
    with client(client_settings(handle.address, certs, client_cert=certs)) as c:
        assert c.search("drill").hits and c.health() == "SERVING"
    assert len(searcher.calls) == 1


# ---------------------------------------------------------------------------------------------- tokens over TLS

def test_over_tls_a_call_without_the_token_is_unauthenticated_and_one_with_it_passes(certs: Path) -> None:
    handle, searcher = tls_server(certs, mtls=True, grpc_api_key="over-tls-key")
    try:
        base = dict(client_cert=certs)
        with client(client_settings(handle.address, certs, **base)) as stranger:
            with pytest.raises(SearchError) as refused:
                stranger.search("drill")
            assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
            assert stranger.health() == "SERVING"                       # probes need no token
        with client(client_settings(handle.address, certs, grpc_api_key="wrong-key", **base)) as wrong:
            with pytest.raises(SearchError) as bad:
                wrong.search("drill")
            assert bad.value.code == grpc.StatusCode.UNAUTHENTICATED
        assert searcher.calls == []
        with client(client_settings(handle.address, certs, grpc_api_key="over-tls-key", **base)) as holder:
            assert holder.search("drill").hits
        assert searcher.calls[0][1] is None               # the API key is bound to no tenant
    finally:
        handle.stop(0.5)


def test_a_tenant_token_binds_its_calls_to_its_tenant_and_the_api_key_to_none(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("# token tenant\n" "tok-acme-0123456789abcdef acme\n\n" "tok-globex-0123456789abcd globex\n")
    address = f"127.0.0.1:{free_port()}"
    searcher = RecordingSearcher()
    handle = start(load_settings(grpc_address=address, grpc_api_key="admin-key-0123456789",
                                 grpc_tenant_tokens_file=str(tokens)), searcher)
    try:
        for token, tenant in (("tok-acme-0123456789abcdef", "acme"), ("tok-globex-0123456789abcd", "globex"),
                              ("admin-key-0123456789", None)):
            with SearchClient(address, timeout_s=TIMEOUT_S, api_key=token) as c:
                c.search("drill", tenant="globex" if tenant == "acme" else None)
            assert searcher.calls[-1][1] == tenant
        with SearchClient(address, timeout_s=TIMEOUT_S, api_key="tok-acme-0123456789abcde") as near:
            with pytest.raises(SearchError) as refused:              # one character short of a token
                near.search("drill")
            assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
        with SearchClient(address, timeout_s=TIMEOUT_S) as none, pytest.raises(SearchError) as refused:
            none.search("drill")
        assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
        assert len(searcher.calls) == 3
    finally:
        handle.stop(0.5)
    assert bound_tenant() is None                    # the binding never leaks out of a call


# -------------------------------------------------------------------------------------------- configuration errors

@pytest.mark.parametrize("setting", ["grpc_tls_cert_file", "grpc_tls_key_file", "grpc_tls_client_ca_file"])
def test_a_missing_server_file_is_a_config_error_naming_its_setting(certs: Path, tmp_path: Path,
                                                                    setting: str) -> None:
    files = {"grpc_tls_cert_file": certs / "server.pem", "grpc_tls_key_file": certs / "server.key",
             "grpc_tls_client_ca_file": certs / "ca.pem"}
    files[setting] = tmp_path / "nowhere.pem"
    settings = load_settings(grpc_address=f"127.0.0.1:{free_port()}", **{k: str(v) for k, v in files.items()})
    searcher = RecordingSearcher()
    with pytest.raises(ConfigError, match=f"CATALOG_{setting.upper()}: no such file"):
        start(settings, searcher)


def test_unreadable_or_not_pem_files_are_config_errors(certs: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="CATALOG_GRPC_TLS_CA_FILE: .* is not a PEM file"):
        client_tls(load_settings(grpc_tls_ca_file=str(junk)).grpc)
    with pytest.raises(ConfigError, match="CATALOG_GRPC_TLS_CLIENT_KEY_FILE: .* is a directory"):
        client_tls(load_settings(grpc_tls_ca_file=str(certs / "ca.pem"),
                                 grpc_tls_client_cert_file=str(certs / "client.pem"),
                                 grpc_tls_client_key_file=str(tmp_path)).grpc)
    swapped = load_settings(grpc_address=f"127.0.0.1:{free_port()}", grpc_tls_cert_file=str(certs / "server.pem"),
                            grpc_tls_key_file=str(certs / "client.key"))       # a key of another certificate
    with pytest.raises(ConfigError, match="CATALOG_GRPC_TLS_CERT_FILE / CATALOG_GRPC_TLS_KEY_FILE"):
        start(swapped, RecordingSearcher())


@pytest.mark.parametrize("flat, message", [
    ({"grpc_tls_cert_file": "a.pem"}, "CATALOG_GRPC_TLS_CERT_FILE and CATALOG_GRPC_TLS_KEY_FILE go together"),
    ({"grpc_tls_client_key_file": "k"}, "CATALOG_GRPC_TLS_CLIENT_CERT_FILE and CATALOG_GRPC_TLS_CLIENT_KEY_FILE"),
    ({"grpc_tls_client_ca_file": "ca.pem"}, "needs the server's own certificate"),
    ({"grpc_tls_client_cert_file": "c", "grpc_tls_client_key_file": "k"}, "set CATALOG_GRPC_TLS_CA_FILE"),
])
def test_half_configured_tls_is_refused_with_the_settings_named(flat: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(**flat)


def test_a_busy_address_is_named_as_such_under_tls_too(tls: tuple, certs: Path) -> None:
    """The TLS-files message is kept for files grpc refuses: a taken port still says so."""
    handle, _ = tls
    with pytest.raises(ConfigError, match=r"cannot listen on .*CATALOG_GRPC_ADDRESS"):
        tls_server(certs, grpc_address=handle.address)


def test_a_fixed_tenant_and_tenant_tokens_together_are_refused(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("tok-acme-0123456789abcdef acme\n")
    settings = load_settings(grpc_address=f"127.0.0.1:{free_port()}", search_tenant="acme",
                             grpc_tenant_tokens_file=str(tokens))
    with pytest.raises(ConfigError, match="CATALOG_SEARCH_TENANT and CATALOG_GRPC_TENANT_TOKENS_FILE: set one"):
        start(settings, RecordingSearcher())
