"""The open data portal (/data/), its catalog in DCAT-AP, the CKAN Action API, and the pages
where data stewards decide applications."""

from django.urls import path

from yiwang.opendata import views

app_name = "opendata"
urlpatterns = [
    path("data/", views.datasets, name="datasets"),
    path("data/datasets/<str:code>/", views.dataset, name="dataset"),
    path("data/datasets/<str:code>/download/<str:kind>", views.download, name="download"),
    path("data/datasets/<str:code>/apply/", views.apply, name="apply"),
    path("data/organizations/", views.organizations, name="organizations"),
    path("data/organizations/<str:code>/", views.organization, name="organization"),
    path("data/themes/", views.themes, name="themes"),
    path("data/themes/<str:code>/", views.theme, name="theme"),
    path("data/tags/", views.tags, name="tags"),
    path("data/statistics/", views.statistics, name="statistics"),
    path("data/account/", views.my_data, name="my_data"),
    path("workbench/open-data/", views.steward, name="steward"),
    path("catalog.ttl", views.catalog_ttl, name="catalog_ttl"),
    path("catalog.jsonld", views.catalog_jsonld, name="catalog_jsonld"),
    path("api/3/action/<slug:action>", views.ckan_action, name="ckan_action"),
    path("api/action/<slug:action>", views.ckan_action, name="ckan_action_unversioned"),
]
