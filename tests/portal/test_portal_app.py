"""The portal as served (page, assets, config) and what it sends: every GraphQL document in
queries.js validates against its schema (Saleor 3.23's or the plugin's), every plugin error code
has a readable message, every module import resolves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import RequestFactory
from graphql import parse, validate

from saleor_license_plugin import conf
from saleor_license_plugin.graphql.document import QueryLimits, prepare
from saleor_license_plugin.graphql.schema import schema
from saleor_license_plugin.http.router import dispatch
from saleor_license_plugin.licensing.errors import LicenseErrorCode
from saleor_license_plugin.licensing.ports import ANONYMOUS
from saleor_license_plugin.server.catalog import load_catalog
from tests.api.test_docs import saleor_schema  # noqa: F401  (a fixture)

STATIC = Path(__file__).resolve().parents[2] / "saleor_license_plugin/http/portal/static"
BASE = "/plugins/global/saleor_license_plugin/"


def get(path, *, base=BASE, method="get", **host):
    request = getattr(RequestFactory(), method)(base + path.lstrip("/"), HTTP_HOST="testserver")
    return dispatch(
        request, "/" + path.lstrip("/"), principal=ANONYMOUS, catalog=load_catalog(), **host
    )


def test_standalone_config_has_no_saleor_and_carries_the_catalog():
    body = json.loads(get("portal/config.json", base="/").content)
    assert body["mode"] == "standalone" and body["saleorApi"] is None and body["channel"] is None
    assert body["licenseApi"] == "http://testserver/graphql/"
    items = {item["variantId"]: item for item in body["catalog"]}
    assert items["ent-16"] == {
        "variantId": "ent-16",
        "name": "Enterprise 16 SC",
        "price": items["ent-16"]["price"],
        "kind": "edition",
        "edition": "Enterprise",
        "rank": items["ent-16"]["rank"],
        "capacity": 16,
        "capacityUnit": "simultaneous_calls",
        "term": "perpetual",
        "requiresDeployment": False,
    }
    assert items["cloud-8"]["term"] == "annual"
    assert items["addon-hot-standby"]["addOnKind"] == "flat"
    assert items["addon-extensions-10"]["addOnKind"] == "quantity"
    assert items["addon-extensions-10"]["units"] == 10


def test_inside_saleor_the_config_names_saleors_api_and_the_channel():
    response = get(
        "portal/config.json",
        saleor_api_url="http://testserver/graphql/",
        channel="default-channel",
    )
    body = json.loads(response.content)
    assert body == {
        "licenseApi": f"http://testserver{BASE}graphql/",
        "saleorApi": "http://testserver/graphql/",
        "channel": "default-channel",
        "mode": "saleor",
    }
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["portal", "portal/", "portal/licenses", "portal/a/b"])
def test_the_page_loads_its_own_assets_only(path):
    response = get(path)
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert f'src="{BASE}portal/app.js" data-base="{BASE}"' in html
    assert f'href="{BASE}portal/portal.css"' in html
    assert "https://" not in html  # no CDN
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp  # standalone: nothing else
    assert "frame-ancestors 'none'" in csp


def test_inside_saleor_the_page_may_reach_saleor_and_stripe_js():
    csp = get("portal/", saleor_api_url="https://api.shop.example/graphql/")[
        "Content-Security-Policy"
    ]
    assert "connect-src 'self' https://api.shop.example https://api.stripe.com;" in csp
    assert "script-src 'self' https://js.stripe.com;" in csp


def test_every_static_file_is_served_with_its_type():
    files = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*.*"))
    assert "pages/buy.js" in files and "app.js" in files
    for name in files:
        if name == "index.html":
            continue
        response = get(f"portal/{name}")
        assert response.status_code == 200, name
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert response["Content-Type"].startswith(kind)
        assert response.content.decode() == (STATIC / name).read_text()


@pytest.mark.parametrize(
    "path",
    [
        "portal/nope.js",
        "portal/../router.py",
        "portal/pages/../../__init__.py",
        "portal/x/app.js",
        "portal/index.html",
        "portal/App.js",
    ],
)
def test_nothing_else_is_read(path):
    response = get(path)
    assert response.status_code == 404 or response.content.startswith(b"<!doctype html>")


def test_the_portal_is_read_only():
    assert get("portal/config.json", method="post").status_code == 405


def test_every_module_import_resolves():
    for module in STATIC.rglob("*.js"):
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.name}: {target}"


def test_every_plugin_error_code_reads_as_a_sentence():
    messages = (STATIC / "messages.js").read_text()
    table = messages.split("export const MESSAGES = {", 1)[1].split("\n};", 1)[0]
    keys = set(re.findall(r"^\s+(\w+): ", table, re.MULTILINE))
    assert [code.value for code in LicenseErrorCode if code.value not in keys] == []


def portal_documents():
    """(target, name, document) of queries.js, with its ${CONSTANTS} filled in."""
    text = (STATIC / "queries.js").read_text()
    constants = dict(re.findall(r'^const (\w+) = [`"]([^`"]*)[`"];', text, re.MULTILINE))

    def fill(document: str) -> str:
        while "${" in document:
            document = re.sub(r"\$\{(\w+)\}", lambda m: constants[m.group(1)], document)
        return document

    for name in list(constants):
        constants[name] = fill(constants[name])
    found = []
    for target, body in re.findall(
        r"^export const (SALEOR|PLUGIN) = \{(.*?)^\};", text, re.M | re.S
    ):
        for name, document in re.findall(r"^  (\w+): `(.*?)`,", body, re.M | re.S):
            found.append(pytest.param(target, fill(document), id=f"{target}.{name}"))
    return found


def test_queries_js_has_both_kinds_of_documents():
    ids = [p.id for p in portal_documents()]
    assert (
        "SALEOR.CHECKOUT_CREATE" in ids
        and "SALEOR.COMPLETE" in ids
        and "SALEOR.TOKEN_CREATE" in ids
    )
    assert "PLUGIN.ADD_LINES" in ids and "PLUGIN.VERIFY" in ids and "PLUGIN.OFFLINE_FILE" in ids
    assert len(ids) >= 20


@pytest.mark.parametrize("target, document", portal_documents())
def test_portal_documents_validate(target, document, request):
    against = request.getfixturevalue("saleor_schema") if target == "SALEOR" else schema
    assert validate(against, parse(document)) == []
    if target == "PLUGIN":  # and stay within the default query limits
        prepare(schema, document, QueryLimits.from_settings(conf.from_django_settings()))
