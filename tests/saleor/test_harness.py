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

    def inner():
        ran.append("inner")

    def outer():
        ran.append("outer")
        with transaction.atomic():
            transaction.on_commit(inner)  # as Saleor's webhooks and plugin hooks nest them

    def request(self, **kwargs):
        transaction.on_commit(outer)
        return "response"

    monkeypatch.setattr(django.test.Client, "request", request)
    assert ApiClient().post_graphql("{ shop { name } }") == "response"
    # Each once: the nested one is not lost (3.20's client alone) and none runs twice.
    assert ran == ["outer", "inner"]
