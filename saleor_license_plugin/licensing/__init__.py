"""The license domain: plain values in, plain values out; no Saleor, no GraphQL, no Celery.

- ``keys``: key generation (``secrets``, 130 bits), normalisation, digests, sealing;
- ``catalog``: license terms read from product metadata; ``pricing``: money and line prices;
- ``offers``: one quote function for every line type; ``checkout_lines``: line intents;
- ``lifecycle``: issue, upgrade, renew, expand, suspend, reinstate, revoke, expire;
- ``activation`` and ``entitlements``: devices and their signed documents;
- ``lookup`` and ``ratelimit``: the one rate-limited, oracle-free way to find a key;
- ``ports``: what a host provides (``Principal``, ``Catalog``, ``CheckoutHost``);
- ``errors``: the coded errors every layer reports.
"""
