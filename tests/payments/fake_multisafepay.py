"""A local stand-in for MultiSafepay's JSON API (v1/json): orders, refunds, notifications.

It speaks the documented shapes (``{"success": true, "data": {...}}`` /
``{"success": false, "error_code": ..., "error_info": ...}``), checks the ``api_key`` header,
and can stall, answer late or fail with 5xx (see :class:`ScriptedServer`).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote

import requests

from saleor_license_plugin.payments.multisafepay.webhooks import sign
from tests.payments.httpservers import ScriptedServer

PREFIX = "/v1/json/"


class FakeMultiSafepay(ScriptedServer):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.orders: dict[str, dict[str, Any]] = {}
        self.create_requests: list[dict[str, Any]] = []
        self.refund_requests: list[dict[str, Any]] = []
        self._next_txn = 1000

    @property
    def base_url(self) -> str:
        return self.url + PREFIX

    # --- test controls -------------------------------------------------------------------

    def set_status(self, order_id: str, status: str) -> None:
        self.orders[order_id]["status"] = status

    def notification(
        self,
        order_id: str,
        *,
        claimed_status: str | None = None,
        timestamp: int | None = None,
        key: str | None = None,
    ) -> tuple[bytes, str]:
        """(raw body, Auth header) of the POST notification MultiSafepay would send.

        ``claimed_status`` lets the body lie about the status, as a forged or stale body could.
        """
        order = dict(self.orders[order_id])
        if claimed_status:
            order["status"] = claimed_status
        body = json.dumps(order, separators=(",", ":")).encode()
        stamp = int(time.time()) if timestamp is None else timestamp
        return body, sign(body, key or self.api_key, stamp)

    def send_notification(self, order_id: str, url: str, **kwargs: Any) -> requests.Response:
        body, auth = self.notification(order_id, **kwargs)
        return requests.post(
            f"{url}?transactionid={order_id}&timestamp={int(time.time())}",
            data=body,
            headers={"Auth": auth, "Content-Type": "application/json"},
            timeout=10,
        )

    # --- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        if headers.get("api_key") != self.api_key:
            return 401, {"success": False, "error_code": 1032, "error_info": "Invalid API key"}
        if not path.startswith(PREFIX):
            return 404, {"success": False, "error_code": 404, "error_info": "Not found"}
        parts = [unquote(p) for p in path[len(PREFIX) :].split("?")[0].strip("/").split("/")]
        data = json.loads(body) if body else {}
        if parts == ["orders"] and method == "POST":
            return self._create(data)
        if len(parts) >= 2 and parts[0] == "orders":
            order = self.orders.get(parts[1])
            if order is None:
                return 404, {"success": False, "error_code": 1006, "error_info": "Invalid order"}
            if len(parts) == 2 and method == "GET":
                return 200, {"success": True, "data": order}
            if len(parts) == 2 and method == "PATCH":
                return self._update(order, data)
            if parts[2:] == ["refunds"] and method == "POST":
                return self._refund(order, data)
        return 400, {"success": False, "error_code": 1000, "error_info": "Unsupported request"}

    def _create(self, data: dict[str, Any]) -> tuple[int, Any]:
        self.create_requests.append(data)
        options = data.get("payment_options") or {}
        valid = (
            data.get("type") == "redirect"
            and data.get("order_id")
            and isinstance(data.get("amount"), int)
            and data["amount"] > 0
            and len(str(data.get("currency", ""))) == 3
            and all(options.get(k) for k in ("notification_url", "redirect_url", "cancel_url"))
        )
        if not valid:
            return 400, {"success": False, "error_code": 1000, "error_info": "Invalid request"}
        order_id = str(data["order_id"])
        if order_id in self.orders:
            return 400, {"success": False, "error_code": 1005, "error_info": "Duplicate order"}
        self._next_txn += 1
        self.orders[order_id] = {
            "order_id": order_id,
            "transaction_id": self._next_txn,
            "status": "initialized",
            "amount": data["amount"],
            "currency": data["currency"],
            "description": data.get("description", ""),
            "payment_url": f"{self.url}/pay/{order_id}",
            "related_transactions": [],
        }
        return 200, {
            "success": True,
            "data": {"order_id": order_id, "payment_url": self.orders[order_id]["payment_url"]},
        }

    def _update(self, order: dict[str, Any], data: dict[str, Any]) -> tuple[int, Any]:
        if data.get("status") == "cancelled" and order["status"] == "initialized":
            order["status"] = "void"
            return 200, {"success": True, "data": {}}
        return 400, {"success": False, "error_code": 1024, "error_info": "Cannot cancel"}

    def _refund(self, order: dict[str, Any], data: dict[str, Any]) -> tuple[int, Any]:
        self.refund_requests.append(data)
        refunded = sum(t["amount"] for t in order["related_transactions"])
        remaining = order["amount"] - refunded
        amount = int(data.get("amount") or 0) or remaining  # 0 means "everything left"
        if order["status"] not in ("completed", "partial_refunded"):
            return 400, {"success": False, "error_code": 1024, "error_info": "Not refundable"}
        if data.get("currency") != order["currency"] or not 0 < amount <= remaining:
            return 400, {"success": False, "error_code": 1004, "error_info": "Invalid amount"}
        self._next_txn += 1
        order["related_transactions"].append(
            {
                "transaction_id": str(self._next_txn),
                "amount": amount,
                "currency": order["currency"],
                "description": data.get("description", ""),
                "status": "completed",
                "type": "refund",
            }
        )
        order["status"] = "refunded" if amount == remaining else "partial_refunded"
        return 200, {
            "success": True,
            "data": {"transaction_id": order["transaction_id"], "refund_id": self._next_txn},
        }

    @property
    def refunded_total(self) -> dict[str, int]:
        return {
            order_id: sum(t["amount"] for t in order["related_transactions"])
            for order_id, order in self.orders.items()
        }
