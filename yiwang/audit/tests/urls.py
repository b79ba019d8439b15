"""The audit page renders inside the base layout, which links to other apps' pages. This URLconf gives
those names placeholder views so the audit tests do not depend on the other apps' progress."""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from config.api import api


def placeholder(request):
    return HttpResponse("placeholder")


def _stubs(names):
    return [path(f"stub/{name}/", placeholder, name=name) for name in names]


urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("yiwang.audit.urls")),
    path("", include((_stubs(["search", "bundles", "departments"]), "catalog"))),
    path("", include((_stubs(["account", "logout", "login", "register"]), "identity"))),
    path("", include((_stubs(["track", "my_cases", "notices", "workbench"]), "applications"))),
    path("", include((_stubs(["new", "public"]), "feedback"))),  # the footer's 12345 links
    path("", include("yiwang.core.urls")),
]
