"""Cut the CRD schemas of the operators deploy/k8s uses down to what its custom resources use, for
tests/deploy/test_crd_schemas.py (the full CRDs are megabytes; the cut is a few kilobytes and needs no network).

    python scripts/trim_crd_schemas.py "strimzi 1.2.0=040-Crd-kafka.yaml" "strimzi 1.2.0=043-Crd-kafkatopic.yaml" \
        "strimzi 1.2.0=045-Crd-kafkanodepool.yaml" "milvus-operator v1.3.8=milvus.io_milvuses.yaml" \
        "keda v2.20.2=keda.sh_scaledobjects.yaml"

Each argument is ``<source label>=<CRD file>`` (the CRDs from the operators' release tags: Strimzi
packaging/install/cluster-operator/, milvus-operator config/crd/bases/, KEDA config/crd/bases/). Strict like
``kubectl apply --validate=strict``: an object schema accepts only its declared properties (unless it preserves
unknown fields). A field of a manifest that the CRD does not declare stops the cut with its path, so running this
against the full CRDs is itself the check; the test then holds the manifests to the cut (types, enums, required
fields, and no field the cut has not seen: add one, and this script has to be run again).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "deploy" / "k8s"
OUT = ROOT / "tests" / "deploy" / "crd_schemas.json"
COMBINATORS = ("anyOf", "oneOf", "allOf")


class UnknownField(ValueError):
    pass


def strict(node: Any) -> Any:
    """OpenAPI v3 (Kubernetes dialect) -> JSON Schema draft 7, objects closed, descriptions dropped."""
    if not isinstance(node, dict):
        return node
    out = {k: v for k, v in node.items() if k not in ("description", "properties", "items",
                                                         "additionalProperties", *COMBINATORS)}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    for key in COMBINATORS:
        if key in node:
            out[key] = [strict(c) for c in node[key]]
    if "items" in node:
        out["items"] = strict(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = strict(node["additionalProperties"])
    elif "additionalProperties" in node:
        out["additionalProperties"] = node["additionalProperties"]
    if "properties" in node:
        out["properties"] = {k: strict(v) for k, v in node["properties"].items()}
        if not node.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in node:
            out["additionalProperties"] = False
    return out


def trim(schema: dict[str, Any], instances: list[Any], path: str) -> dict[str, Any]:
    """``schema`` (already strict) with only the properties ``instances`` use, recursively."""
    out = {k: v for k, v in schema.items() if k not in ("properties", "items", "additionalProperties")}
    if "properties" in schema:
        used = sorted({k for inst in instances if isinstance(inst, dict) for k in inst})
        unknown = [k for k in used if k not in schema["properties"]]
        if unknown and schema.get("additionalProperties") is False:
            raise UnknownField(f"{path}: {unknown} not in the CRD (has {sorted(schema['properties'])})")
        out["properties"] = {k: trim(schema["properties"][k], [i[k] for i in instances
                                                               if isinstance(i, dict) and k in i], f"{path}.{k}")
                             for k in used if k in schema["properties"]}
    if isinstance(schema.get("additionalProperties"), dict):
        values = [v for inst in instances if isinstance(inst, dict) for v in inst.values()]
        out["additionalProperties"] = trim(schema["additionalProperties"], values, f"{path}.*")
    elif "additionalProperties" in schema:
        out["additionalProperties"] = schema["additionalProperties"]
    if isinstance(schema.get("items"), dict):
        elements = [e for inst in instances if isinstance(inst, list) for e in inst]
        out["items"] = trim(schema["items"], elements, f"{path}[]")
    return out


def crd_schemas(argv: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    found = {}
    for arg in argv:
        label, _, path = arg.partition("=")
        for doc in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                spec = doc["spec"]
                for version in spec["versions"]:
                    if version.get("served", True):
                        key = f"{spec['group']}/{version['name']}/{spec['names']['kind']}"
                        found[key] = (f"{label}: {Path(path).name}", strict(version["schema"]["openAPIV3Schema"]))
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    schemas = crd_schemas(argv)
    manifests = [d for p in sorted(MANIFESTS.glob("*.yaml")) if p.name != "kustomization.yaml"
                 for d in yaml.safe_load_all(p.read_text(encoding="utf-8")) if d]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in manifests:
        by_kind.setdefault(f"{doc['apiVersion']}/{doc['kind']}", []).append(doc)
    out = {}
    for key, docs in sorted(by_kind.items()):
        if key in schemas:
            source, schema = schemas[key]
            out[key] = {"source": source, "schema": trim(schema, docs, key)}
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {', '.join(out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
