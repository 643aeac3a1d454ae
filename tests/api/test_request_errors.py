"""Logging of the GraphQL endpoint: nothing for refusals, one record for the unexpected."""

import json
import logging

import pytest

from tests.api.helpers import ALICE, gql

pytestmark = pytest.mark.django_db


def test_refusals_in_queries_log_nothing(caplog):
    """The bug: graphql-core's executor logged a full traceback at ERROR for every refusal
    (an anonymous ``{ licenses { totalCount } }`` wrote ~1.4 kB)."""
    with caplog.at_level(logging.DEBUG):
        reply = gql("{ licenses { totalCount } }")
        assert reply.codes() == ["PERMISSION_DENIED"]
        reply = gql('{ license(key: "nope") { id } }', principal=ALICE)
        assert reply.codes() == ["MALFORMED_KEY"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "Traceback" not in caplog.text


def test_an_unexpected_failure_is_logged_once(caplog, monkeypatch):
    from saleor_license_plugin.graphql import queries

    def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(queries, "public_key_b64", broken)
    with caplog.at_level(logging.DEBUG):
        reply = gql("{ licensingPublicKey { algorithm } }")
    assert reply.codes() == ["INTERNAL_ERROR"] and "hunter2" not in json.dumps(reply.body)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "hunter2" in caplog.text  # the operator gets the detail, once


def test_graphql_core_logs_outside_the_plugin_are_left_alone(caplog):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("graphql.execution.utils").error("the host's own API")
    assert "the host's own API" in caplog.text
