from django.conf import settings
from django.urls import URLPattern, path

from saleor_license_plugin.server import views

urlpatterns: list[URLPattern] = [
    path("graphql/", views.graphql, name="license-graphql"),
    path("activation/", views.activation, name="license-activation"),
    path("reminders/unsubscribe/", views.unsubscribe, name="license-unsubscribe"),
    path("dashboard/", views.dashboard, name="license-dashboard"),
    path("dashboard/<path:rest>", views.dashboard, name="license-dashboard-path"),
    path("portal/", views.portal, name="license-portal"),
    path("portal/<path:rest>", views.portal, name="license-portal-path"),
    path("invoices/download/", views.invoice_download, name="license-invoice-download"),
]
if getattr(settings, "LICENSE_BENCHMARK", False):
    urlpatterns.append(path("bench/lookup/", views.bench_lookup, name="license-bench-lookup"))
