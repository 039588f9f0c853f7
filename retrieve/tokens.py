"""Who may call the search service: bearer tokens and the tenant each one is confined to.

``CATALOG_GRPC_API_KEY`` is a token that sees every tenant; ``CATALOG_GRPC_TENANT_TOKENS_FILE`` lists
``<token> <tenant>`` lines (blank lines and ``#`` comments skipped), each token confined to its tenant. A presented
token is compared with every known one in constant time (SHA-256 digests, ``hmac.compare_digest``, no early exit),
so the time taken says nothing about how much of it matched. Tokens never appear in an error message or a repr.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import GrpcSettings, read_setting_file

ANY_TENANT = None
MAX_TENANT_LENGTH = 256       # as CATALOG_SEARCH_TENANT
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class Grant:
    """What a valid token may do: ``tenant`` None sees every tenant, else only that one."""

    tenant: str | None


class TokenTable:
    """The accepted tokens, each with its ``Grant``; ``grant(presented)`` is None for an unknown token."""

    def __init__(self, grants: dict[str, str | None]) -> None:
        if not grants or any(not token for token in grants):
            raise ValueError("a token table needs at least one non-empty token")
        self._entries = [(_digest(token), Grant(tenant)) for token, tenant in grants.items()]

    def __repr__(self) -> str:
        return f"TokenTable({len(self._entries)} tokens)"

    def __len__(self) -> int:
        return len(self._entries)

    def grant(self, presented: str) -> Grant | None:
        digest, found = _digest(presented), None
        for known, grant in self._entries:          # every entry compared: no early exit
            if hmac.compare_digest(digest, known):
                found = grant
        return found


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def load_tokens(grpc_settings: GrpcSettings) -> TokenTable | None:
    """The tokens the settings name (the API key and the tenant-tokens file); None: no authentication."""
    grants: dict[str, str | None] = {}
    key = grpc_settings.api_key.get_secret_value()
    if key:
        grants[key] = ANY_TENANT
    if grpc_settings.tenant_tokens_file:
        for token, tenant in parse_tenant_tokens(grpc_settings.tenant_tokens_file).items():
            if token in grants:
                raise ConfigError(f"{GrpcSettings.env_name('tenant_tokens_file')}: a token of tenant {tenant!r} is "
                                  "also CATALOG_GRPC_API_KEY (which sees every tenant): give it a token of its own")
            grants[token] = tenant
    return TokenTable(grants) if grants else None


def parse_tenant_tokens(path: str) -> dict[str, str]:
    """``<token> <tenant>`` lines of the file at ``path``; errors name the setting and the line, never the token."""
    setting = GrpcSettings.env_name("tenant_tokens_file")
    try:
        text = read_setting_file(path, setting).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{setting}: {path!r} is not UTF-8 text") from None
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{setting}: {path}, line {number}"
        parts = line.split()
        if len(parts) != 2:
            raise ConfigError(f"{where}: expected '<token> <tenant>', got {len(parts)} field(s)")
        token, tenant = parts
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"{where}: the token is shorter than {MIN_TOKEN_LENGTH} characters (guessable)")
        if len(tenant) > MAX_TENANT_LENGTH:
            raise ConfigError(f"{where}: the tenant is longer than {MAX_TENANT_LENGTH} characters")
        if token in out:
            raise ConfigError(f"{where}: the same token is listed twice")
        out[token] = tenant
    if not out:
        raise ConfigError(f"{setting}: {path} lists no token (lines of '<token> <tenant>')")
    return out
