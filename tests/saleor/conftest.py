"""Root conftest of the Saleor tier: what Saleor's own (unpackaged) root conftest does, so its
fixtures and test settings work here: every test case sees the default and the replica database,
the test connections are prepared, and the fixture modules that version's conftest names are
loaded."""

import ast
import functools
import inspect
from pathlib import Path

import django.test
import pytest
import saleor
from django.conf import settings
from saleor.tests.utils import prepare_test_db_connections

TEST_DATABASES = {
    settings.DATABASE_CONNECTION_DEFAULT_NAME,
    settings.DATABASE_CONNECTION_REPLICA_NAME,
}
django.test.TransactionTestCase.databases = TEST_DATABASES
django.test.TestCase.databases = TEST_DATABASES
prepare_test_db_connections()


def saleor_fixture_modules() -> list[str]:
    """The fixture modules Saleor's own root conftest loads. The list differs between versions
    (3.20 keeps most fixtures in saleor/tests/fixtures.py; 3.21 split them into 24 modules),
    and that conftest is not packaged: it is read from the checkout Saleor is installed from
    (editable, as `make saleor-env` installs it)."""
    root = Path(saleor.__file__).resolve().parent.parent / "conftest.py"
    if not root.is_file():
        raise RuntimeError(f"{root} not found: install Saleor editable from a checkout")
    for node in ast.parse(root.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytest_plugins"
            for target in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise RuntimeError(f"{root} has no pytest_plugins list")


pytest_plugins = [
    *saleor_fixture_modules(),
    "license_fixtures",
    "payment_fixtures",
    "portal_fixtures",
]


def pytest_configure(config):
    _post_graphql_runs_on_commit_callbacks()


def _post_graphql_runs_on_commit_callbacks() -> None:
    """Saleor 3.21+'s test client runs the on-commit callbacks a request registers, and those
    that these register in turn, as a committed request would (captureOnCommitCallbacks). 3.20's
    runs the pending callbacks once (flush_post_commit_hooks), so a callback registered by a
    callback never ran, and order_fully_paid never reached the plugin in tests. Give 3.20's
    client the same behaviour: flush until none is left. A difference of the test harness, not
    of Saleor at run time (test_harness.py checks it on every version)."""
    from django.db import connections
    from saleor.graphql.tests.fixtures import ApiClient

    if "captureOnCommitCallbacks" in inspect.getsource(ApiClient.post_graphql):
        return
    from saleor.tests.utils import flush_post_commit_hooks

    post_graphql = ApiClient.post_graphql

    @functools.wraps(post_graphql)
    def flushing(self, *args, **kwargs):
        result = post_graphql(self, *args, **kwargs)
        connection = connections[settings.DATABASE_CONNECTION_DEFAULT_NAME]
        for _ in range(100):
            if not connection.run_on_commit:
                return result
            flush_post_commit_hooks()
        raise RuntimeError("on-commit callbacks keep registering callbacks")

    ApiClient.post_graphql = flushing


def pytest_report_header(config):
    import saleor

    return f"saleor {saleor.__version__} from {saleor.__file__}"


@pytest.fixture(autouse=True)
def _fresh_signer():
    from saleor_license_plugin.licensing.entitlements import reset_signer_cache
    from saleor_license_plugin.saleor_host.catalog import forget_lists

    reset_signer_cache()
    forget_lists()  # each test's catalog as it set it up (offers list from memory for 10 s)
    yield
    reset_signer_cache()
    forget_lists()
