"""Root conftest of the Saleor tier: what Saleor's own (unpackaged) root conftest does, so its
fixtures and test settings work here: every test case sees the default and the replica database,
the test connections are prepared, and the fixture modules are loaded."""

import django.test
import pytest
from django.conf import settings
from saleor.tests.utils import prepare_test_db_connections

TEST_DATABASES = {
    settings.DATABASE_CONNECTION_DEFAULT_NAME,
    settings.DATABASE_CONNECTION_REPLICA_NAME,
}
django.test.TransactionTestCase.databases = TEST_DATABASES
django.test.TestCase.databases = TEST_DATABASES
prepare_test_db_connections()

pytest_plugins = [
    "saleor.tests.fixtures",
    "saleor.app.tests.fixtures",
    "saleor.plugins.tests.fixtures",
    "saleor.graphql.tests.fixtures",
    "saleor.webhook.tests.fixtures",
    "saleor.tax.tests.fixtures",
    "saleor.channel.tests.fixtures",
    "saleor.warehouse.tests.fixtures",
    "saleor.order.tests.fixtures",
    "saleor.product.tests.fixtures",
    "saleor.site.tests.fixtures",
    "saleor.shipping.tests.fixtures",
    "saleor.permission.tests.fixtures",
    "saleor.giftcard.tests.fixtures",
    "saleor.discount.tests.fixtures",
    "saleor.checkout.tests.fixtures",
    "saleor.attribute.tests.fixtures",
    "saleor.account.tests.fixtures",
    "saleor.graphql.account.tests.fixtures",
    "saleor.payment.tests.fixtures",
    "saleor.webhook.tests.circuit_breaker.fixtures",
    "saleor.page.tests.fixtures",
    "saleor.menu.tests.fixtures",
    "saleor.thumbnail.tests.fixtures",
    "license_fixtures",
    "payment_fixtures",
]


def pytest_report_header(config):
    import saleor

    return f"saleor {saleor.__version__} from {saleor.__file__}"


@pytest.fixture(autouse=True)
def _fresh_signer():
    from saleor_license_plugin.licensing.entitlements import reset_signer_cache

    reset_signer_cache()
    yield
    reset_signer_cache()
