"""`make demo`: seeding plus every printed example, run exactly as printed (with curl when the
machine has it) against the demo server in a subprocess on a free port."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_demo_seeds_and_every_printed_example_works(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "saleor_license_plugin.server.demo",
            "--port",
            "0",
            "--check",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "10/10 examples returned data without errors." in out
    assert out.count("curl -s") == 10 and "FAIL" not in out
    assert "GraphQL endpoint and GraphiQL: http://127.0.0.1:" in out
    assert "Reference partner portal:      http://127.0.0.1:" in out
    assert "ok   Portal page and config" in out and "make demo-saleor" in out
    assert (tmp_path / "licenses.sqlite3").exists()  # SQLite under the data dir


def test_seed_creates_the_promised_licenses_and_tokens(db):
    from django.test import RequestFactory

    from saleor_license_plugin.models import License, LicenseStatus
    from saleor_license_plugin.server.auth import resolve_principal
    from saleor_license_plugin.server.demo import CUSTOMER, examples, seed

    seeded = seed()
    licenses = {lic.product_code: lic for lic in License.objects.all()}
    assert (
        licenses["pro-8"].is_perpetual and licenses["pro-8"].add_ons["extensions"]["quantity"] == 20
    )
    assert not licenses["cloud-8"].is_perpetual
    assert licenses["std-16"].status == LicenseStatus.SUSPENDED
    assert licenses["ent-16"].deployment.public_id == seeded.deployment
    assert {lic.owner_id for lic in licenses.values()} == {CUSTOMER[0]}
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {seeded.staff_token}")
    assert resolve_principal(request).is_staff
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {seeded.customer_token}")
    assert resolve_principal(request).user_id == CUSTOMER[0]
    printed = [e.curl("http://127.0.0.1:8000") for e in examples(seeded)]
    assert any(seeded.customer_token in p for p in printed)
    assert any(seeded.keys["perpetual"] in p for p in printed)
    assert any(seeded.device_etag in p for p in printed)
