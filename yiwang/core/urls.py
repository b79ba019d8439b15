from django.urls import path

from yiwang.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("preferences/care-mode", views.care_mode, name="care_mode"),
    path("accessibility", views.accessibility, name="accessibility"),
]
