"""What text represents a product to the model, and its fingerprint (pure)."""

from catalog_search.core.product import Product, category_levels, embed_text, text_hash


def product(**kw):
    base = dict(sku="A1", version=1, title="Cordless Drill 18V", brand="Bosch", category="Tools > Power Tools > Drills",
                description="Compact drill.  Two batteries\nincluded.", price=99.0, in_stock=True,
                attributes={"color": "blue", "power": "18V", "warehouse": "W1"})
    base.update(kw)
    return Product(**base)


def test_embed_text_has_title_brand_category_key_attributes_and_description():
    text = embed_text(product())
    assert text.splitlines() == ["Cordless Drill 18V", "Brand: Bosch", "Category: Tools > Power Tools > Drills",
                                 "color: blue; power: 18V", "Compact drill. Two batteries included."]


def test_price_stock_tenant_and_other_attributes_do_not_change_the_text():
    a = embed_text(product())
    b = embed_text(product(price=1.0, in_stock=False, tenant="outlet", currency="USD",
                           attributes={"color": "blue", "power": "18V", "warehouse": "W9"}))
    assert a == b and text_hash(a) == text_hash(b)


def test_description_is_bounded():
    text = embed_text(product(description="长" * 5000), description_chars=100)
    assert text.splitlines()[-1] == "长" * 100


def test_category_levels_normalise_spacing():
    assert category_levels("服装>男装 >  T恤") == ["服装", "服装 > 男装", "服装 > 男装 > T恤"]
    assert category_levels("") == []


def test_text_hash_is_stable_and_sensitive():
    assert text_hash("a") == text_hash("a") and text_hash("a") != text_hash("b") and len(text_hash("a")) == 32
