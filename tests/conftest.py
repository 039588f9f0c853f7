"""Root conftest: the service fixtures, and one marker per real service derived from the fixtures a test uses.

A test that asks (directly or through other fixtures) for ``kafka_broker``, ``milvus_server`` or ``vllm_python``
gets the ``kafka``, ``milvus`` or ``vllm`` marker here, so it cannot forget it; a test that starts a service itself
(``KafkaBroker``, ``MilvusLiteServer``, a Milvus Lite ``*.db``) carries the marker by hand. Every test with a service
marker also gets ``integration``, so ``-m "not integration"`` still means "no real service".
tests/test_markers.py checks both rules over the whole suite.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.support.stack", "tests.support.vllm"]

SERVICE_FIXTURES = {"kafka_broker": "kafka", "milvus_server": "milvus", "vllm_python": "vllm"}
SERVICES = ("kafka", "milvus", "vllm")


@pytest.hookimpl(tryfirst=True)   # before `-m` deselects anything
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, marker in SERVICE_FIXTURES.items():
            if fixture in names and item.get_closest_marker(marker) is None:
                item.add_marker(marker)
        if any(item.get_closest_marker(s) for s in SERVICES) and item.get_closest_marker("integration") is None:
            item.add_marker("integration")
