"""The Dashboard app on a real Saleor: the token the Dashboard hands the page is Saleor's JWT
for this app (``create_access_token_for_app``: the app's permissions intersected with the
user's). The plugin's API accepts it only for this app, active, unexpired, correctly signed and
with MANAGE_ORDERS; anything else is refused. Saleor accepts the served manifest as is."""

import datetime
import json

import jwt
import pytest
from django.test import override_settings
from freezegun import freeze_time
from saleor.app.manifest_validations import clean_manifest_data
from saleor.app.models import App
from saleor.core.jwt import create_access_token_for_app, jwt_decode, jwt_encode
from saleor.permission.models import Permission

from saleor_license_plugin.http.dashboard import APP_ID
from saleor_license_plugin.saleor_host.compat import dashboard_widgets_supported

from license_fixtures import PLUGIN_ID, gid

pytestmark = pytest.mark.django_db

BASE = f"/plugins/global/{PLUGIN_ID}/"
STAFF_QUERY = {"query": "{ licenseStatistics { total } }"}
ACTION = {
    "query": 'mutation { suspendLicense(id: "TGljZW5zZToxMjM0NQ==", reason: "x") '
    "{ errors { code } } }"
}


def manage_orders():
    return Permission.objects.get(codename="manage_orders")


@pytest.fixture
def dashboard_app(license_plugin, channel_USD):
    app = App.objects.create(name="Software licenses", identifier=APP_ID, is_active=True)
    app.permissions.add(manage_orders())
    return app


@pytest.fixture
def staff(staff_user, permission_group_manage_orders):
    permission_group_manage_orders.user_set.add(staff_user)
    return staff_user


def call(client, token, body=STAFF_QUERY):
    response = client.post(
        BASE + "graphql/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    return response.json()


def refused(reply):
    codes = [e["extensions"]["exception"]["code"] for e in reply.get("errors", [])]
    return codes == ["PERMISSION_DENIED"]


def test_the_app_token_of_a_staff_user_is_accepted(client, dashboard_app, staff):
    token = create_access_token_for_app(dashboard_app, staff)
    assert jwt_decode(token)["app"] == gid("App", dashboard_app.pk)
    assert call(client, token)["data"]["licenseStatistics"] == {"total": 0}
    # and the staff mutations run (here: an unknown license, not a permission error)
    assert call(client, token, ACTION)["data"]["suspendLicense"]["errors"] == [
        {"code": "NOT_FOUND"}
    ]


def test_an_expired_token_is_refused(client, dashboard_app, staff):
    with freeze_time(datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(minutes=10)):
        token = create_access_token_for_app(dashboard_app, staff)
    assert refused(call(client, token))


def test_another_apps_token_is_refused(client, dashboard_app, staff):
    other = App.objects.create(name="Other", identifier="someone.else", is_active=True)
    other.permissions.add(manage_orders())
    assert refused(call(client, create_access_token_for_app(other, staff)))


def test_a_token_of_this_app_once_deactivated_or_removed_is_refused(client, dashboard_app, staff):
    token = create_access_token_for_app(dashboard_app, staff)
    App.objects.filter(pk=dashboard_app.pk).update(is_active=False)
    assert refused(call(client, token))
    App.objects.filter(pk=dashboard_app.pk).update(
        is_active=True, removed_at=datetime.datetime.now(tz=datetime.UTC)
    )
    assert refused(call(client, token))


def test_a_user_without_manage_orders_is_refused(client, dashboard_app, staff_user):
    token = create_access_token_for_app(dashboard_app, staff_user)  # no MANAGE_ORDERS
    assert jwt_decode(token)["permissions"] == []
    assert refused(call(client, token))
    assert call(client, token, ACTION)["data"]["suspendLicense"]["errors"] == [
        {"code": "PERMISSION_DENIED"}
    ]


def test_an_app_without_manage_orders_is_refused(client, license_plugin, channel_USD, staff):
    app = App.objects.create(name="Software licenses", identifier=APP_ID, is_active=True)
    assert refused(call(client, create_access_token_for_app(app, staff)))  # intersection: none


def test_a_forged_signature_is_refused(client, dashboard_app, staff):
    payload = jwt_decode(create_access_token_for_app(dashboard_app, staff))
    forged = jwt.encode(payload, "not Saleor's key", algorithm="HS256")
    assert refused(call(client, forged))
    header, body, signature = create_access_token_for_app(dashboard_app, staff).split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    claims["permissions"] = ["MANAGE_ORDERS", "MANAGE_APPS"]
    tampered = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    assert refused(call(client, f"{header}.{tampered}.{signature}"))


def test_a_token_claiming_this_app_with_a_wrong_id_is_refused(client, dashboard_app, staff):
    payload = jwt_decode(create_access_token_for_app(dashboard_app, staff))
    for claim in (gid("App", dashboard_app.pk + 1000), "garbage", None):
        payload["app"] = claim
        assert refused(call(client, jwt_encode(payload)))


@override_settings(ALLOWED_HOSTS=["*"])
def test_saleor_accepts_the_served_manifest(client, license_plugin, channel_USD):
    response = client.get(BASE + "dashboard/manifest", HTTP_HOST="shop.example.com")
    assert response.status_code == 200
    manifest = response.json()
    mounts = {e["mount"]: e["target"] for e in manifest["extensions"]}
    if dashboard_widgets_supported():  # 3.22+
        assert mounts["ORDER_DETAILS_WIDGETS"] == "WIDGET"
    else:
        assert "ORDER_DETAILS_MORE_ACTIONS" in mounts and "ORDER_DETAILS_WIDGETS" not in mounts
    register = client.post(BASE + "dashboard/register", {"auth_token": "t"})
    assert register.status_code == 200  # the installation's token handover
    clean_manifest_data(manifest, raise_for_saleor_version=True)  # raises on anything wrong
    page = client.get(BASE + "dashboard/")
    assert page.status_code == 200 and b"app.js" in page.content


@override_settings(ALLOWED_HOSTS=["*"], PUBLIC_URL="https://shop.example.com/")
def test_the_manifest_uses_saleors_public_url(client, license_plugin, channel_USD):
    """Saleor fetches manifests with a Host header that lacks the port; with PUBLIC_URL set the
    manifest's URLs are Saleor's public ones, whatever Host the fetch sent."""
    manifest = client.get(BASE + "dashboard/manifest", HTTP_HOST="127.0.0.1").json()
    assert manifest["appUrl"] == f"https://shop.example.com{BASE}dashboard/"
    assert manifest["tokenTargetUrl"] == f"https://shop.example.com{BASE}dashboard/register"


@override_settings(ALLOWED_HOSTS=["*"], PUBLIC_URL=None)
def test_without_public_url_the_manifest_follows_the_request(client, license_plugin, channel_USD):
    manifest = client.get(BASE + "dashboard/manifest", HTTP_HOST="shop.example.com:8443").json()
    assert manifest["appUrl"] == f"http://shop.example.com:8443{BASE}dashboard/"
