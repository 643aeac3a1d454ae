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
SALEOR_SCHEMA = ROOT.parent / "shared" / "saleor" / "schema-3.23.graphql"
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
    if not SALEOR_SCHEMA.exists():
        pytest.skip(f"Saleor's schema is not at {SALEOR_SCHEMA}")
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
