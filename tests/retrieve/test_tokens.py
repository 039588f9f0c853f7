"""Token tables: the API key sees every tenant, tenant-token files map each token to one tenant, and every way a
file can be wrong is a ConfigError naming the setting and the line - never the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import load_settings
from catalog_search.retrieve.interceptors import presented_token
from catalog_search.retrieve.tokens import Grant, TokenTable, load_tokens

TOKEN_A = "acme-token-0123456789abcdef"
TOKEN_B = "globex-token-0123456789abcd"


def tokens_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "tokens"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_grants_by_token(tmp_path: Path) -> None:
    path = tokens_file(tmp_path, f"# comment\n\n  {TOKEN_A}   acme  \n{TOKEN_B}\tglobex\n")
    table = load_tokens(load_settings(grpc_api_key="admin", grpc_tenant_tokens_file=path).grpc)
    assert table is not None and len(table) == 3
    assert table.grant(TOKEN_A) == Grant("acme") and table.grant(TOKEN_B) == Grant("globex")
    assert table.grant("admin") == Grant(None)
    for near in ("", TOKEN_A[:-1], TOKEN_A + "x", TOKEN_A.upper(), "acme", " admin", "\udcff"):
        assert table.grant(near) is None, near
    assert TOKEN_A not in repr(table) and "admin" not in repr(table)


def test_no_key_and_no_file_is_no_authentication() -> None:
    assert load_tokens(load_settings().grpc) is None
    with pytest.raises(ValueError):
        TokenTable({})


@pytest.mark.parametrize("text, problem", [
    (f"{TOKEN_A}\n", "line 1: expected '<token> <tenant>', got 1 field"),
    (f"# x\n{TOKEN_A} acme extra\n", "line 2: expected '<token> <tenant>', got 3 field"),
    ("short acme\n", "line 1: the token is shorter than 16 characters"),
    (f"{TOKEN_A} {'t' * 257}\n", "line 1: the tenant is longer than 256 characters"),
    (f"{TOKEN_A} acme\n{TOKEN_A} globex\n", "line 2: the same token is listed twice"),
    ("# only comments\n\n", "lists no token"),
])
def test_a_bad_file_names_the_setting_and_line_but_never_the_token(tmp_path: Path, text: str, problem: str) -> None:
    path = tokens_file(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_tokens(load_settings(grpc_tenant_tokens_file=path).grpc)
    message = str(err.value)
    assert message.startswith("CATALOG_GRPC_TENANT_TOKENS_FILE: ") and problem in message
    assert TOKEN_A not in message and "short acme" not in message and "'short'" not in message


def test_missing_undecodable_files_and_a_token_equal_to_the_api_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CATALOG_GRPC_TENANT_TOKENS_FILE: no such file"):
        load_tokens(load_settings(grpc_tenant_tokens_file=str(tmp_path / "none")).grpc)
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00token acme\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_tokens(load_settings(grpc_tenant_tokens_file=str(binary)).grpc)
    path = tokens_file(tmp_path, f"{TOKEN_A} acme\n")
    with pytest.raises(ConfigError, match="also CATALOG_GRPC_API_KEY") as err:
        load_tokens(load_settings(grpc_api_key=TOKEN_A, grpc_tenant_tokens_file=path).grpc)
    assert TOKEN_A not in str(err.value)


@pytest.mark.parametrize("header, token", [("Bearer abc", "abc"), (b"Bearer abc", "abc"), ("Bearer  abc ", "abc"),
                                           ("bearer abc", ""), ("Basic abc", ""), ("abc", ""), ("", ""),
                                           (None, ""), ("Bearer", "")])
def test_presented_token(header: str | bytes | None, token: str) -> None:
    assert presented_token(header) == token
