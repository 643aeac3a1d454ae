"""The Saleor tier (tests/saleor) needs a virtualenv holding Saleor; it runs as its own pytest
invocation because Saleor's fixtures load through its rootdir conftest. Where Saleor is
importable, this runs the tier and requires it to pass; elsewhere it is skipped, visibly."""

import subprocess
import sys
from pathlib import Path

import pytest


def test_saleor_tier_passes():
    pytest.importorskip(
        "saleor",
        reason=(
            "saleor is not importable here: `make saleor-env SALEOR_SRC=...` builds a Saleor "
            "environment, then `make test-saleor`"
        ),
    )
    tier = Path(__file__).parent / "saleor"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pytest.ini", "-q"],
        cwd=tier,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
