"""The Saleor tier's harness behaves the same on every Saleor version (tests/saleor/conftest.py)."""

import django.test
from conftest import saleor_fixture_modules
from django.db import transaction
from saleor.graphql.tests.fixtures import ApiClient


def test_saleor_fixture_modules_are_loaded(request):
    modules = saleor_fixture_modules()
    assert "saleor.tests.fixtures" in modules
    # A fixture every version has, from Saleor's conftest's modules, not ours.
    assert request.getfixturevalue("channel_USD").slug


def test_post_graphql_runs_the_requests_on_commit_callbacks(db, monkeypatch):
    ran = []

    def request(self, **kwargs):
        transaction.on_commit(lambda: ran.append("on_commit"))
        return "response"

    monkeypatch.setattr(django.test.Client, "request", request)
    assert ApiClient().post_graphql("{ shop { name } }") == "response"
    assert ran == ["on_commit"]  # once: not skipped (3.20) and not run twice
