# Interim routes: the catalog pages land in the next commits.
from django.urls import path

from yiwang.core.views import home

app_name = "catalog"
urlpatterns = [path("catalog/", home, name=n) for n in ("search",)] + [
    path("catalog/bundles/", home, name="bundles"),
    path("catalog/departments/", home, name="departments"),
]
