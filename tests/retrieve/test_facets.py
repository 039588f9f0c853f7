"""Facet counts (pure): values per unit, price buckets, the own-filter rule; compared with counts written out."""

from __future__ import annotations

from catalog_search.core.filters import CategoryFilter, SearchFilters
from catalog_search.retrieve.domain import FacetRequest, FacetValue
from catalog_search.retrieve.facets import count, price_buckets, without_own_filter
from tests.retrieve.rows import row

SONY_BLACK = row("s1", brand="Sony", category="Electronics > Audio > Headphones", price=349.0, group_id="XM5")
SONY_SILVER = row("s2", brand="Sony", category="Electronics > Audio > Headphones", price=329.0, in_stock=False,
                  group_id="XM5")
BOSE = row("b1", brand="Bose", category="Electronics > Audio", price=25.0, locale="de-DE")
TEE = row("t1", brand="Uniqlo", category="Apparel > Men > T-Shirts", price=19.9, locale="")
NOBRAND = row("n1", brand="", category="", price=1000.0)
PRODUCTS = [[SONY_BLACK], [SONY_SILVER], [BOSE], [TEE], [NOBRAND]]
GROUPS = [[SONY_BLACK, SONY_SILVER], [BOSE], [TEE], [NOBRAND]]


def _counts(spec: FacetRequest, units: list) -> list[tuple[str, int]]:
    return [(v.value, v.count) for v in count(spec, units).values]


def test_brand_counts_products_or_groups_and_skips_empty_brands() -> None:
    assert _counts(FacetRequest("brand"), PRODUCTS) == [("Sony", 2), ("Bose", 1), ("Uniqlo", 1)]
    assert _counts(FacetRequest("brand"), GROUPS) == [("Bose", 1), ("Sony", 1), ("Uniqlo", 1)]
    facet = count(FacetRequest("brand"), GROUPS)
    assert facet.counted == 4 and not facet.own_filter_removed and facet.name == "brand"


def test_category_at_a_level_is_the_path_prefix() -> None:
    assert _counts(FacetRequest("category"), PRODUCTS) == [("Electronics", 3), ("Apparel", 1)]
    assert _counts(FacetRequest("category", level=2), PRODUCTS) == [("Electronics > Audio", 3), ("Apparel > Men", 1)]
    assert _counts(FacetRequest("category", level=3), PRODUCTS) == [
        ("Electronics > Audio > Headphones", 2), ("Apparel > Men > T-Shirts", 1)]       # Bose has two levels
    assert count(FacetRequest("category", level=3), PRODUCTS).name == "category:3"


def test_price_buckets_are_half_open_in_range_order_and_only_the_non_empty_ones() -> None:
    assert price_buckets((25.0, 50.0)) == [("0-25", 0.0, 25.0), ("25-50", 25.0, 50.0), ("50+", 50.0, None)]
    assert price_buckets((0.0, 9.99))[0] == ("0-9.99", 0.0, 9.99)
    facet = count(FacetRequest("price"), PRODUCTS)                      # default edges 25, 50, 100, 250, 500, 1000
    assert facet.values == (FacetValue("0-25", 1, 0.0, 25.0), FacetValue("25-50", 1, 25.0, 50.0),
                            FacetValue("250-500", 2, 250.0, 500.0), FacetValue("1000+", 1, 1000.0, None))
    # a group counts once per bucket any of its variants is in
    assert _counts(FacetRequest("price", ranges=(330.0,)), GROUPS) == [("0-330", 3), ("330+", 2)]   # XM5 in both


def test_stock_and_locale() -> None:
    assert _counts(FacetRequest("in_stock"), PRODUCTS) == [("true", 4), ("false", 1)]
    assert _counts(FacetRequest("in_stock"), GROUPS) == [("true", 4), ("false", 1)]   # XM5 has both
    assert _counts(FacetRequest("locale"), PRODUCTS) == [("en-US", 3), ("de-DE", 1)]


def test_size_keeps_the_most_frequent_values() -> None:
    assert _counts(FacetRequest("brand", size=1), PRODUCTS) == [("Sony", 2)]
    assert count(FacetRequest("brand"), []).values == () and count(FacetRequest("brand"), []).counted == 0


def test_without_own_filter_drops_exactly_that_facets_filter() -> None:
    f = SearchFilters(categories=(CategoryFilter("Electronics"),), brands=("Sony",), price_min=10.0, price_max=99.0,
                      in_stock_only=True, locale="en-US", tenant="default")
    assert without_own_filter(f, "brand") == SearchFilters(categories=f.categories, price_min=10.0, price_max=99.0,
                                                           in_stock_only=True, locale="en-US", tenant="default")
    assert without_own_filter(f, "category").categories == () and without_own_filter(f, "category").brands == ("Sony",)
    no_price = without_own_filter(f, "price")
    assert (no_price.price_min, no_price.price_max, no_price.brands) == (None, None, ("Sony",))
    assert not without_own_filter(f, "in_stock").in_stock_only
    assert without_own_filter(f, "locale").locale is None and without_own_filter(f, "locale").tenant == "default"
    for field in ("brand", "category", "price", "in_stock", "locale"):
        assert without_own_filter(SearchFilters(tenant="default"), field) is None
