"""The security part (reliability/security.py) at its smallest size, on the embedded stack it starts itself: every
stranger refused, no tenant token's hostile request answered with another tenant's product, no server error, and
the API key control seeing both tenants (so a leak would show)."""

from __future__ import annotations

import pytest

from reliability import security

pytestmark = [pytest.mark.kafka, pytest.mark.milvus]      # embedded_stack starts Tansu and Milvus Lite


def test_security_part_quick() -> None:
    result = security.run(quick=True, queries=1)
    assert result["passed"], [c for c in result["checks"] if not c["passed"]]
    assert result["strangers"]["refused"] == result["strangers"]["attempts"] >= 8
    assert set(result["strangers"]["outcomes"].values()) <= {"UNAUTHENTICATED", "no connection"}
    for tenant in result["tenants"].values():
        assert tenant["answered"] and tenant["refused"] and tenant["products_seen"]
        assert tenant["out_of_tenant"] == tenant["server_errors"] == 0
    assert result["control"]["tenants_seen"] == ["default", "outlet"]
    page = security.render(result)
    assert "| no token | UNAUTHENTICATED |" in page and "out-of-tenant products" in page
