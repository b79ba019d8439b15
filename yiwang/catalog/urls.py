from django.urls import path

from yiwang.catalog import views

app_name = "catalog"
urlpatterns = [
    path("services/", views.search_page, name="search"),
    path("services/region/", views.region_switch, name="region"),
    path("services/guide/", views.guide_page, name="guide"),
    path("services/themes/", views.themes_page, name="themes"),
    path("services/items/<str:code>/", views.item_page, name="item"),
    path("services/bundles/", views.bundles_page, name="bundles"),
    path("services/bundles/<slug:code>/", views.bundle_page, name="bundle"),
    path("services/departments/", views.departments_page, name="departments"),
    path("services/departments/<str:code>/", views.department_page, name="department"),
]
