"""Security: who gets in, and what a tenant can see.

On the embedded stack (Milvus Lite), the sample catalog (tenants ``default`` and ``outlet``, sharing brands) is
ingested and the real retrieval server started as a locked-down deployment runs it: mTLS (certificates from
scripts/dev_certs.sh), an API key and a tenant-tokens file; the web API in front of it checks the same tokens.

* **Strangers**: calls with no token, a wrong or truncated token, over plaintext, without a client certificate, with
  a certificate of another CA, and HTTP calls without a token: every one refused (UNAUTHENTICATED / no connection /
  401), none reaching the searcher.
* **Tenants**: each tenant token sends every query with hostile variants (the other tenant in ``filters.tenant``,
  filter-injection text in the tenant, brand and locale fields, brands both tenants carry, grouping, facets, sorts,
  pages): each answer is INVALID_ARGUMENT or holds only its tenant's products (facets and next pages included); no
  server error. The API key, as a control, sees both tenants for the same queries.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[1]) not in sys.path:       # run as a script: python reliability/security.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from reliability.common import ROOT, check, embedded_stack, part_main, verdict  # noqa: E402

from catalog_search.adapters.embedding.local import LocalEmbedder  # noqa: E402
from catalog_search.adapters.milvus.store import MilvusStore  # noqa: E402
from catalog_search.app.localstack import free_port  # noqa: E402
from catalog_search.core.events import event_from_dict  # noqa: E402
from catalog_search.core.settings import Settings, load_settings  # noqa: E402
from catalog_search.ingest.pipeline import Pipeline  # noqa: E402
from catalog_search.retrieve.client import InvalidSearch, SearchClient, SearchError, SearchUnavailable  # noqa: E402

PART = "security"
TITLE = "8. Security: TLS, tokens and tenant isolation"
QUERIES = ("shoes", "sneaker", "headphones", "Apple", "backpack", "t-shirt", "moisturizer", "vacuum", "laptop",
           "toothbrush", "无线耳机", "jacket")
QUICK_QUERIES = 3
ADMIN = "security-admin-" + uuid.uuid4().hex


def hostile(other: str, shared: list[str]) -> list[dict[str, Any]]:
    injections = [f'{other}" or tenant != "', f"{other}' or 1==1 or '", '" || tenant like "%', '\\" or true or \\"',
                  f"{other}\x00", f"{other} ", other.upper(), "", "*", f"{other}\u200b", "(" * 100]
    return ([{}, {"tenant": other}] + [{"tenant": t} for t in injections]
            + [{"brands": shared}, {"brands": [f'{shared[0]}" or tenant == "{other}']},
               {"locale": f'en-US" or tenant == "{other}'}, {"categories": [f'Apparel" or tenant == "{other}']},
               {"group_by": "group_id", "facets": ["brand", "category", "price"], "page_size": 5},
               {"sort": "price_asc", "page_size": 3}, {"sort": "newest", "page_size": 3},
               {"retrievers": "bm25"}, {"retrievers": "dense"}, {"price_min": -1e308, "price_max": 1e308}])


def run(quick: bool = False, queries: int | None = None) -> dict[str, Any]:
    queries = queries or (QUICK_QUERIES if quick else len(QUERIES))
    with tempfile.TemporaryDirectory(prefix="reliability-security-") as tmp, embedded_stack() as stack:
        work = Path(tmp)
        certs, other_ca = _certs(work / "certs"), _certs(work / "other")
        tokens = {"default": "tok-default-" + uuid.uuid4().hex, "outlet": "tok-outlet-" + uuid.uuid4().hex}
        (work / "tokens").write_text("".join(f"{t} {tenant}\n" for tenant, t in tokens.items()), encoding="utf-8")
        suffix = uuid.uuid4().hex[:8]
        settings = load_settings(
            milvus_uri=stack.milvus_uri, milvus_collection=f"sec_{suffix}", milvus_alias=f"sec_a_{suffix}",
            embed_backend="local", rerank_backend="none", grpc_address=f"127.0.0.1:{free_port()}",
            grpc_api_key=ADMIN, grpc_tenant_tokens_file=str(work / "tokens"),
            grpc_tls_cert_file=str(certs / "server.pem"), grpc_tls_key_file=str(certs / "server.key"),
            grpc_tls_client_ca_file=str(certs / "ca.pem"), grpc_tls_ca_file=str(certs / "ca.pem"),
            grpc_tls_client_cert_file=str(certs / "client.pem"), grpc_tls_client_key_file=str(certs / "client.key"))
        tenant_of = _ingest(settings)
        from catalog_search.app.search_wiring import start_search_server
        server = start_search_server(settings)
        try:
            strangers = _strangers(settings, certs, other_ca, tokens)
            tenants = {t: _tenant(settings, tok, t, tenant_of, QUERIES[:queries]) for t, tok in tokens.items()}
            control = _control(settings, tenant_of, QUERIES[:queries])
            web = _web(settings, tokens, tenant_of, QUERIES[:queries])
        finally:
            server.stop(1.0)
    requests = sum(r["requests"] for r in tenants.values())
    leaked = sum(r["out_of_tenant"] for r in tenants.values()) + web["out_of_tenant"]
    errors = sum(r["server_errors"] for r in tenants.values())
    checks = [
        check("every stranger refused", strangers["refused"] == strangers["attempts"],
              f"{strangers['refused']}/{strangers['attempts']} refused"),
        check("no tenant request saw another tenant's product", leaked == 0,
              f"{requests} gRPC + {web['requests']} HTTP hostile requests, {leaked} out-of-tenant products"),
        check("no server error on hostile tenant requests", errors == 0, f"{errors} errors"),
        check("the API key control sees both tenants", control["tenants_seen"] == sorted(tokens),
              f"tenants seen: {', '.join(control['tenants_seen'])}"),
        check("the web API refuses calls without a token", web["refused"] == web["unauthenticated_attempts"],
              f"{web['refused']}/{web['unauthenticated_attempts']} answered 401"),
    ]
    return verdict({"products": len(tenant_of), "queries": queries, "strangers": strangers, "tenants": tenants,
                    "control": control, "web": web, "hostile_requests": requests + web["requests"],
                    "out_of_tenant": leaked, "server_errors": errors, "checks": checks})


def _certs(where: Path) -> Path:
    subprocess.run(["bash", str(ROOT / "scripts" / "dev_certs.sh"), str(where)], check=True, capture_output=True,
                   timeout=60)
    return where


def _ingest(settings: Settings) -> dict[str, str]:
    store = MilvusStore.from_settings(settings)
    embedder = LocalEmbedder()
    try:
        store.ensure_collection()
        lines = (ROOT / "app" / "data" / "sample_catalog.jsonl").read_text(encoding="utf-8").splitlines()
        events = [event_from_dict(json.loads(line)) for line in lines if line.strip()]
        pipeline = Pipeline(embedder, store)
        for start in range(0, len(events), 64):
            pipeline.process(events[start:start + 64])
        return {sku: row.tenant for sku, row in store.fetch(sorted({e.sku for e in events})).items()}
    finally:
        store.close()
        embedder.close()


def _strangers(settings: Settings, certs: Path, other_ca: Path, tokens: dict[str, str]) -> dict[str, Any]:
    """Each way in without the right credentials; ``refused`` counts the calls that got no answer."""
    grpc_settings, address = settings.grpc, settings.grpc.address
    no_cert = settings.replace(grpc_tls_client_cert_file="", grpc_tls_client_key_file="").grpc
    foreign = settings.replace(grpc_tls_ca_file=str(other_ca / "ca.pem"),
                               grpc_tls_client_cert_file=str(other_ca / "client.pem"),
                               grpc_tls_client_key_file=str(other_ca / "client.key")).grpc
    foreign_cert = settings.replace(grpc_tls_client_cert_file=str(other_ca / "client.pem"),
                                    grpc_tls_client_key_file=str(other_ca / "client.key")).grpc
    ways = {
        "no token": lambda: _with_key(grpc_settings, ""),
        "wrong token": lambda: _with_key(grpc_settings, "not-a-token-" + uuid.uuid4().hex),
        "truncated tenant token": lambda: _with_key(grpc_settings, tokens["outlet"][:-1]),
        "tenant name as token": lambda: _with_key(grpc_settings, "outlet"),
        "plaintext with the API key": lambda: SearchClient(address, timeout_s=5, retries=0, api_key=ADMIN),
        "TLS without a client certificate": lambda: SearchClient.from_settings(no_cert, timeout_s=5, retries=0),
        "another CA's certificates": lambda: SearchClient.from_settings(foreign, timeout_s=5, retries=0),
        "another CA's client certificate": lambda: SearchClient.from_settings(foreign_cert, timeout_s=5, retries=0),
    }
    outcomes: dict[str, str] = {}
    for name, make in ways.items():
        with make() as client:
            try:
                client.search("shoes", rerank=False)
                outcomes[name] = "ANSWERED"
            except SearchUnavailable:
                outcomes[name] = "no connection"
            except SearchError as exc:
                outcomes[name] = exc.code.name
    refused = sum(o in ("no connection", "UNAUTHENTICATED") for o in outcomes.values())
    return {"attempts": len(outcomes), "refused": refused, "outcomes": outcomes}


def _with_key(grpc_settings: Any, key: str) -> SearchClient:
    from catalog_search.retrieve.tls import client_tls
    return SearchClient(grpc_settings.address, timeout_s=5, retries=0, api_key=key, tls=client_tls(grpc_settings))


def _tenant(settings: Settings, token: str, tenant: str, tenant_of: dict[str, str],
            queries: tuple[str, ...]) -> dict[str, Any]:
    other = next(t for t in set(tenant_of.values()) if t != tenant)
    own_brands = _brands(settings, tenant_of, tenant)
    shared = sorted(own_brands & _brands(settings, tenant_of, other)) or ["Apple"]
    out = {"requests": 0, "refused": 0, "answered": 0, "products_seen": 0, "out_of_tenant": 0, "server_errors": 0}
    from catalog_search.retrieve.tls import client_tls
    with SearchClient(settings.grpc.address, timeout_s=30, api_key=token, tls=client_tls(settings.grpc)) as client:
        for query in queries:
            for extra in hostile(other, shared):
                out["requests"] += 1
                try:
                    resp = client.search(query, top_k=50, rerank=False, **extra)
                    pages = [resp]
                    if resp.next_page_token:
                        out["requests"] += 1
                        pages.append(client.search(query, top_k=50, rerank=False, page_token=resp.next_page_token,
                                                   **extra))
                except InvalidSearch:
                    out["refused"] += 1
                    continue
                except SearchError:
                    out["server_errors"] += 1
                    continue
                out["answered"] += 1
                for page in pages:
                    skus = [h.sku for h in page.hits] + [s for h in page.hits for s in h.variant_skus]
                    out["products_seen"] += len(skus)
                    out["out_of_tenant"] += sum(tenant_of.get(s) != tenant for s in skus)
                    brand_values = {v.value for f in page.facets if f.name == "brand" for v in f.values}
                    out["out_of_tenant"] += len(brand_values - own_brands)
    return out


_BRANDS: dict[str, set[str]] = {}


def _brands(settings: Settings, tenant_of: dict[str, str], tenant: str) -> set[str]:
    if not _BRANDS:
        store = MilvusStore.from_settings(settings)
        try:
            for row in store.fetch(sorted(tenant_of)).values():
                _BRANDS.setdefault(row.tenant, set()).add(row.brand)
        finally:
            store.close()
    return _BRANDS.get(tenant, set())


def _control(settings: Settings, tenant_of: dict[str, str], queries: tuple[str, ...]) -> dict[str, Any]:
    seen: set[str] = set()
    with SearchClient.from_settings(settings.grpc, timeout_s=30) as admin:
        for query in queries:
            for extra in ({}, {"brands": ["Converse", "Nike", "Apple"]}):
                resp = admin.search(query, top_k=50, rerank=False, **extra)
                seen |= {tenant_of[h.sku] for h in resp.hits}
    return {"tenants_seen": sorted(seen)}


def _web(settings: Settings, tokens: dict[str, str], tenant_of: dict[str, str],
         queries: tuple[str, ...]) -> dict[str, Any]:
    from catalog_search.app.web.api import create_app
    from catalog_search.app.web.server import WebServer
    from catalog_search.retrieve.client import load_tokens

    out = {"unauthenticated_attempts": 0, "refused": 0, "requests": 0, "out_of_tenant": 0}
    with SearchClient.from_settings(settings.grpc, timeout_s=30) as client, \
            WebServer(create_app(client, tokens=load_tokens(settings.grpc)), "127.0.0.1", 0) as web:
        url = f"{web.url}v1/search"
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": tokens["outlet"]},
                        {"Authorization": f"Basic {ADMIN}"}):
            out["unauthenticated_attempts"] += 1
            out["refused"] += httpx.post(url, json={"query": "shoes"}, headers=headers, timeout=60).status_code == 401
        for tenant, token in tokens.items():
            other = next(t for t in tokens if t != tenant)
            for query in queries:
                for filters in ({}, {"tenant": ""}, {"tenant": f'{tenant}" or tenant == "{other}'},
                                {"brands": ["Converse", "Nike", "Apple"]}):
                    out["requests"] += 1
                    resp = httpx.post(url, json={"query": query, "top_k": 50, "rerank": False, "filters": filters},
                                      headers={"Authorization": f"Bearer {token}"}, timeout=60)
                    if resp.status_code == 200:
                        out["out_of_tenant"] += sum(tenant_of.get(h["sku"]) != tenant for h in resp.json()["hits"])
    return out


def render(result: dict[str, Any]) -> str:
    lines = [f"{result['products']} products of two tenants; {result['queries']} queries, each with every hostile "
             f"variant, per tenant token; mTLS + API key + tenant tokens on the server.", "",
             "| way in without the right credentials | outcome |", "|---|---|"]
    lines += [f"| {name} | {outcome} |" for name, outcome in result["strangers"]["outcomes"].items()]
    lines += ["", "| tenant token | requests (with next pages) | refused (INVALID_ARGUMENT) | answered | "
              "products seen | out of tenant | server errors |", "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {t} | {r['requests']} | {r['refused']} | {r['answered']} | {r['products_seen']} | "
              f"{r['out_of_tenant']} | {r['server_errors']} |" for t, r in result["tenants"].items()]
    web = result["web"]
    lines += ["", f"Web API: {web['refused']}/{web['unauthenticated_attempts']} calls without a valid token answered "
              f"401; {web['requests']} tenant-token searches, {web['out_of_tenant']} out-of-tenant products. "
              f"Control: the API key sees tenants {', '.join(result['control']['tenants_seen'])}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return part_main(run, argv, add_args=lambda p: p.add_argument("--queries", type=int, default=None,
                                                                  help="queries per tenant token"), doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
