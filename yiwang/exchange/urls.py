"""Pages of the data sharing exchange for officials (``/workbench/data/``)."""

from django.urls import path

from yiwang.exchange import views

app_name = "exchange"
urlpatterns = [
    path("workbench/data/", views.resources, name="resources"),
    path("workbench/data/resources/new/", views.resource_new, name="resource_new"),
    path("workbench/data/resources/<str:code>/", views.resource, name="resource"),
    path("workbench/data/resources/<str:code>/edit/", views.resource_edit, name="resource_edit"),
    path("workbench/data/resources/<str:code>/rows/", views.resource_rows, name="resource_rows"),
    path("workbench/data/resources/<str:code>/request/", views.resource_request, name="resource_request"),
    path("workbench/data/resources/<str:code>/grant/", views.resource_grant, name="resource_grant"),
    path("workbench/data/requests/", views.requests, name="requests"),
    path("workbench/data/requests/<str:pk>/", views.request_page, name="request"),
    path("workbench/data/grants/", views.grants, name="grants"),
    path("workbench/data/grants/<str:pk>/", views.grant, name="grant"),
    path("workbench/data/systems/", views.systems, name="systems"),
    path("workbench/data/systems/<str:pk>/", views.system, name="system"),
    path("workbench/data/demands/", views.demands, name="demands"),
    path("workbench/data/demands/<str:pk>/", views.demand, name="demand"),
]
