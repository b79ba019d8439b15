"""Pages of the exchange gateway on the workbench (see gateway_views)."""

from django.urls import path

from yiwang.exchange import gateway_views

app_name = "gateway"
urlpatterns = [
    path("workbench/data/gateway/", gateway_views.keys, name="keys"),
    path("workbench/data/gateway/calls/", gateway_views.calls, name="calls"),
    path("workbench/data/gateway/uses/", gateway_views.uses, name="uses"),
]
