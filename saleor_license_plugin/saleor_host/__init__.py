"""Saleor adapters: the only modules (with ``plugin.py``, ``payments/*/plugin.py`` and
``payments/saleor_gateway.py``) that import ``saleor``.

Each turns Saleor's objects into the plain values the rest of the package works on:

- :mod:`.auth`: Saleor's JWT and users into a ``Principal``;
- :mod:`.catalog`: variants and channel listings into a ``Catalog``;
- :mod:`.checkout`: license lines into Saleor checkouts, and the ``checkoutComplete`` guard;
- :mod:`.orders`: orders into fulfillment payloads, and what the Celery tasks need from Saleor.
"""
