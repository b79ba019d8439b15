"""Pages of credit supervision and risk warnings (included from config/urls.py)."""

from django.urls import path

from yiwang.supervision import credit_views

app_name = "credit"  # its own namespace beside supervision's (one include each)
urlpatterns = [
    path("workbench/supervision/credit/<str:code>/", credit_views.credit_entity, name="entity"),
    path("workbench/supervision/warnings/", credit_views.warnings, name="warnings"),
    path("workbench/supervision/warnings/<int:pk>/", credit_views.warning, name="warning"),
    path("supervision/credit/<str:code>/", credit_views.credit_record, name="record"),
    path("supervision/dishonesty-list/", credit_views.dishonesty_list, name="list"),
    path("supervision/dishonesty-list/<int:pk>/repair", credit_views.repair_apply, name="repair"),
]
