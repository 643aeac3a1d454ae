"""The Dashboard app served by the plugin: its manifest (Saleor's format), page and assets."""

import json

import pytest
from django.test import RequestFactory

from saleor_license_plugin.http.router import dispatch
from saleor_license_plugin.licensing.ports import ANONYMOUS
from tests.api.helpers import CATALOG

BASE = "/plugins/global/saleor_license_plugin/"


def get(path, *, widgets=True, method="get", host="testserver", public_url=None):
    request = getattr(RequestFactory(), method)(BASE + path.lstrip("/"), HTTP_HOST=host)
    return dispatch(
        request,
        "/" + path.lstrip("/"),
        principal=ANONYMOUS,
        catalog=CATALOG,
        dashboard_widgets=widgets,
        public_url=public_url,
    )


def test_the_manifest_names_the_page_and_its_extensions():
    body = json.loads(get("dashboard/manifest").content)
    page = "http://testserver" + BASE + "dashboard/"
    assert body["id"] == "saleor-license-plugin.dashboard"
    assert body["appUrl"] == page and body["permissions"] == ["MANAGE_ORDERS"]
    mounts = {(e["mount"], e["target"]): e for e in body["extensions"]}
    assert mounts[("NAVIGATION_CUSTOMERS", "APP_PAGE")]["url"] == BASE + "dashboard/"
    widget = mounts[("ORDER_DETAILS_WIDGETS", "WIDGET")]
    assert widget["url"] == page + "widget/order"
    assert widget["options"] == {"widgetTarget": {"method": "GET"}}
    assert ("CUSTOMER_DETAILS_WIDGETS", "WIDGET") in mounts
    assert all(e["permissions"] == ["MANAGE_ORDERS"] for e in body["extensions"])


def test_the_manifest_takes_the_hosts_public_url_over_the_request(settings):
    """Saleor fetches the manifest with a client that sends Host without the port (seen with
    the real Dashboard: the app's URLs pointed at port 80 and the installation failed); the
    host's configured public URL is the address the Dashboard reaches."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    assert json.loads(get("dashboard/manifest", host="127.0.0.1").content)["appUrl"] == (
        "http://127.0.0.1" + BASE + "dashboard/"
    )
    public = "http://127.0.0.1:8000" + BASE
    body = json.loads(get("dashboard/manifest", host="127.0.0.1", public_url=public).content)
    assert body["appUrl"] == public + "dashboard/"
    assert body["tokenTargetUrl"] == public + "dashboard/register"
    widgets = [e["url"] for e in body["extensions"] if e["target"] == "WIDGET"]
    assert widgets == [public + "dashboard/widget/order", public + "dashboard/widget/customer"]
    # the navigation entry stays a path from the host root (Saleor requires it relative)
    assert body["extensions"][0]["url"] == BASE + "dashboard/"


def test_older_saleor_gets_more_actions_entries_instead_of_widgets():
    body = json.loads(get("dashboard/manifest", widgets=False).content)
    mounts = {e["mount"]: e["target"] for e in body["extensions"]}
    assert mounts == {
        "NAVIGATION_CUSTOMERS": "APP_PAGE",
        "ORDER_DETAILS_MORE_ACTIONS": "APP_PAGE",
        "CUSTOMER_DETAILS_MORE_ACTIONS": "APP_PAGE",
    }


@pytest.mark.parametrize("path", ["dashboard/", "dashboard/widget/order", "dashboard//x/y"])
def test_every_page_path_serves_the_page_with_its_assets_under_the_plugin(path):
    response = get(path)
    html = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert f'src="{BASE}dashboard/app.js" data-api="{BASE}graphql/"' in html
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "https://" not in html  # nothing from elsewhere


def test_assets_and_methods():
    script = get("dashboard/app.js")
    assert script["Content-Type"].startswith("text/javascript")
    assert b'"notifyReady"' in script.content and b"handshake" in script.content
    assert get("dashboard/app.css")["Content-Type"].startswith("text/css")
    assert get("dashboard/", method="post").status_code == 405
