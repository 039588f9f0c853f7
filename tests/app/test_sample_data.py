"""The checked-in sample catalog (app/data/*.jsonl) is the source, edited by hand: every line is a valid event for
the real parser, and the counts app/data/README.md states are the counts of the files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from catalog_search.core.events import Delete, Patch, Upsert, parse_event
from catalog_search.core.settings import load_settings

DATA = Path(__file__).resolve().parents[2] / "app" / "data"
README = (DATA / "README.md").read_text(encoding="utf-8")


def events(name: str) -> list[Upsert | Patch | Delete]:
    limit = load_settings().ingest.max_event_bytes
    parsed = []
    for number, line in enumerate((DATA / name).read_text(encoding="utf-8").splitlines(), 1):
        compact = json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"))
        assert line == compact, f"{name}:{number}: not one compact JSON object per line"
        parsed.append(parse_event(line.encode("utf-8"), max_bytes=limit))   # InvalidEvent names the problem
    return parsed


@pytest.fixture(scope="module")
def catalog() -> list[Upsert]:
    found = events("sample_catalog.jsonl")
    assert all(isinstance(e, Upsert) for e in found)
    return found  # type: ignore[return-value]


@pytest.fixture(scope="module")
def changes() -> list[Upsert | Patch | Delete]:
    return events("sample_changes.jsonl")


def stated(*phrases: str) -> None:
    for phrase in phrases:
        assert phrase in README, f"app/data/README.md should say: {phrase}"


def test_catalog_counts_by_tenant_locale_and_category(catalog: list[Upsert]) -> None:
    skus = [e.sku for e in catalog]
    assert len(set(skus)) == len(skus) and {e.version for e in catalog} == {1}
    tenants = Counter(e.fields["tenant"] for e in catalog)
    assert all(e.sku.startswith("OUT-") == (e.fields["tenant"] == "outlet") for e in catalog)
    stated(f"{len(catalog)} `upsert` events (version 1), one per sku",
           f"{tenants['default']} in tenant `default`, {tenants['outlet']} in tenant `outlet`")
    locales = Counter((e.fields["locale"], e.fields["currency"], e.fields["tenant"]) for e in catalog)
    by_locale = Counter()
    for (locale, currency, _), n in locales.items():
        by_locale[f"{locale}/{currency}"] += n
    zh, en = ("zh-CN", "CNY"), ("en-US", "USD")
    stated(f"zh-CN/CNY {by_locale['zh-CN/CNY']} ({locales[(*zh, 'default')]} default + {locales[(*zh, 'outlet')]} "
           f"outlet), en-US/USD {by_locale['en-US/USD']} ({locales[(*en, 'default')]} + {locales[(*en, 'outlet')]}), "
           f"ja-JP/JPY {by_locale['ja-JP/JPY']}, de-DE/EUR {by_locale['de-DE/EUR']}.")
    assert sum(by_locale.values()) == len(catalog)
    assert all(e.fields["category"].isascii() != (e.fields["locale"] == "zh-CN") for e in catalog)
    stated("By top-level category: " + ", ".join(f"{name} {n}" for name, n in _top_level(catalog)) + ".")


def _top_level(catalog: list[Upsert]) -> list[tuple[str, int]]:
    """Products per top-level category, each under the English name of its sku's category code (ELE: Electronics,
    taken from the EN- products), largest first."""
    names = {e.sku.split("-")[1]: e.fields["category"].split(" > ")[0] for e in catalog if e.sku.startswith("EN-")}
    counts = Counter(names[e.sku.removeprefix("OUT-").split("-")[1]] for e in catalog)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def test_variant_groups_are_real_listings(catalog: list[Upsert]) -> None:
    """Explicit group ids fold colour/shade variants of one listing: same brand, category, locale and tenant."""
    groups: dict[str, list[Upsert]] = {}
    for e in catalog:
        if e.fields["group_id"] != e.sku:
            groups.setdefault(e.fields["group_id"], []).append(e)
    assert all(len(variants) >= 2 for variants in groups.values()), groups.keys()
    for group_id, variants in groups.items():
        for name in ("brand", "category", "locale", "tenant"):
            assert len({v.fields[name] for v in variants}) == 1, (group_id, name)
        prefix = variants[0].sku.rsplit("-", 1)[0]                       # EN-APP, OUT-EN-APP
        assert group_id.startswith(prefix + "-G") and all(v.sku.startswith(prefix + "-") for v in variants)
        colours = [v.fields["attributes"].get("color") for v in variants]
        assert len(set(colours)) == len(colours), (group_id, colours)   # variants differ (colour / shade)
    stated(f"{len(groups)} groups of {sum(map(len, groups.values()))} skus")
    assert len(groups) >= 10


def test_change_stream_counts(catalog: list[Upsert], changes: list[Upsert | Patch | Delete]) -> None:
    version = {e.sku: e.version for e in catalog}
    new = [e for e in changes if isinstance(e, Upsert)]
    assert all(e.sku not in version and e.version == 1 for e in new)
    stale, content, price_stock, deletes = [], [], [], []
    for e in changes:
        if e.sku in version and e.version <= version[e.sku]:
            stale.append((e, version[e.sku]))
        elif isinstance(e, Delete):
            deletes.append(e)
        elif isinstance(e, Patch):
            (content if {"title", "description"} & set(e.fields) else price_stock).append(e)
            assert set(e.fields) <= {"title", "description", "price", "in_stock"}, e
        version[e.sku] = max(version.get(e.sku, 0), e.version)
    assert all(e.sku in version for e in changes)
    on_new = sum(e.sku in {n.sku for n in new} for e in price_stock)
    stated(f"`sample_changes.jsonl`: {len(changes)} follow-up events over the same skus",
           f"{len(price_stock)} price/stock patches (one on a new product)",
           f"{len(content)} title/description patches (need re-embedding)", f"{len(deletes)} deletes",
           f"{len(new)} brand-new products (upsert v1, one patched later)")
    assert len(stale) == 1 and on_new == 1
    (event, newer), = stale
    stated(f"1 stale patch ({event.sku} v{event.version} after its v{newer})")
    assert len(stale) + len(content) + len(price_stock) + len(deletes) + len(new) == len(changes)


def test_readme_no_longer_points_at_a_generator() -> None:
    assert "generated" not in README.lower() and "make_sample_catalog" not in README
    assert not (DATA.parents[1] / "scripts" / "make_sample_catalog.py").exists()
