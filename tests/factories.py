"""A small catalog and helpers shared by the tests."""

from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.ports import StaticCatalog


def edition(vid, name, rank, capacity, price, **meta):
    metadata = {
        "license.kind": "edition",
        "license.edition": name,
        "license.edition_rank": str(rank),
        "license.capacity": str(capacity),
        "license.maintenance_rate": "0.2",
        **meta,
    }
    return {
        "id": vid,
        "name": f"{name} {capacity}",
        "price": price,
        "currency": "EUR",
        "metadata": metadata,
    }


ROWS = [
    edition("std-8", "Standard", 1, 8, "200"),
    edition("pro-8", "Professional", 2, 8, "400"),
    edition("pro-16", "Professional", 2, 16, "700"),
    edition("ent-8", "Enterprise", 3, 8, "600"),
    edition("cloud-8", "Cloud", 1, 8, "120", **{"license.term": "annual"}),
    {
        "id": "ext",
        "name": "Extensions",
        "price": "10",
        "currency": "EUR",
        "metadata": {"license.kind": "add_on", "license.add_on": "extensions"},
    },
    {
        "id": "hs",
        "name": "Hot standby",
        "price": "300",
        "currency": "EUR",
        "metadata": {
            "license.kind": "add_on",
            "license.add_on": "hot_standby",
            "license.add_on_kind": "flat",
        },
    },
    {"id": "tshirt", "name": "T-shirt", "price": "20", "currency": "EUR", "metadata": {}},
    *(
        {
            "id": vid,
            "name": f"Cloud PBX {period}",
            "price": price,
            "currency": "EUR",
            "metadata": {
                "license.kind": "plan",
                "license.plan": "Cloud PBX",
                "license.plan_period": period,
                "license.per_user_price": "2.50",
                "license.included_users": "10",
                "license.user_cap": "100",
                "license.data_locations": "eu-west, us-east",
                "license.free_first_period": free,
            },
        }
        for vid, period, price, free in (
            ("plan-m", "monthly", "30", "false"),
            ("plan-y", "yearly", "300", "false"),
            ("plan-free", "monthly", "30", "true"),
        )
    ),
    # Plans to change between (plan_changes): a dearer and a cheaper monthly one.
    *(
        {
            "id": vid,
            "name": f"Cloud PBX {name}",
            "price": price,
            "currency": "EUR",
            "metadata": {
                "license.kind": "plan",
                "license.plan": f"Cloud PBX {name}",
                "license.plan_period": "monthly",
                "license.per_user_price": per_user,
                "license.included_users": "10",
                "license.user_cap": cap,
                "license.data_locations": "eu-west, us-east",
            },
        }
        for vid, name, price, per_user, cap in (
            ("plan-m-pro", "Pro", "60", "3.00", "500"),
            ("plan-m-basic", "Basic", "15", "2.00", "20"),
        )
    ),
]
CATALOG = StaticCatalog.from_dicts(ROWS)
METADATA = {row["id"]: row["metadata"] for row in ROWS}


def issue(vid, owner, now, catalog=None, **kw):
    """The one way tests issue a license: ``vid`` of ``catalog`` (default: this small test
    catalog; the API tests pass the demo catalog their server serves) for ``owner``."""
    item = (catalog or CATALOG).get(vid)
    assert item is not None, vid
    return lifecycle.issue_license(
        terms=item.terms, owner=owner, product_code=vid, now=now, **kw
    ).license
