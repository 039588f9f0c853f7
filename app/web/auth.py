"""Bearer-token check of the HTTP API: the same tokens as the gRPC service (``CATALOG_GRPC_API_KEY`` and the
tenant-tokens file, ``retrieve.tokens``).

With tokens configured, ``POST /v1/search`` and ``POST /v1/rerank`` need ``Authorization: Bearer <token>`` or are
answered 401 (``WWW-Authenticate: Bearer``) before any call to the service; the caller's token is then relayed to
the gRPC service, which confines a tenant token's search to its tenant. The page, its files, ``/openapi.json`` and
``/v1/status`` stay open (they hold no catalog data); the page sends the token it was opened with
(``/#token=<token>``: a URL fragment never reaches a server or its logs) and keeps it for the browser tab only.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from catalog_search.retrieve.client import TokenTable, presented_token

PROTECTED_PREFIX = "/v1/"
OPEN_PATHS = frozenset({"/v1/status"})
STATE_KEY = "bearer_token"


def needs_token(path: str) -> bool:
    return path.startswith(PROTECTED_PREFIX) and path not in OPEN_PATHS


def refusal(message: str) -> JSONResponse:
    body = {"error": {"status": 401, "code": "UNAUTHENTICATED", "field": None, "message": message, "backend": None}}
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="catalog-search"'})


def token_checker(tokens: TokenTable) -> Any:
    """The HTTP middleware: refuse a protected call without a known token, else keep the token for the relay."""

    async def check(request: Request, call_next: Any) -> Any:
        if not needs_token(request.url.path):
            return await call_next(request)
        header = request.headers.get("authorization")
        token = presented_token(header)
        if not token:
            return refusal("this API requires a bearer token: send 'Authorization: Bearer <token>' "
                           "(CATALOG_GRPC_API_KEY or a tenant token); open the page as /#token=<token>")
        if tokens.grant(token) is None:
            return refusal("unknown bearer token")
        setattr(request.state, STATE_KEY, token)
        return await call_next(request)

    return check


def relayed(request: Request) -> dict[str, str]:
    """The client keyword that relays the caller's token ({} when the API checks none)."""
    token = getattr(request.state, STATE_KEY, None)
    return {"bearer_token": token} if token else {}
