"""TLS and mTLS of the retrieval gRPC service, from the ``CATALOG_GRPC_TLS_*`` file settings.

Settings hold paths only; the PEM files are read once, where a server or a client is made, and a file that is
missing, unreadable or not PEM is a ``ConfigError`` naming its setting. Private keys are held in fields left out of
every repr and are never logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc

from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import GrpcSettings, read_setting_file


@dataclass(frozen=True)
class ClientTls:
    """What a client needs to reach a TLS server: the CA that verifies it and, for mTLS, its own certificate."""

    root_certificates: bytes
    certificate_chain: bytes | None = None
    private_key: bytes | None = field(default=None, repr=False)
    server_name: str = ""


def read_pem(path: str, setting: str) -> bytes:
    """The PEM file at ``path`` (named by ``setting`` in every error)."""
    data = read_setting_file(path, setting)
    if b"-----BEGIN " not in data:
        raise ConfigError(f"{setting}: {path!r} is not a PEM file (no -----BEGIN line)")
    return data


def server_credentials(grpc_settings: GrpcSettings) -> grpc.ServerCredentials | None:
    """TLS credentials of the server (client certificates required when a client CA is set); None: plaintext."""
    if not grpc_settings.serves_tls:
        return None
    env = GrpcSettings.env_name
    cert = read_pem(grpc_settings.tls_cert_file, env("tls_cert_file"))
    key = read_pem(grpc_settings.tls_key_file, env("tls_key_file"))
    client_ca = (read_pem(grpc_settings.tls_client_ca_file, env("tls_client_ca_file"))
                 if grpc_settings.tls_client_ca_file else None)
    try:
        return grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                           require_client_auth=client_ca is not None)
    except Exception as exc:  # noqa: BLE001 - grpc raises plain errors for unusable PEM
        raise ConfigError(f"{env('tls_cert_file')} / {env('tls_key_file')}: not a usable certificate and key "
                          f"({type(exc).__name__})") from None


def client_tls(grpc_settings: GrpcSettings) -> ClientTls | None:
    """The client side from settings; None when the client connects in plaintext (no CA file set)."""
    if not grpc_settings.connects_tls:
        return None
    env = GrpcSettings.env_name
    cert = key = None
    if grpc_settings.tls_client_cert_file:
        cert = read_pem(grpc_settings.tls_client_cert_file, env("tls_client_cert_file"))
        key = read_pem(grpc_settings.tls_client_key_file, env("tls_client_key_file"))
    return ClientTls(read_pem(grpc_settings.tls_ca_file, env("tls_ca_file")), cert, key,
                     grpc_settings.tls_server_name)


def open_channel(address: str, tls: ClientTls | None, options: Iterable[tuple[str, Any]] = ()) -> grpc.Channel:
    """A channel to ``address``: TLS (``tls`` given) or plaintext."""
    opts = list(options)
    if tls is None:
        return grpc.insecure_channel(address, options=opts)
    if tls.server_name:
        opts.append(("grpc.ssl_target_name_override", tls.server_name))
    creds = grpc.ssl_channel_credentials(root_certificates=tls.root_certificates, private_key=tls.private_key,
                                         certificate_chain=tls.certificate_chain)
    return grpc.secure_channel(address, creds, options=opts)


def tls_hint(details: str, *, tls: bool) -> str:
    """What to check when no connection came up (``details`` of an UNAVAILABLE): the two sides disagree on TLS, the
    CA or name does not match, or an mTLS server wants a client certificate; "" when nothing points to TLS."""
    text = details.lower()
    if not tls and any(s in text for s in ("socket closed", "connection reset", "handshake", "ssl")):
        return (" - if the server requires TLS, set CATALOG_GRPC_TLS_CA_FILE (and, for mTLS, "
                "CATALOG_GRPC_TLS_CLIENT_CERT_FILE / _KEY_FILE)")
    if tls and any(s in text for s in ("ssl", "handshake", "certificate", "tls", "socket closed", "connection reset")):
        return (" - TLS handshake failed: check that the server serves TLS, that CATALOG_GRPC_TLS_CA_FILE signed its "
                "certificate (name: CATALOG_GRPC_TLS_SERVER_NAME or the host), and, if it requires client "
                "certificates, CATALOG_GRPC_TLS_CLIENT_CERT_FILE / _KEY_FILE")
    return ""
