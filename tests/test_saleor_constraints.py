"""scripts/saleor_constraints.py turns a Saleor checkout's poetry.lock (3.20, 3.21) into pins."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "saleor_constraints.py"
LOCK = """
[[package]]
name = "Django"
version = "4.2.30"
optional = false
groups = ["main"]

[[package]]
name = "ruff"
version = "0.4.10"
groups = ["dev"]

[[package]]
name = "python-magic-bin"
version = "0.4.14"
groups = ["main"]
markers = "sys_platform == \\"win32\\""

[[package]]
name = "colorama"
version = "0.4.6"
groups = ["main", "dev"]
markers = {main = "sys_platform == \\"win32\\"", dev = "sys_platform != \\"nonesuch\\""}

[metadata]
lock-version = "2.1"
"""


@pytest.fixture
def script():
    spec = importlib.util.spec_from_file_location("saleor_constraints", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "saleor").mkdir()
    (tmp_path / "saleor" / "__init__.py").write_text('__version__ = "3.20.119"\n')
    (tmp_path / "poetry.lock").write_text(LOCK)
    return tmp_path


@pytest.mark.skipif(sys.platform == "win32", reason="the markers are written for Linux")
def test_poetry_lock_main_and_every_group(script, checkout):
    assert script.lock_file(checkout) == "poetry.lock"
    # main: Django; magic-bin and colorama (main only on Windows) are excluded by markers.
    assert script.poetry_export(checkout, dev=False) == (
        ["django==4.2.30"],
        ["colorama==0.4.6", "python-magic-bin==0.4.14"],
    )
    # every group: colorama applies through its dev marker, ruff is dev only.
    assert script.poetry_export(checkout, dev=True) == (
        ["colorama==0.4.6", "django==4.2.30", "ruff==0.4.10"],
        ["python-magic-bin==0.4.14"],
    )


def test_writes_both_files_with_their_source(script, checkout, tmp_path, monkeypatch):
    out = tmp_path / "out" / "pins"
    out.parent.mkdir()
    monkeypatch.setattr(sys, "argv", ["saleor_constraints.py", str(checkout), str(out)])
    assert script.main() == 0
    main = (tmp_path / "out" / "pins.txt").read_text()
    assert "Saleor 3.20.119's poetry.lock" in main
    assert "django==4.2.30" in main.splitlines()
    assert "ruff==0.4.10" in (tmp_path / "out" / "pins-dev.txt").read_text().splitlines()


def test_a_checkout_without_a_lock_is_refused(script, tmp_path):
    with pytest.raises(SystemExit, match="neither uv.lock nor poetry.lock"):
        script.lock_file(tmp_path)
