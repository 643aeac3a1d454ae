"""Applying paid orders to licenses (orders.py) and the Celery tasks that run it (tasks.py)."""
