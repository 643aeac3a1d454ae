"""Every GraphQL document published in README.md and docs/*.md validates: the plugin's against
its schema, ```graphql saleor ones against Saleor 3.23's. The schema file in docs/ is current."""

import re
from pathlib import Path

import pytest
from graphql import parse, validate
from graphql.utils.build_ast_schema import build_ast_schema

from saleor_license_plugin import conf
from saleor_license_plugin.graphql.document import QueryLimits, prepare
from saleor_license_plugin.graphql.errors import RequestErrorCode
from saleor_license_plugin.graphql.schema import schema
from saleor_license_plugin.licensing.errors import LicenseErrorCode

ROOT = Path(__file__).resolve().parents[2]
SALEOR_SCHEMA = Path(__file__).with_name("saleor-schema-3.23.graphql")  # in the repository
FENCE = re.compile(r"^```graphql( saleor)?\s*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def documents():
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in FENCE.finditer(path.read_text()):
            line = path.read_text()[: match.start()].count("\n") + 1
            target = "saleor" if match.group(1) else "plugin"
            found.append(pytest.param(target, match.group(2), id=f"{path.name}:{line}:{target}"))
    return found


def legacy_sdl(text: str) -> str:
    """Saleor's SDL in the dialect graphql-core 2 reads: no descriptions, `implements A, B`."""
    text = re.sub(r'"""[\s\S]*?"""', "", text)
    text = re.sub(r'(?m)^\s*"(?:[^"\\\n]|\\.)*"\s*$', "", text)
    return re.sub(
        r"(?m)^((?:type|interface)\s+\w+\s+implements\s+)([^{]*)",
        lambda m: m.group(1) + m.group(2).replace("&", " "),
        text,
    )


@pytest.fixture(scope="module")
def saleor_schema():
    return build_ast_schema(parse(legacy_sdl(SALEOR_SCHEMA.read_text())))


def test_the_docs_publish_documents_for_both_schemas():
    targets = {p.values[0] for p in documents()}
    assert targets == {"plugin", "saleor"}


@pytest.mark.parametrize("target, document", documents())
def test_published_documents_validate(target, document, request):
    against = request.getfixturevalue("saleor_schema") if target == "saleor" else schema
    assert validate(against, parse(document)) == []
    if target == "plugin":  # and keep the default query limits
        prepare(schema, document, QueryLimits.from_settings(conf.from_django_settings()))


def test_every_error_code_is_documented():
    api = (ROOT / "docs" / "api.md").read_text()
    codes = [*LicenseErrorCode, *RequestErrorCode]
    assert [code.value for code in codes if f"`{code.value}`" not in api] == []


def test_the_query_limits_are_documented_with_their_defaults():
    readme, api = (ROOT / "README.md").read_text(), (ROOT / "docs" / "api.md").read_text()
    for key in [k for k in conf.DEFAULTS if k.startswith("GRAPHQL_")]:
        assert f"`{key}`" in readme and f"| `{key}` | `{conf.DEFAULTS[key]}` |" in api, key


def test_a_wrong_document_does_not_validate(saleor_schema):
    assert validate(schema, parse("{ licenses { nope } }"))
    assert validate(saleor_schema, parse("{ shop { nope } }"))


def test_the_published_schema_file_is_current():
    published = (ROOT / "docs" / "license-schema.graphql").read_text()
    assert published.strip() == str(schema).strip(), "regenerate docs/license-schema.graphql"


# --- plugin URLs ---------------------------------------------------------------------------

PLUGIN_URL = re.compile(r"/plugins/(global|channel/[^/\s`]+)/([^/\s`<>]+)/([^/\s`]*)")
PACKAGE = ROOT / "saleor_license_plugin"


def _constant(path: Path, name: str) -> str:
    match = re.search(rf'^{name} = "([^"]+)"', path.read_text(), re.MULTILINE)
    assert match, f"{name} in {path}"
    return match.group(1)


def served_urls() -> dict[str, tuple[str, set[str]]]:
    """Plugin id -> (Saleor's route for it, the paths it answers), read from the sources (the
    plugin modules import Saleor, which this tier has not)."""
    router = (PACKAGE / "http" / "router.py").read_text()
    gateways = PACKAGE / "payments"
    return {
        _constant(PACKAGE / "plugin.py", "PLUGIN_ID"): (
            "global",
            # Each first path segment the router answers; "" is the API's base URL itself.
            {route.split("/")[0] for route in re.findall(r'route == "([\w/]+)"', router)} | {""},
        ),
        _constant(gateways / "stripe" / "plugin.py", "PLUGIN_ID"): (
            "channel",
            {_constant(gateways / "stripe" / "plugin.py", "WEBHOOK_PATH")},
        ),
        _constant(gateways / "multisafepay" / "plugin.py", "PLUGIN_ID"): (
            "channel",
            {_constant(gateways / "multisafepay" / "plugin.py", "NOTIFICATION_PATH")},
        ),
    }


def documented_plugin_urls():
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for match in PLUGIN_URL.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found.append(pytest.param(*match.groups(), id=f"{path.name}:{line}:{match.group(0)}"))
    return found


def test_the_docs_name_plugin_urls():
    assert len(documented_plugin_urls()) >= 5


@pytest.mark.parametrize("scope, plugin_id, route", documented_plugin_urls())
def test_documented_plugin_urls_are_served(scope, plugin_id, route):
    """Saleor routes /plugins/global/<id>/… to global plugins and /plugins/channel/<slug>/<id>/…
    to per-channel ones; the plugin answers only its own paths (issue 9: the docs named
    /plugins/global/saleor.license/…, which answers 404)."""
    served = served_urls()
    assert plugin_id in served, f"no plugin has the id {plugin_id!r}"
    expected_scope, routes = served[plugin_id]
    assert scope.split("/")[0] == expected_scope
    assert route in routes
