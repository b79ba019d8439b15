"""Supervision's pages: the workbench of supervising departments and the public 双随机、一公开."""

from django.urls import path

from yiwang.supervision import views

app_name = "supervision"
urlpatterns = [
    path("workbench/supervision/", views.workbench, name="workbench"),
    path("workbench/supervision/items/new", views.item_new, name="item_new"),
    path("workbench/supervision/items/<int:pk>/", views.item, name="item"),
    path("workbench/supervision/laws/", views.laws, name="laws"),
    path("workbench/supervision/laws/<int:pk>/", views.law, name="law"),
    path("workbench/supervision/plans/new", views.plan_new, name="plan_new"),
    path("workbench/supervision/plans/<int:pk>/", views.plan, name="plan"),
    path("workbench/supervision/inspections/<int:pk>/", views.inspection, name="inspection"),
    path("supervision/", views.draws, name="draws"),
    path("supervision/draws/<int:pk>/", views.draw, name="draw"),
    path("supervision/results/", views.results, name="results"),
    path("supervision/entities/<str:code>/", views.entity, name="entity"),
]
