"""The standalone catalog: a JSON file of rows as :meth:`StaticCatalog.from_dicts` reads them.

``SALEOR_LICENSE["CATALOG_FILE"]``, else the ``LICENSE_CATALOG`` environment variable, else the
packaged demo catalog.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing.ports import StaticCatalog

DEMO_CATALOG = "demo_catalog.json"


def catalog_path() -> str | None:
    return get_settings().catalog_file or os.environ.get("LICENSE_CATALOG") or None


@lru_cache(maxsize=4)
def _load(path: str | None) -> StaticCatalog:
    if path is None:
        text = resources.files(__package__).joinpath(DEMO_CATALOG).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return StaticCatalog.from_dicts(json.loads(text))


def load_catalog() -> StaticCatalog:
    return _load(catalog_path())
