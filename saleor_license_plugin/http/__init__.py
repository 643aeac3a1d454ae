"""HTTP surface of the plugin: the GraphQL endpoint and the device activation endpoint.

:func:`saleor_license_plugin.api.router.dispatch` serves both, inside Saleor (through the
plugin's ``webhook``) and in the standalone server.
"""
