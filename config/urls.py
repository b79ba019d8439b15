from django.contrib import admin
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("yiwang.identity.oidc_views")),  # OpenID Connect provider (docs/sso.md)
    path("", include("yiwang.identity.urls")),
    path("", include("yiwang.catalog.urls")),
    path("", include("yiwang.licences.urls")),
    path("", include("yiwang.licences.wallet_urls")),
    path("", include("yiwang.applications.urls")),
    path("", include("yiwang.audit.urls")),
    path("", include("yiwang.exchange.urls")),  # /workbench/data/ pages
    path("", include("yiwang.core.urls")),
    # --- exchange gateway ---
    path("", include("yiwang.exchange.gateway_urls")),
    # the citizen's data-use record and the stewards' answers (docs/data-tracker.md)
    path("", include("yiwang.exchange.tracker_urls")),
    path("", include("yiwang.opendata.urls")),  # open data portal, CKAN API, DCAT
    # 互联网+监管: the supervision workbench and the public 双随机、一公开 (docs/supervision.md)
    path("", include("yiwang.supervision.urls")),
    path("", include("yiwang.feedback.urls")),  # 12345 complaints and suggestions, Open311
    # credit tiers, the serious-dishonesty list, credit repair, risk warnings (docs/supervision.md)
    path("", include("yiwang.supervision.credit_urls")),
]

handler404 = "yiwang.core.views.not_found"
handler500 = "yiwang.core.views.server_error"
