"""A pytest plugin for tests/test_markers.py: after collection, write what each test needs and what it is marked
with to ``$CATALOG_MARKER_AUDIT`` (JSON). Load it with ``-p tests.support.marker_audit``.

A test needs a service marker when a fixture it uses (directly or not) comes from the service plugins, or when
its own code or one of its test-side fixtures starts a service itself.
"""

from __future__ import annotations

import inspect
import json
import os
from typing import Any

import pytest

SERVICES = ("kafka", "milvus", "vllm")
LAUNCHERS = {"KafkaBroker(": {"kafka"}, "MilvusLiteServer(": {"milvus"}, "LocalStack(": {"kafka", "milvus"},
             '"demo"': {"kafka", "milvus"}}


def fixture_service(name: str, module: str) -> set[str]:
    """The service behind a fixture of the service plugins; a new fixture there must be named for its service."""
    if module == "tests.support.vllm":
        return {"vllm"}
    if module == "tests.support.stack":
        service = name.split("_", 1)[0]
        if service not in ("kafka", "milvus"):
            raise ValueError(f"tests/support/stack.py fixture {name!r} should start with kafka_ or milvus_")
        return {service}
    return set()


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def required(item: pytest.Item) -> set[str]:
    need: set[str] = set()
    sources = [_source(getattr(item, "obj", None))]
    for name, defs in getattr(item, "_fixtureinfo").name2fixturedefs.items():
        func = defs[-1].func
        need |= fixture_service(name, func.__module__)
        if func.__module__.startswith("tests.") and not func.__module__.startswith("tests.support."):
            sources.append(_source(func))
    for launcher, services in LAUNCHERS.items():
        if any(launcher in source for source in sources):
            need |= services
    return need


def pytest_collection_finish(session: pytest.Session) -> None:
    report = [{"nodeid": item.nodeid, "required": sorted(required(item)),
               "markers": sorted({m.name for m in item.iter_markers()})} for item in session.items]
    with open(os.environ["CATALOG_MARKER_AUDIT"], "w", encoding="utf-8") as out:
        json.dump(report, out)
