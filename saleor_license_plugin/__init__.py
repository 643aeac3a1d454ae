"""Sell software licenses from a Saleor shop.

Only ``plugin.py`` and ``payments/*/plugin.py`` import Saleor; everything else takes plain values.
"""

__version__ = "0.1.0"
