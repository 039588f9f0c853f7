"""The custom resources of deploy/k8s against the schemas of the CRDs their operators install (Strimzi, Milvus
Operator, KEDA, at the release tags named in each schema's ``source``), strictly, as ``kubectl apply
--validate=strict`` would: types, enums, required fields and no undeclared field. The schemas are cut to the fields
the manifests use by ``scripts/trim_crd_schemas.py``, which refuses any field a full CRD does not declare."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy.manifests import REPO_ROOT, kustomization

SCHEMAS = json.loads((Path(__file__).with_name("crd_schemas.json")).read_text(encoding="utf-8"))
CORE = {"v1/Namespace", "v1/ConfigMap", "v1/Service", "apps/v1/Deployment", "autoscaling/v2/HorizontalPodAutoscaler",
        "policy/v1/PodDisruptionBudget"}
RESOURCES = kustomization().resources


def key(doc: dict[str, Any]) -> str:
    return f"{doc['apiVersion']}/{doc['kind']}"


def errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMAS[key(doc)]["schema"])
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_every_kind_is_core_kubernetes_or_has_its_crd_schema() -> None:
    kinds = {key(d) for d in RESOURCES}
    assert kinds - CORE == set(SCHEMAS), kinds
    sources = {s["source"].split(":")[0] for s in SCHEMAS.values()}
    assert sources == {"strimzi 1.2.0", "milvus-operator v1.3.8", "keda v2.20.2"}
    readme = (REPO_ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    for source in sources:     # the prerequisites name the operator versions the manifests were checked against
        assert source.split()[1].lstrip("v") in readme, source


@pytest.mark.parametrize("doc", [d for d in RESOURCES if key(d) in SCHEMAS],
                         ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_custom_resource_matches_its_crd(doc: dict[str, Any]) -> None:
    assert errors(doc) == []


def test_the_check_catches_a_misspelt_field_a_wrong_type_and_a_bad_enum() -> None:
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in RESOURCES}
    milvus = copy.deepcopy(by_name[("Milvus", "catalog-milvus")])
    milvus["spec"]["dependencies"]["msgStreamTyp"] = milvus["spec"]["dependencies"].pop("msgStreamType")
    assert any("msgStreamTyp" in e for e in errors(milvus))
    scaled = copy.deepcopy(by_name[("ScaledObject", "catalog-ingest")])
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 2000        # KEDA metadata values are strings
    assert any("lagThreshold" in e for e in errors(scaled))
    milvus = copy.deepcopy(by_name[("Milvus", "catalog-milvus")])
    milvus["spec"]["mode"] = "clustered"
    assert any(e.startswith("spec.mode") for e in errors(milvus))
