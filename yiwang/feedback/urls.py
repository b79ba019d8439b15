"""12345 feedback pages and the Open311 GeoReport v2 endpoints."""

from django.urls import path, re_path

from yiwang.feedback import open311, views

app_name = "feedback"
urlpatterns = [
    path("feedback/", views.public, name="public"),
    path("feedback/replies/<str:pk>/", views.public_item, name="public_item"),
    path("feedback/new/", views.new, name="new"),
    path("feedback/mine/", views.mine, name="mine"),
    path("feedback/items/<str:pk>/", views.item, name="item"),
    path("feedback/items/<str:pk>/photos/<str:photo_pk>", views.photo, name="photo"),
    path("feedback/items/<str:pk>/route", views.route, name="route"),
    path("feedback/items/<str:pk>/accept", views.accept, name="accept"),
    path("feedback/items/<str:pk>/transfer", views.transfer, name="transfer"),
    path("feedback/items/<str:pk>/reply", views.reply, name="reply"),
    path("feedback/items/<str:pk>/rate", views.rate, name="rate"),
    path("workbench/feedback/routing/", views.routing, name="routing"),
    path("workbench/feedback/", views.queue, name="queue"),
    path("workbench/feedback/rules/", views.rules, name="rules"),
    # Open311 GeoReport v2: the format is the suffix, as the spec has it.
    re_path(r"^open311/v2/discovery\.(?P<fmt>json|xml)$", open311.discovery, name="open311_discovery"),
    re_path(r"^open311/v2/services\.(?P<fmt>json|xml)$", open311.services_list, name="open311_services"),
    re_path(
        r"^open311/v2/services/(?P<code>[^/]+)\.(?P<fmt>json|xml)$",
        open311.service_definition,
        name="open311_service",
    ),
    re_path(r"^open311/v2/requests\.(?P<fmt>json|xml)$", open311.requests, name="open311_requests"),
    re_path(
        r"^open311/v2/requests/(?P<request_id>[^/]+)\.(?P<fmt>json|xml)$",
        open311.request,
        name="open311_request",
    ),
]
