import pytest
from django.core import mail

from tests.invoices.helpers import SELLER


@pytest.fixture(autouse=True)
def invoice_settings(settings, tmp_path):
    """PDFs in a private folder of this test; mail kept in memory; the seller configured."""
    settings.STORAGES = {
        **settings.STORAGES,
        "invoices": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "invoices"), "base_url": None},
        },
    }
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "INVOICE_STORAGE": "invoices",
        "INVOICE_SELLER": SELLER,
        "INVOICE_FOOTER": "Payable within 14 days. IBAN IE29 AIBK 9311 5212 3456 78",
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return tmp_path / "invoices"
