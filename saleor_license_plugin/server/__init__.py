"""The license API without Saleor: a small Django project serving the same router.

For local development, the demo (``make demo``), benchmarks, and a separate device-facing
service. Auth is by API tokens (``manage.py create_api_token``); the catalog is a JSON file.
"""
