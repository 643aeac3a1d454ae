"""Payment gateways: Stripe (cards), MultiSafepay (redirect methods) and offline payments.

Each provider has a thin Saleor plugin (``plugin.py``, the only module here that imports
Saleor), a module that talks to the provider, and one that handles its notifications. Those
take and return plain values so they run and are tested without Saleor.
"""
