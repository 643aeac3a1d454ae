"""The standalone catalog: the packaged demo catalog's shape, and CATALOG_FILE overriding it."""

import json

from saleor_license_plugin.licensing.catalog import AddOnKind, AddOnTerms, EditionTerms, Term
from saleor_license_plugin.server import catalog


def test_the_demo_catalog_has_three_editions_by_five_capacities_cloud_and_add_ons():
    items = catalog._load(None).items()
    editions = [i.terms for i in items if isinstance(i.terms, EditionTerms)]
    grid = {(t.edition, t.capacity) for t in editions if t.term is Term.PERPETUAL}
    assert grid == {
        (edition, capacity)
        for edition in ("Standard", "Professional", "Enterprise")
        for capacity in (4, 8, 16, 32, 64)
    }
    assert all(t.maintenance_rate is not None for t in editions if t.term is Term.PERPETUAL)
    assert [t.edition for t in editions if t.term is Term.ANNUAL] == ["Cloud"]
    add_ons = {i.terms.code: i.terms for i in items if isinstance(i.terms, AddOnTerms)}
    assert add_ons["extensions"].kind is AddOnKind.QUANTITY and add_ons["extensions"].units == 10
    assert add_ons["concurrent_calls"].kind is AddOnKind.QUANTITY
    assert add_ons["hot_standby"].kind is add_ons["disaster_recovery"].kind is AddOnKind.FLAT


def test_catalog_file_setting_wins_over_the_environment(settings, tmp_path, monkeypatch):
    row = {
        "id": "only",
        "name": "Only",
        "price": "1.00",
        "currency": "USD",
        "metadata": {"license.kind": "edition", "license.edition": "Only", "license.capacity": "1"},
    }
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([row]))
    monkeypatch.setenv("LICENSE_CATALOG", str(tmp_path / "missing.json"))
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "CATALOG_FILE": str(path)}
    assert [i.variant_id for i in catalog.load_catalog().items()] == ["only"]
    settings.SALEOR_LICENSE = {
        k: v for k, v in settings.SALEOR_LICENSE.items() if k != "CATALOG_FILE"
    }
    monkeypatch.setenv("LICENSE_CATALOG", str(path))
    assert catalog.catalog_path() == str(path)
