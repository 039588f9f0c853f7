"""The CLI's rich tables as plain text: content, notes, alignment with CJK, clipping, no colour or markup (pure)."""

from __future__ import annotations

import re
from dataclasses import replace

from rich.cells import cell_len

from catalog_search.app.tables import TITLE_WIDTH, landed_table, search_table
from catalog_search.retrieve.domain import Facet, FacetValue, Hit, ResultSet, SearchResponse, StageScores

HIT_FULL = Hit(sku="EN-1", title="Drill", brand="Bosch", category="Tools > Drills", price=99.5, currency="USD",
               in_stock=True, score=0.91, scores=StageScores(dense=0.8, bm25=7.25, fused=0.032, rerank=0.91))
HIT_SPARSE = Hit(sku="ZH-2", title="电钻 20V", brand="博世", category="工具 > 电钻", price=1234.0, currency="CNY",
                 in_stock=False, score=0.016, scores=StageScores(dense=None, bm25=3.0, fused=0.016, rerank=None))
RESPONSE = SearchResponse(hits=[HIT_FULL, HIT_SPARSE], degraded=True, degraded_reason="rerank: timed out",
                          timings_ms={"embed": 3.5, "dense": 1.25, "rerank": 40.0},
                          models={"embedding": "e5", "reranker": "Qwen/Qwen3-Reranker-0.6B"})


def test_search_table_rows_and_notes() -> None:
    table = search_table(RESPONSE)
    assert re.search(r"^1\s+EN-1\s+Drill\s+99\.50 USD\s+Bosch\s+0\.9100\s+0\.800\s+7\.25\s+0\.0320\s+0\.910$", table,
                     re.MULTILINE)
    assert re.search(r"^2\s+ZH-2\s+电钻 20V\s+1,234\.00 CNY \*\s+博世\s+0\.0160\s+-\s+3\.00\s+0\.0160\s+-$", table,
                     re.MULTILINE)
    assert "* out of stock" in table and "DEGRADED: rerank: timed out" in table
    assert "rerank: Qwen/Qwen3-Reranker-0.6B" in table
    assert "timings: embed 3.5ms, dense 1.2ms, rerank 40.0ms" in table          # pipeline order, not map order
    assert "models: embedding=e5, reranker=Qwen/Qwen3-Reranker-0.6B" in table
    assert "rerank: off (not requested)" in search_table(replace(RESPONSE, degraded=False), rerank_requested=False)
    no_reranker = replace(RESPONSE, hits=[HIT_SPARSE], degraded=False, models={"reranker": "none"})
    assert "rerank: none (no reranker configured)" in search_table(no_reranker)
    skipped = search_table(replace(RESPONSE, hits=[HIT_SPARSE]))
    assert "rerank: skipped (Qwen/Qwen3-Reranker-0.6B did not run)" in skipped and "DEGRADED" in skipped
    empty = search_table(replace(RESPONSE, hits=[], degraded=False))
    assert "(no results)" in empty and "rerank: Qwen/Qwen3-Reranker-0.6B (no hits)" in empty


def test_grouped_page_shows_variants_ranks_from_the_offset_facets_and_the_next_token() -> None:
    resp = replace(RESPONSE, hits=[replace(HIT_FULL, group_id="DRILL", variant_count=3)],
                   facets=(Facet("brand", 1, (FacetValue("Bosch", 3), FacetValue("博世", 1)), counted=4,
                                 own_filter_removed=True),
                           Facet("price", 1, (FacetValue("0-25", 2, 0.0, 25.0),), counted=4)),
                   next_page_token="tok.en",
                   result_set=ResultSet(depth=200, products=9, size=4, offset=10, sort="price_asc",
                                        group_by="group_id", description="the 9 most relevant products"))
    table = search_table(resp)
    assert table.splitlines()[0].split()[:7] == ["#", "sku", "title", "price", "brand", "variants", "score"]
    assert re.search(r"^11\s+EN-1\s+Drill\s+99\.50 USD\s+Bosch\s+3\s+0\.9100", table, re.MULTILINE)
    assert "facet brand: Bosch 3, 博世 1 (without its own filter)" in table and "facet price: 0-25 2" in table
    assert "result set: the 9 most relevant products" in table and "next page: --page-token tok.en" in table
    assert "variants" not in search_table(RESPONSE) and "next page" not in search_table(RESPONSE)


def test_plain_text_aligned_columns_with_wide_characters() -> None:
    lines = search_table(RESPONSE).splitlines()[:4]          # header, rule, two rows
    assert "\x1b" not in "".join(lines)                     # no colour codes even though rich renders it
    assert all(line == line.rstrip() for line in lines)
    # the right edge of the price column sits at the same terminal column in the header and both rows
    ends = [cell_len(line[:line.index(cell) + len(cell)]) for line, cell in
            zip([lines[0], lines[2], lines[3]], ["price", "99.50 USD", "1,234.00 CNY *"])]
    assert len(set(ends)) == 1


def test_long_titles_are_clipped_and_never_read_as_markup() -> None:
    hit = replace(HIT_FULL, title="[bold]Cordless\n drill " + "x" * 100)
    row = search_table(replace(RESPONSE, hits=[hit])).splitlines()[2]
    title = re.search(r"EN-1\s+(.*?…)", row).group(1)
    assert title.startswith("[bold]Cordless drill x") and cell_len(title) == TITLE_WIDTH


def test_landed_table() -> None:
    rows = {"EN-1": {"deleted": False, "price": 9.5, "currency": "USD", "in_stock": False, "version": 3,
                     "title": "电钻 20V", "vector_dim": 384},
            "EN-2": {"deleted": True, "version": 4, "title": "gone", "vector_dim": 384},
            "EN-3": None}
    table = landed_table(rows)
    assert re.search(r"^EN-1\s+v3\s+9\.50 USD \(out of stock\)\s+电钻 20V\s+384-d$", table, re.MULTILINE)
    assert re.search(r"^EN-2\s+v4\s+DELETED\s+gone\s+384-d$", table, re.MULTILINE)
    assert re.search(r"^EN-3\s+-\s+not stored$", table, re.MULTILINE)


def test_search_table_says_what_was_searched_instead_and_the_request_id() -> None:
    corrected = search_table(replace(RESPONSE, corrected_query="cordless drill", request_id="9f1c",
                                     timings_ms={"spell": 0.04, "embed": 3.5, "total": 9.0}))
    lines = corrected.splitlines()
    assert lines[4] == "showing results for: cordless drill"          # the first note under the rows
    assert lines[-1] == "request id: 9f1c" and "timings: spell 0.0ms, embed 3.5ms, total 9.0ms" in corrected
    plain = search_table(RESPONSE)
    assert "showing results for" not in plain and "request id" not in plain
